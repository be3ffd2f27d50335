"""The vanilla plugin reproduces the source article's script exactly.

``article_script`` below is the article's training loop written the way the article writes
it: torchvision MNIST through a DataLoader with ToTensor + Normalize, nn.Sequential models,
BCELoss, Adam 2e-4, batch 32, one D step then one G step with fresh noise. ganzoo, run from
``recipes/vanilla_mnist.yaml`` through the CLI with the same seed, must end with bitwise
identical weights.
"""

from __future__ import annotations

import torch
import torchvision
from torch import nn

from conftest import REPO, SHARED_DATA, needs_shared_mnist, run_folder, write_idx_mnist
from ganzoo.cli import main

RECIPE = str(REPO / "recipes" / "vanilla_mnist.yaml")


def article_script(root, steps, seed=0, generator_loss="non_saturating", noise="normal"):
    torch.manual_seed(seed)
    latent_size, hidden_size, image_size, batch_size = 64, 256, 784, 32
    G = nn.Sequential(
        nn.Linear(latent_size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, image_size),
        nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Linear(image_size, hidden_size),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden_size, hidden_size),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden_size, 1),
        nn.Sigmoid(),
    )
    criterion = nn.BCELoss()
    d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
    g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)
    transform = torchvision.transforms.Compose(
        [torchvision.transforms.ToTensor(), torchvision.transforms.Normalize(mean=(0.5,), std=(0.5,))]
    )
    mnist = torchvision.datasets.MNIST(root=str(root), train=True, transform=transform, download=False)
    data_loader = torch.utils.data.DataLoader(dataset=mnist, batch_size=batch_size, shuffle=True)

    def sample_z(n):
        return torch.randn(n, latent_size) if noise == "normal" else torch.rand(n, latent_size) * 2 - 1

    def reset_grad():
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()

    step = 0
    while step < steps:
        for images, _ in data_loader:
            images = images.reshape(images.size(0), -1)
            real_labels = torch.ones(images.size(0), 1)
            fake_labels = torch.zeros(images.size(0), 1)

            outputs = D(images)
            d_loss_real = criterion(outputs, real_labels)
            z = sample_z(images.size(0))
            fake_images = G(z)
            outputs = D(fake_images)
            d_loss_fake = criterion(outputs, fake_labels)
            d_loss = d_loss_real + d_loss_fake
            reset_grad()
            d_loss.backward()
            d_optimizer.step()

            z = sample_z(images.size(0))
            fake_images = G(z)
            outputs = D(fake_images)
            if generator_loss == "non_saturating":
                g_loss = criterion(outputs, real_labels)
            else:  # the paper's minimax form: minimise log(1 - D(G(z)))
                g_loss = torch.log(1 - outputs).mean()
            reset_grad()
            g_loss.backward()
            g_optimizer.step()
            step += 1
            if step == steps:
                break
    return G, D


def ganzoo_weights(capsys, tmp_path, root, steps, *overrides):
    status = main(
        [
            "run",
            RECIPE,
            f"data.root={root}",
            f"train.max_steps={steps}",
            "device=cpu",
            f"run.dir={tmp_path / 'runs'}",
            "wandb.mode=disabled",
            "--no-progress",
            *overrides,
        ]
    )
    assert status == 0
    weights = torch.load(run_folder(capsys.readouterr().out) / "weights.pt", weights_only=True)
    return weights["generator"], weights["discriminator"]


def assert_same_weights(module, state_dict, exact=True):
    ours = list(state_dict.values())
    theirs = list(module.state_dict().values())
    assert [t.shape for t in ours] == [t.shape for t in theirs]
    for mine, reference in zip(ours, theirs):
        if exact:
            assert torch.equal(mine, reference)
        else:
            torch.testing.assert_close(mine, reference, rtol=1e-4, atol=1e-5)


def test_vanilla_recipe_reproduces_the_article_bitwise(tmp_path, capsys):
    # 320 images are 10 batches an epoch: 25 steps cross two epoch boundaries and so also
    # check that every epoch reshuffles exactly like the DataLoader.
    root = write_idx_mnist(tmp_path / "data", n_train=320)
    G, D = article_script(root, steps=25)
    g_state, d_state = ganzoo_weights(capsys, tmp_path, root, 25)
    assert_same_weights(G, g_state)
    assert_same_weights(D, d_state)


def test_uniform_noise_reproduces_the_article_variant(tmp_path, capsys):
    root = write_idx_mnist(tmp_path / "data", n_train=96)
    G, D = article_script(root, steps=6, noise="uniform", seed=3)
    g_state, d_state = ganzoo_weights(capsys, tmp_path, root, 6, "model.noise=uniform", "seed=3")
    assert_same_weights(G, g_state)
    assert_same_weights(D, d_state)


def test_minimax_generator_loss_matches_log_one_minus_d(tmp_path, capsys):
    # BCE computes log(1 - D) with log1p, the article-style formula with log: equal to
    # float rounding, not bitwise.
    root = write_idx_mnist(tmp_path / "data", n_train=96)
    G, D = article_script(root, steps=6, generator_loss="minimax")
    g_state, d_state = ganzoo_weights(capsys, tmp_path, root, 6, "loss.non_saturating=false")
    assert_same_weights(G, g_state, exact=False)
    assert_same_weights(D, d_state, exact=False)
    # ...and it really is a different objective from the default.
    g_default, _ = ganzoo_weights(capsys, tmp_path, root, 6)
    assert not torch.equal(next(iter(g_default.values())), next(iter(g_state.values())))


@needs_shared_mnist
def test_reproduces_the_article_on_real_mnist(tmp_path, capsys):
    G, D = article_script(SHARED_DATA, steps=30)
    g_state, d_state = ganzoo_weights(capsys, tmp_path, SHARED_DATA, 30)
    assert_same_weights(G, g_state)
    assert_same_weights(D, d_state)
