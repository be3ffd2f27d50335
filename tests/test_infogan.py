"""infoGAN (`plugins/ganzoo_conditional`): the loss against values computed by hand, the
latent's codes, the recipe trained through the CLI, and `ganzoo sample --vary` walking one
code with the rest of each latent fixed."""

from __future__ import annotations

import json
import math

import pytest
import torch
from PIL import Image
from torch import nn

import ganzoo
from conftest import REPO, small_run, write_idx_mnist
from ganzoo.cli import main
from ganzoo_conditional.infogan import InfoGAN, InfoGANLoss

# noise (1), one-hot c1 (3 values), continuous c2 (1)
LATENT = torch.tensor([[0.5, 0.0, 1.0, 0.0, 0.25], [-1.0, 1.0, 0.0, 0.0, -0.5]])
REAL = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0, 0.0]])


class FixedLatent(InfoGAN):
    """The tiny infoGAN latent above, whatever n and the random stream."""

    def sample_latent(self, n, *, device, generator=None):
        return LATENT[:n].clone()


class Identity(nn.Module):
    def forward(self, z, labels=None):
        return z


class LinearHeads(nn.Module):
    """D's logit is x[0]; Q's outputs are 2 x[1:]: c1's logits twice its one-hot, c2's mean twice c2."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0))

    def forward(self, x, labels=None):
        return x[:, :1], self.scale * x[:, 1:]


def context() -> ganzoo.StepContext:
    architecture = FixedLatent(noise_dim=1, categorical=[3], continuous=1)
    return ganzoo.StepContext(REAL, None, Identity(), LinearHeads(), architecture, 0)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_infogan_loss_by_hand():
    # Q's logits for c1 are 2 x one-hot: cross-entropy log(1 + 2 e^-2) for both samples, accuracy 1.
    cross_entropy = math.log1p(2 * math.exp(-2))
    # Q's mean for c2 is 2 c: 1/2 (c - 2c)^2 = c^2 / 2, averaged over c = 0.25, -0.5.
    gaussian = (0.25**2 / 2 + 0.5**2 / 2) / 2
    info = 1.0 * cross_entropy + 0.1 * gaussian
    out = InfoGANLoss(categorical_weight=1.0, continuous_weight=0.1).discriminator_loss(context())
    # BCE with logits: real logits 1, 2 against 1; fake logits 0.5, -1 against 0.
    gan = (softplus(-1) + softplus(-2)) / 2 + (softplus(0.5) + softplus(-1)) / 2
    assert out.logs["info"].item() == pytest.approx(info, rel=1e-6)
    assert out.logs["code_accuracy"].item() == 1.0
    assert out.loss.item() == pytest.approx(gan + info, rel=1e-6)

    g = InfoGANLoss(categorical_weight=1.0, continuous_weight=0.1).generator_loss(context())
    assert g.loss.item() == pytest.approx((softplus(-0.5) + softplus(1)) / 2 + info, rel=1e-6)
    heavier = InfoGANLoss(categorical_weight=2.0, continuous_weight=1.0).generator_loss(context())
    assert heavier.loss.item() == pytest.approx(
        (softplus(-0.5) + softplus(1)) / 2 + 2 * cross_entropy + gaussian, rel=1e-6
    )


def test_infogan_loss_needs_the_infogan_architecture():
    ctx = ganzoo.StepContext(REAL, None, Identity(), LinearHeads(), ganzoo.Architecture(), 0)
    with pytest.raises(ganzoo.GanzooError, match="needs the infogan architecture"):
        InfoGANLoss().discriminator_loss(ctx)


def test_the_latent_holds_noise_one_hot_codes_and_uniform_codes():
    architecture = InfoGAN(noise_dim=4, categorical=[10, 3], continuous=2)
    z = architecture.sample_latent(500, device=torch.device("cpu"), generator=torch.Generator().manual_seed(0))
    assert z.shape == (500, 4 + 13 + 2)
    assert torch.equal(z[:, 4:14].sum(1), torch.ones(500)) and torch.equal(z[:, 14:17].sum(1), torch.ones(500))
    codes = architecture.split(z)
    assert set(codes.categorical[0].tolist()) == set(range(10)) and set(codes.categorical[1].tolist()) == {0, 1, 2}
    assert codes.continuous.min() >= -1 and codes.continuous.max() <= 1 and codes.continuous.std() > 0.5
    assert list(architecture.latent_codes()) == ["c1", "c2", "c3", "c4"]
    assert architecture.latent_codes()["c2"] == "categorical, 3 values"


def test_vary_code_walks_one_code_and_holds_the_rest():
    architecture = InfoGAN(noise_dim=4, categorical=[10], continuous=2)
    base = architecture.sample_latent(3, device=torch.device("cpu"), generator=torch.Generator().manual_seed(1))
    digits = architecture.vary_code(base, "c1", steps=99)  # a categorical code takes its 10 values
    assert digits.shape == (30, 16)
    assert architecture.split(digits).categorical[0].tolist() == list(range(10)) * 3
    others = torch.cat([digits[:, :4], digits[:, 14:]], 1).view(3, 10, -1)
    assert torch.equal(others, torch.cat([base[:, :4], base[:, 14:]], 1).unsqueeze(1).expand(-1, 10, -1))
    slant = architecture.vary_code(base, "c3", steps=5)
    assert slant[:, 15].tolist() == pytest.approx([-2.0, -1.0, 0.0, 1.0, 2.0] * 3)
    assert torch.equal(slant[:, :15].view(3, 5, -1), base[:, :15].unsqueeze(1).expand(-1, 5, -1))


# --------------------------------------------------------------------------- through the CLI


@pytest.fixture(scope="module")
def infogan_run(tmp_path_factory):
    digits = write_idx_mnist(tmp_path_factory.mktemp("digits"), n_train=96)
    runs = tmp_path_factory.mktemp("infogan-runs")
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / "infogan_mnist.yaml"),
                f"data.root={digits}",
                "train.max_steps=3",
                "train.batch_size=16",
                "train.log_every=1",
                "model.width=8",
                *small_run(runs),
            ]
        )
        == 0
    )
    return next(runs.iterdir())


def test_infogan_recipes_train_and_check(infogan_run):
    assert main(["check", "recipes/infogan_fashion.yaml"]) == 0
    rows = [json.loads(line) for line in (infogan_run / "metrics.jsonl").read_text().splitlines()]
    rows = [row for row in rows if "d_loss" in row]  # not the overfitting watch's rows
    assert len(rows) == 3 and all(math.isfinite(v) for row in rows for v in row.values())
    assert all(row["info"] > 0 and 0 <= row["code_accuracy"] <= 1 for row in rows)


def test_sample_vary_draws_one_column_per_value(infogan_run, tmp_path, capsys):
    digits, slant = tmp_path / "c1.png", tmp_path / "c2.png"
    assert main(["sample", str(infogan_run), "--vary", "c1", "--strips", "3", "--out", str(digits)]) == 0
    assert Image.open(digits).size == (10 * 30 + 2, 3 * 30 + 2)  # 10 values of c1, 28-pixel images
    assert main(["sample", str(infogan_run), "--vary", "c2", "--steps", "5", "--out", str(slant)]) == 0
    assert Image.open(slant).size == (5 * 30 + 2, 8 * 30 + 2)  # default 8 rows
    assert "40 samples" in capsys.readouterr().out
    assert main(["sample", str(infogan_run), "--vary", "c9"]) == 1
    assert "no latent code 'c9'; its codes: c1 (categorical, 10 values), c2 (continuous" in capsys.readouterr().err


def test_plugins_lists_infogan(capsys):
    assert main(["plugins", "--json"]) == 0
    names = {
        (c["kind"], c["name"])
        for c in json.loads(capsys.readouterr().out)["components"]
        if c["plugin"] == "conditional"
    }
    assert {("architecture", "infogan"), ("loss", "infogan")} <= names
