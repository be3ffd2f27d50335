"""The classic variants plugin (`plugins/ganzoo_classic`): every loss against values
computed by hand on tiny tensors, the DCGAN networks, and every recipe trained a few steps
through the CLI."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from loss_doubles import FAKE, REAL, context
from torch import nn

import ganzoo
from conftest import REPO, small_run
from ganzoo.cli import main
from ganzoo_classic.dcgan import DCGAN
from ganzoo_classic.energy import Autoencoder, BEGANLoss, EBGANLoss, ELUAutoencoder, pull_away
from ganzoo_classic.losses import DRAGANLoss, HingeLoss, LSGANLoss, WGANGPLoss, WGANLoss


class Linear(nn.Module):
    """D(x) = x . w: D(REAL) = [-1.5, 2.5], D(FAKE) = [-1, -1] for w = [0.5, -1]."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.5, -1.0]))

    def forward(self, x, labels=None):
        return (x * self.w).sum(1, keepdim=True)


class Quadratic(nn.Module):
    """D(x) = a |x|^2 / 2, whose gradient a x has a norm that differs from point to point."""

    def __init__(self, a=0.3):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(a))

    def forward(self, x, labels=None):
        return 0.5 * self.a * (x**2).sum(1, keepdim=True)


def test_lsgan_by_hand():
    d = LSGANLoss().discriminator_loss(context(Linear()))
    # 1/2 mean((-1.5 - 1)^2, (2.5 - 1)^2) + 1/2 mean((-1)^2, (-1)^2) = 1/2 * 4.25 + 1/2
    assert d.loss.item() == pytest.approx(2.625)
    assert d.logs["d_real"].item() == pytest.approx(0.5) and d.logs["d_fake"].item() == pytest.approx(-1.0)
    assert LSGANLoss().generator_loss(context(Linear())).loss.item() == pytest.approx(2.0)  # 1/2 (-1 - 1)^2


def test_wgan_by_hand_and_its_weights_are_clipped_after_each_critic_update():
    loss = WGANLoss(clip=0.01)
    ctx = context(Linear())
    d = loss.discriminator_loss(ctx)
    assert d.loss.item() == pytest.approx(-1.5)  # mean D(G(z)) - mean D(x) = -1 - 0.5
    assert d.logs["wasserstein"].item() == pytest.approx(1.5)
    assert loss.generator_loss(ctx).loss.item() == pytest.approx(1.0)
    loss.after_discriminator_step(ctx)
    assert ctx.discriminator.w.tolist() == pytest.approx([0.01, -0.01])


def test_hinge_by_hand():
    # mean(relu(1 + 1.5), relu(1 - 2.5)) + mean(relu(1 - 1), relu(1 - 1)) = 1.25 + 0
    assert HingeLoss().discriminator_loss(context(Linear())).loss.item() == pytest.approx(1.25)
    assert HingeLoss().generator_loss(context(Linear())).loss.item() == pytest.approx(1.0)


def penalty_by_hand(points: torch.Tensor, a: float) -> float:
    """mean over points of (|grad D| - 1)^2 for D(x) = a |x|^2 / 2, whose gradient is a x."""
    return sum((a * math.hypot(*p) - 1) ** 2 for p in points.tolist()) / len(points)


def test_wgan_gp_by_hand_with_one_interpolation_coefficient_per_sample():
    torch.manual_seed(7)
    out = WGANGPLoss(weight=10.0).discriminator_loss(context(Quadratic(0.3)))
    torch.manual_seed(7)
    epsilon = torch.rand(2, 1)  # the only draw the loss makes (NoNoise's latents draw nothing)
    assert epsilon[0] != epsilon[1]
    mixed = epsilon * REAL + (1 - epsilon) * FAKE
    d_real = [0.15 * 5, 0.15 * 10]  # a |x|^2 / 2 for |x|^2 = 5, 10
    d_fake = [0.15 * 1, 0.15 * 4]
    penalty = penalty_by_hand(mixed, 0.3)
    assert out.logs["penalty"].item() == pytest.approx(penalty, rel=1e-5)
    assert out.loss.item() == pytest.approx(sum(d_fake) / 2 - sum(d_real) / 2 + 10 * penalty, rel=1e-5)
    # One coefficient for the whole batch would give another penalty: the test can tell them apart.
    shared = epsilon[0] * REAL + (1 - epsilon[0]) * FAKE
    assert penalty_by_hand(shared, 0.3) != pytest.approx(penalty, rel=1e-3)
    # The penalty is differentiable: it moves the critic.
    out.loss.backward()


