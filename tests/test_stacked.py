"""Stacked-MNIST (the dataset), its mode count (the metric and its extractor) and PacGAN's
packing. The mode count is checked on constructed samples with known answers, through a
stub classifier with known outputs: the real MNIST classifier is not trained here, except
once on 384 random digits for the CLI test (a second or two)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import ganzoo
import ganzoo_datasets
from conftest import REPO, run_folder, small_run, write_idx_mnist
from ganzoo.api.metrics import EvalData, MetricContext
from ganzoo.cli import main
from ganzoo_datasets.stacked import StackedMNIST, stack_digits
from ganzoo_metrics.stacked import (
    MnistChannels,
    StackedModes,
    joint_logits,
    mode_histogram,
)
from ganzoo_pacgan import Pac, PackedDiscriminator, pack
from ganzoo_vanilla.losses import BCELoss

CPU = torch.device("cpu")


# --------------------------------------------------------------------------- the dataset


def digit_images(labels: torch.Tensor) -> torch.Tensor:
    """28x28 'digits' whose every pixel is 10 * label + 5: the stub classifier reads them back."""
    return (labels.to(torch.uint8) * 10 + 5).view(-1, 1, 1).expand(-1, 28, 28).contiguous()


def test_stacking_draws_three_digits_per_image_labelled_by_their_combination():
    labels = torch.arange(10).repeat(20)
    data = stack_digits(digit_images(labels), labels, size=20000, seed=3)
    assert data.samples.shape == (20000, 3, 28, 28) and data.samples.dtype == torch.uint8
    assert data.num_classes == 1000 and data.class_names[7] == "007"
    channel_digits = (data.samples[:, :, 0, 0].long() - 5) // 10  # (N, 3), first channel first
    assert torch.equal(data.labels, channel_digits[:, 0] * 100 + channel_digits[:, 1] * 10 + channel_digits[:, 2])
    assert len(data.labels.unique()) == 1000  # 20,000 draws from 1,000 equally likely modes


def test_stacking_is_deterministic_from_its_seed():
    labels = torch.arange(10).repeat(5)
    images = digit_images(labels)
    one, again, other = (stack_digits(images, labels, 100, seed) for seed in (1, 1, 2))
    assert torch.equal(one.samples, again.samples) and torch.equal(one.labels, again.labels)
    assert not torch.equal(one.labels, other.labels)


def test_the_dataset_builds_from_mnist_files(tmp_path):
    root = write_idx_mnist(tmp_path, n_train=40, n_test=24)
    registry_dataset = StackedMNIST(root=str(root), size=300, seed=0)
    data = registry_dataset.load()
    assert data.samples.shape == (300, 3, 28, 28)
    train = ganzoo_datasets.MNIST(root=str(root), split="train").load()
    test = ganzoo_datasets.MNIST(root=str(root), split="test").load()
    pool = torch.cat([train.samples[:, 0], test.samples[:, 0]])
    pool_labels = torch.cat([train.labels, test.labels]).long()
    # every channel is one of the 64 digits (train and test together), and the label spells their classes
    matches = (data.samples.unsqueeze(2) == pool.view(1, 1, -1, 28, 28)).flatten(3).all(3)  # (N, 3, 64)
    assert bool(matches.any(2).all())
    digits = pool_labels[matches.float().argmax(2)]
    assert torch.equal(data.labels, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    test_only = StackedMNIST(root=str(root), size=50, digits="test").load()
    assert bool(
        (test_only.samples.unsqueeze(2) == test.samples[:, 0].view(1, 1, -1, 28, 28)).flatten(3).all(3).any(2).all()
    )


# --------------------------------------------------------------------------- counting modes


def test_every_mode_once_or_evenly_is_all_1000_with_zero_kl():
    assert mode_histogram(torch.arange(1000).repeat(26), 1000) == (1000, 0.0)


def test_exactly_ten_modes():
    covered, kl = mode_histogram(torch.tensor([0, 111, 222, 333, 444, 555, 666, 777, 888, 999]).repeat(2600), 1000)
    assert covered == 10 and kl == pytest.approx(math.log(100))


def test_one_mode():
    covered, kl = mode_histogram(torch.full((26000,), 42), 1000)
    assert covered == 1 and kl == pytest.approx(math.log(1000))


def test_kl_of_a_known_histogram():
    # shares 1/2, 1/4, 1/4 over three modes of 1000: sum p log(1000 p)
    modes = torch.tensor([5] * 2 + [6] + [7])
    expected = 0.5 * math.log(500) + 2 * 0.25 * math.log(250)
    assert mode_histogram(modes, 1000) == (3, pytest.approx(expected))


def test_joint_logits_combine_the_channels():
    torch.manual_seed(0)
    channels = [torch.randn(50, 10) for _ in range(3)]
    joint = joint_logits(channels)
    assert joint.shape == (50, 1000)
    assert torch.allclose(joint.logsumexp(1), torch.zeros(50), atol=1e-5)  # a distribution over the 1000 modes
    best = [c.argmax(1) for c in channels]
    assert torch.equal(joint.argmax(1), best[0] * 100 + best[1] * 10 + best[2])


class PixelClassifier(torch.nn.Module):
    """A stub of the MNIST classifier: reads the digit off a pixel made by digit_images."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        digit = ((x[:, 0, 0, 0] + 1) * 127.5 - 5).round().long() // 10  # back from [-1, 1]
        logits = torch.nn.functional.one_hot(digit, 10).float() * 20
        return torch.ones(len(x), 128), logits