def test_dragan_by_hand():
    torch.manual_seed(3)
    out = DRAGANLoss(weight=10.0, spread=0.5).discriminator_loss(context(Linear()))
    torch.manual_seed(3)
    uniform, alpha = torch.rand(2, 2), torch.rand(2, 1)  # the loss's two draws, in order
    # D is linear, so its gradient is w everywhere: the penalty is (|w| - 1)^2 wherever the points are.
    penalty = (math.hypot(0.5, -1.0) - 1) ** 2
    gan = (
        F.binary_cross_entropy_with_logits(torch.tensor([-1.5, 2.5]), torch.ones(2))
        + F.binary_cross_entropy_with_logits(torch.tensor([-1.0, -1.0]), torch.zeros(2))
    ).item()
    assert out.logs["penalty"].item() == pytest.approx(penalty, rel=1e-5)
    assert out.loss.item() == pytest.approx(gan + 10 * penalty, rel=1e-5)
    # With a curved D the perturbed points matter: x + alpha * 0.5 * std(x) * u.
    torch.manual_seed(3)
    curved = DRAGANLoss(weight=1.0).discriminator_loss(context(Quadratic(0.3)))
    points = REAL + alpha * 0.5 * REAL.std() * uniform
    assert curved.logs["penalty"].item() == pytest.approx(penalty_by_hand(points, 0.3), rel=1e-5)
    expected_g = F.binary_cross_entropy_with_logits(torch.tensor([-1.0, -1.0]), torch.ones(2)).item()
    assert DRAGANLoss().generator_loss(context(Linear())).loss.item() == pytest.approx(expected_g)


class HalfAutoencoder(nn.Module):
    """An autoencoder D that reconstructs x as x / 2."""

    def forward(self, x, labels=None):
        return 0.5 * x


def test_ebgan_by_hand():
    # Energy = mean over pixels of (x/2 - x)^2 = x^2 / 4: REAL [0.625, 1.25], FAKE [0.125, 0.5].
    out = EBGANLoss(margin=1.0).discriminator_loss(context(HalfAutoencoder()))
    assert out.loss.item() == pytest.approx(0.9375 + (0.875 + 0.5) / 2)  # mean E(x) + mean relu(1 - E(G(z)))
    assert out.logs["energy_fake"].item() == pytest.approx(0.3125)
    assert EBGANLoss().generator_loss(context(HalfAutoencoder())).loss.item() == pytest.approx(0.3125)


def test_the_pull_away_term_by_hand():
    assert pull_away(torch.eye(3)).item() == pytest.approx(0.0)  # orthogonal codes
    assert pull_away(torch.tensor([[1.0, 2.0]] * 4)).item() == pytest.approx(1.0)  # all alike
    assert pull_away(torch.tensor([[1.0, 0.0], [1.0, 1.0]])).item() == pytest.approx(0.5)  # cos^2 = 1/2 both ways


class CodedHalfAutoencoder(HalfAutoencoder):
    """HalfAutoencoder that also gives a code: the input plus one."""

    def forward(self, x, labels=None, code=False):
        return (0.5 * x, x + 1) if code else 0.5 * x


def test_ebgan_pt_adds_the_weighted_pull_away_term_to_g_only():
    out = EBGANLoss(margin=1.0, pt_weight=0.1).generator_loss(context(CodedHalfAutoencoder()))
    # codes FAKE + 1 = [1, 2] and [-1, 1]: cos^2 = 1 / (5 * 2) = 0.1, both ways
    assert out.logs["pull_away"].item() == pytest.approx(0.1)
    assert out.loss.item() == pytest.approx(0.3125 + 0.1 * 0.1)
    same = EBGANLoss(margin=1.0, pt_weight=0.1).discriminator_loss(context(CodedHalfAutoencoder()))
    assert same.loss.item() == pytest.approx(0.9375 + (0.875 + 0.5) / 2)  # D's loss has no PT


def test_the_autoencoder_gives_its_code_for_the_pull_away_term():
    d = Autoencoder(width=8, code_dim=16).build_discriminator(ganzoo.DataInfo(shape=(1, 28, 28)))
    d.eval()
    x = torch.zeros(4, 1, 28, 28)
    reconstruction, code = d(x, code=True)
    assert reconstruction.shape == x.shape and code.shape == (4, 16) and torch.equal(reconstruction, d(x))


def test_began_networks_are_elu_autoencoders_without_batch_norm():
    architecture = ELUAutoencoder(width=8, code_dim=16, latent_dim=12)
    info = ganzoo.DataInfo(shape=(1, 28, 28))
    g, d = architecture.build_generator(info), architecture.build_discriminator(info)
    z = architecture.sample_latent(5, device=torch.device("cpu"))
    assert z.shape == (5, 12) and z.abs().max() <= 1  # U(-1, 1)
    images = g(z)
    reconstruction, code = d(images, code=True)
    assert images.shape == reconstruction.shape == (5, 1, 28, 28) and code.shape == (5, 16)
    for network in (g, d):
        kinds = {type(m) for m in network.modules()}
        assert nn.ELU in kinds and not kinds & {nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.Tanh}
    upsampled = [m for m in g.modules() if isinstance(m, nn.Upsample)]
    assert len(upsampled) == 2 and all(m.mode == "nearest" for m in upsampled)  # 7 -> 14 -> 28


def test_began_by_hand_and_k_follows_the_equilibrium():
    loss = BEGANLoss(gamma=0.5, lambda_k=0.001)
    ctx = context(HalfAutoencoder())
    # L = mean |x/2 - x| = mean |x| / 2: L(x) = mean(0.75, 1.0) = 0.875, L(G(z)) = mean(0.25, 0.5) = 0.375.
    first = loss.discriminator_loss(ctx)
    assert first.loss.item() == pytest.approx(0.875)  # k starts at 0
    assert first.logs["convergence"].item() == pytest.approx(0.875 + abs(0.5 * 0.875 - 0.375))
    assert loss.generator_loss(ctx).loss.item() == pytest.approx(0.375)
    loss.after_generator_step(ctx)
    assert loss.k.item() == pytest.approx(0.001 * (0.5 * 0.875 - 0.375))
    second = loss.discriminator_loss(ctx)
    assert second.loss.item() == pytest.approx(0.875 - loss.k.item() * 0.375)
    assert second.logs["k"].item() == pytest.approx(6.25e-5)
    assert set(loss.state_dict()) == {"k", "balance"}  # saved with the weights and checkpoints


@pytest.mark.parametrize("shape, side_counts", [((1, 28, 28), (2, 7)), ((3, 32, 32), (3, 4)), ((3, 64, 64), (4, 4))])
@pytest.mark.parametrize("d_norm", ["batch", "none", "spectral"])
def test_dcgan_networks_fit_the_data(shape, side_counts, d_norm):
    architecture = DCGAN(width=8, d_norm=d_norm)
    info = ganzoo.DataInfo(shape=shape)
    g, d = architecture.build_generator(info), architecture.build_discriminator(info)
    z = architecture.sample_latent(4, device=torch.device("cpu"))
    images = g(z)
    assert images.shape == (4, *shape) and images.abs().max() <= 1
    assert d(images).shape == (4, 1)
    transposed = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(transposed) == side_counts[0] and g.shape[1] == side_counts[1]
    batch_norms = [m for m in d.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bool(batch_norms) == (d_norm == "batch")
    spectral = [m for m in d.modules() if hasattr(m, "parametrizations")]
    assert bool(spectral) == (d_norm == "spectral")
    weights = torch.cat([m.weight.detach().flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert weights.std().item() == pytest.approx(0.02, rel=0.25)  # the paper's N(0, 0.02)


def test_dcgan_refuses_data_that_is_not_square_images():
    with pytest.raises(ganzoo.GanzooError, match="square images"):
        DCGAN().build_generator(ganzoo.DataInfo(shape=(2,)))


# --------------------------------------------------------------------------- through the CLI

VARIANTS = ["dcgan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "ebgan", "began"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_recipe_trains_a_few_steps(variant, digits, tmp_path, capsys):
    assert main(["check", f"recipes/{variant}_fashion.yaml"]) == 0
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / f"{variant}_mnist.yaml"),
                f"data.root={digits}",
                "train.max_steps=2",
                "train.batch_size=16",
                "model.width=8",
                *small_run(tmp_path),
            ]
        )
        == 0
    )
    folder = next(tmp_path.iterdir())
    weights = torch.load(folder / "weights.pt", weights_only=True)
    assert weights["step"] == 2
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert all(math.isfinite(v) for row in rows for v in row.values())
    if variant == "wgan":  # the trainer applied the clipping after every critic update
        names = dict(DCGAN(width=8).build_discriminator(ganzoo.DataInfo(shape=(1, 28, 28))).named_parameters())
        clipped = [weights["discriminator"][name].abs().max().item() for name in names]
        assert max(clipped) <= 0.01


def test_plugins_lists_the_variants(capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    names = {(c["kind"], c["name"]) for c in listing["components"] if c["plugin"] == "classic"}
    assert names == {
        ("architecture", "dcgan"),
        ("architecture", "autoencoder"),
        ("architecture", "elu_autoencoder"),
        ("callback", "time_budget"),
        *(("loss", n) for n in ["lsgan", "wgan", "wgan_gp", "dragan", "hinge", "ebgan", "began"]),
    }


def test_time_budget_ends_a_run_cleanly(toy_recipe, tmp_path, capsys):
    assert (
        main(
            [
                "run",
                str(toy_recipe),
                "train.epochs=50",
                "callbacks=[{name: time_budget, seconds: 0.001}]",
                "--no-progress",
            ]
        )
        == 0
    )
    folder = next((tmp_path / "runs").iterdir())
    weights = torch.load(folder / "weights.pt", weights_only=True)
    assert weights["status"] == "finished" and weights["step"] == 1  # stopped after the first step, with its weights