def stub_extractor() -> MnistChannels:
    extractor = MnistChannels()
    extractor.trained = SimpleNamespace(
        network=PixelClassifier(), accuracy=1.0, held_out="a stub", path=Path("stub.pt")
    )
    return extractor


def stacked(modes: torch.Tensor) -> torch.Tensor:
    digits = torch.stack([modes // 100, modes // 10 % 10, modes % 10], 1)
    return torch.stack([digit_images(digits[:, c]) for c in range(3)], 1)


@pytest.mark.parametrize(
    "modes, covered",
    [(torch.arange(1000).repeat(3), 1000), (torch.arange(0, 1000, 100).repeat(30), 10), (torch.full((300,), 123), 1)],
)
def test_the_metric_counts_modes_through_the_extractor(modes, covered):
    extractor = stub_extractor()
    fake = stacked(modes)
    data = EvalData(ganzoo.Data(fake[:10], modes[:10], num_classes=1000), "stacked_mnist", {}, CPU)
    ctx = MetricContext(fake[:10], fake, None, None, data, lambda name: extractor)
    assert StackedModes().unsupported(data.data) is None
    values = StackedModes().compute(ctx)
    assert values["stacked_modes"] == covered
    assert values["stacked_kl"] == pytest.approx(math.log(1000 / covered), abs=1e-9)
    assert ctx.features("mnist_channels", "fake").features.shape == (len(modes), 3 * 128)
    assert "mnist_channels" in ctx.used and ctx.touched == {"mnist_channels"}


def test_the_metric_refuses_other_images():
    assert "3x28x28" in StackedModes().unsupported(ganzoo.Data(torch.zeros(4, 1, 28, 28, dtype=torch.uint8)))


# --------------------------------------------------------------------------- packing


def test_pack_puts_m_consecutive_samples_side_by_side():
    x = torch.arange(6 * 3 * 2 * 2, dtype=torch.float32).view(6, 3, 2, 2)
    packed = pack(x, 2)
    assert packed.shape == (3, 6, 2, 2)
    assert torch.equal(packed[1, :3], x[2]) and torch.equal(packed[1, 3:], x[3])
    assert pack(torch.zeros(12, 5), 3).shape == (4, 15)  # points as well as images
    with pytest.raises(ganzoo.GanzooError, match="multiple of 4"):
        pack(x, 4)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_a_packed_dcgan_judges_packs(m):
    architecture = Pac(m=m, base={"name": "dcgan", "width": 8, "output": "probability"})
    info = ganzoo.DataInfo(shape=(3, 28, 28))
    generator, discriminator = architecture.build_generator(info), architecture.build_discriminator(info)
    z = architecture.sample_latent(12, device=CPU)
    assert z.shape == (12, 100) and generator(z).shape == (12, 3, 28, 28)  # G is the base's, unpacked
    assert discriminator.inner.net[0].in_channels == 3 * m
    assert discriminator(generator(z)).shape == (12 // m, 1)


def test_a_packed_mlp_judges_packs():
    architecture = Pac(m=4, base={"name": "vanilla_mlp", "hidden_dim": 16})
    discriminator = architecture.build_discriminator(ganzoo.DataInfo(shape=(1, 28, 28)))
    assert discriminator(torch.zeros(8, 1, 28, 28)).shape == (2, 1)


class Recording(torch.nn.Module):
    """Wraps D's inner network and keeps every pack it is shown."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.seen: list[torch.Tensor] = []

    def forward(self, x, labels=None):
        self.seen.append(x.detach().clone())
        return self.inner(x, labels)


def test_a_packed_d_sees_real_packs_and_fake_packs_only():
    torch.manual_seed(0)
    m, batch = 2, 8
    architecture = Pac(m=m, base={"name": "dcgan", "width": 8, "output": "probability"})
    info = ganzoo.DataInfo(shape=(3, 28, 28))
    discriminator = architecture.build_discriminator(info)
    discriminator.inner = recording = Recording(discriminator.inner)

    class Constant(torch.nn.Module):  # G's samples are all -1, the real ones all +1
        def forward(self, z, labels=None):
            return torch.full((len(z), 3, 28, 28), -1.0) + 0 * z.sum()

    ctx = ganzoo.StepContext(torch.ones(batch, 3, 28, 28), None, Constant(), discriminator, architecture, 0)
    loss = BCELoss()
    loss.discriminator_loss(ctx)
    loss.generator_loss(ctx)
    assert len(recording.seen) == 3  # real and fake for D's update, fake for G's
    for packs in recording.seen:
        assert packs.shape == (batch // m, 3 * m, 28, 28)
        assert bool((packs == 1).all()) or bool((packs == -1).all())  # never a mixed pack
    assert bool((recording.seen[0] == 1).all()) and bool((recording.seen[1] == -1).all())


def test_a_packed_autoencoder_reconstructs_each_sample_of_its_packs():
    architecture = Pac(m=2, base={"name": "autoencoder", "width": 8, "code_dim": 16})
    discriminator = architecture.build_discriminator(ganzoo.DataInfo(shape=(1, 28, 28)))
    x = torch.zeros(6, 1, 28, 28)
    reconstruction, code = discriminator(x, code=True)
    assert reconstruction.shape == x.shape and code.shape == (3, 16)  # a code per pack
    assert discriminator(x).shape == x.shape


def test_a_bad_base_is_a_recipe_error_and_conditional_bases_are_refused():
    with pytest.raises(ValueError, match="unknown architecture 'dcgn'"):
        Pac(base={"name": "dcgn"})
    with pytest.raises(ValueError, match=r"base\.width"):
        Pac(base={"name": "dcgan", "width": 0})
    with pytest.raises(ValueError, match="conditional"):
        Pac(base={"name": "acgan"})
    assert isinstance(
        Pac(base={"name": "dcgan"}).build_discriminator(ganzoo.DataInfo(shape=(1, 28, 28))), PackedDiscriminator
    )


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize("recipe", ["dcgan_stacked", "pacdcgan2_stacked"])
def test_the_stacked_recipes_train_and_count_modes(recipe, tmp_path, capsys):
    root = write_idx_mnist(tmp_path / "digits", n_train=320, n_test=64)
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / f"{recipe}.yaml"),
                f"data.root={root}",
                "data.size=256",
                "train.max_steps=3",
                "model.width=8" if recipe == "dcgan_stacked" else "model.base.width=8",
                *small_run(tmp_path / "runs"),
            ]
        )
        == 0
    )
    folder = run_folder(capsys.readouterr().out)
    assert torch.load(folder / "weights.pt", weights_only=True)["step"] == 3
    assert (
        main(
            [
                "eval",
                str(folder),
                "--n",
                "300",
                "--json",
                "--no-progress",
                f"eval.extractors.mnist_channels.cache_dir={tmp_path / 'cache'}",
            ]
        )
        == 0
    )
    results = {r["key"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert set(results) == {
        "stacked_modes",
        "stacked_kl",
        "stacked_confident",
        "stacked_confident_modes",
        "stacked_confident_kl",
    }
    assert 0 <= results["stacked_confident"]["value"] <= 1
    assert 1 <= results["stacked_modes"]["value"] <= 300 and results["stacked_kl"]["value"] >= 0
    assert results["stacked_modes"]["n_fake"] == 300
    assert results["stacked_modes"]["extractor"].startswith("mnist_channels: each channel by ganzoo SmallConvNet")


def test_confident_samples_are_those_whose_every_channel_is_read_surely():
    """Two samples: one whose three channels the classifier reads at 0.99, one whose last
    channel it hesitates on (0.5): a share of one half, one confident mode, and each channel's
    confidence recovered exactly from the joint log-probabilities."""
    from ganzoo_metrics.stacked import channel_confidence, joint_logits

    def channel(probabilities: list[tuple[int, float]]) -> torch.Tensor:
        rows = []
        for digit, p in probabilities:
            row = torch.full((10,), (1 - p) / 9, dtype=torch.float64)
            row[digit] = p
            rows.append(row.log())
        return torch.stack(rows)

    logits = joint_logits(
        [channel([(1, 0.99), (4, 0.99)]), channel([(2, 0.99), (5, 0.99)]), channel([(3, 0.99), (6, 0.5)])]
    )
    confidence = channel_confidence(logits)
    assert confidence.flatten().tolist() == pytest.approx([0.99, 0.99, 0.99, 0.99, 0.99, 0.5])
    modes = logits.argmax(1)
    assert modes.tolist() == [123, 456]
    sure = (confidence >= 0.9).all(1)
    assert sure.tolist() == [True, False] and mode_histogram(modes[sure], 1000)[0] == 1
    assert math.isnan(mode_histogram(modes[:0], 1000)[1])
