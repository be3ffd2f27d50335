"""The stabilisers: one-sided label smoothing and R1 (options of `bce`) against values
computed by hand, the `ema` and `instance_noise` callbacks (`plugins/ganzoo_stabilizers`)
by hand and through the CLI, and the recipe that composes them all."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
import torch
from loss_doubles import context
from torch import nn

from conftest import REPO, run_folder, small_run, weights, write_recipe
from ganzoo.cli import main
from ganzoo_stabilizers import EMA, InstanceNoise
from ganzoo_vanilla.losses import BCELoss


class SigmoidOf(nn.Module):
    """D(x) = sigmoid(logit(x)) for a logit given as a function of x and a parameter."""

    def __init__(self, logit):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.3))
        self.logit = logit

    def forward(self, x, labels=None):
        return torch.sigmoid(self.logit(x, self.a))


def linear(x, a):  # logit = x . [a, -1]: its gradient is [a, -1] everywhere
    return x[:, :1] * a - x[:, 1:]


def quadratic(x, a):  # logit = a |x|^2 / 2: its gradient is a x
    return 0.5 * a * (x**2).sum(1, keepdim=True)


def bce_by_hand(logits: list[float], target: float) -> float:
    """mean over samples of -(t log p + (1 - t) log(1 - p)), p = sigmoid(logit)."""
    total = 0.0
    for logit in logits:
        p = 1 / (1 + math.exp(-logit))
        total -= target * math.log(p) + (1 - target) * math.log(1 - p)
    return total / len(logits)


def test_one_sided_label_smoothing_by_hand():
    out = BCELoss(label_smoothing=0.1).discriminator_loss(context(SigmoidOf(linear)))
    real_logits, fake_logits = [0.3 - 2.0, 0.9 + 1.0], [-1.0, -0.6]
    expected = bce_by_hand(real_logits, 0.9) + bce_by_hand(fake_logits, 0.0)  # only the real target moves
    assert out.loss.item() == pytest.approx(expected, rel=1e-6)
    plain = BCELoss().discriminator_loss(context(SigmoidOf(linear))).loss.item()
    assert plain == pytest.approx(bce_by_hand(real_logits, 1.0) + bce_by_hand(fake_logits, 0.0), rel=1e-6)
    assert BCELoss(label_smoothing=0.1).generator_loss(context(SigmoidOf(linear))).loss.item() == pytest.approx(
        bce_by_hand(fake_logits, 1.0), rel=1e-6
    )  # G's target is not smoothed


@pytest.mark.parametrize(
    "logit, r1",
    [
        (linear, 0.3**2 + 1.0),  # |[a, -1]|^2 at every real sample
        (quadratic, 0.3**2 * (5 + 10) / 2),  # mean of a^2 |x|^2 over |x|^2 = 5, 10
    ],
)
def test_r1_penalty_by_hand(logit, r1):
    out = BCELoss(r1_gamma=4.0).discriminator_loss(context(SigmoidOf(logit)))
    plain = BCELoss().discriminator_loss(context(SigmoidOf(logit)))
    assert out.logs["r1"].item() == pytest.approx(r1, rel=1e-5)
    assert out.loss.item() == pytest.approx(plain.loss.item() + 2.0 * r1, rel=1e-5)
    assert "r1" not in plain.logs
    out.loss.backward()  # differentiable: the penalty moves D


def fake_trainer(generator: nn.Module, step: int = 0, total: int = 10):
    return SimpleNamespace(
        generator=generator, step=step, total_steps=total, device=torch.device("cpu"), discriminator=nn.Identity()
    )


def test_ema_by_hand():
    generator = nn.Linear(1, 1, bias=False)
    generator.weight.data.fill_(1.0)
    ema = EMA(decay=0.75, start_step=1)
    trainer = fake_trainer(generator)
    ema.on_train_start(trainer)
    for step, weight, expected in [
        (1, 2.0, 2.0),  # up to start_step: a copy of G
        (2, 4.0, 0.75 * 2.0 + 0.25 * 4.0),
        (3, 0.0, 0.75 * 2.5 + 0.25 * 0.0),
    ]:
        generator.weight.data.fill_(weight)
        trainer.step = step
        ema.on_step_end(trainer)
        assert ema.sampling_generator(trainer).weight.item() == pytest.approx(expected)
    assert not ema.average.weight.requires_grad
    restored = EMA(decay=0.75)
    restored.load_state_dict(ema.state_dict())  # before G exists, as on resume
    assert restored.sampling_generator(fake_trainer(nn.Linear(1, 1, bias=False))).weight.item() == pytest.approx(1.875)


def test_ema_ramp_up_by_hand():
    """StyleGAN2-ADA's ramp-up: the half-life is at most rampup x the steps before this one,
    so the first step copies G and the decay grows towards its cap."""
    ema = EMA(decay=0.99, rampup=0.5)
    # step 1: no step before, decay 0; step 3: half-life 0.5 x 2 = 1 step, decay 0.5;
    # step 5: half-life 2, decay 0.5 ** 0.5; step 1001: 0.5 ** (1 / 500) = 0.9986, capped at 0.99.
    assert [ema.decay_at(t) for t in (1, 3, 5, 1001)] == pytest.approx([0.0, 0.5, 0.5**0.5, 0.99])
    assert EMA(decay=0.99).decay_at(1) == 0.99  # no ramp-up: the decay from the start

    generator = nn.Linear(1, 1, bias=False)
    generator.weight.data.fill_(1.0)
    trainer = fake_trainer(generator)
    ema.on_train_start(trainer)
    for step, weight, expected in [
        (1, 4.0, 4.0),  # decay 0: a copy of G
        (2, 0.0, 0.25 * 4.0 + 0.75 * 0.0),  # half-life 0.5 step: decay 0.5 ** 2
        (3, 2.0, 0.5 * 1.0 + 0.5 * 2.0),
    ]:
        generator.weight.data.fill_(weight)
        trainer.step = step
        ema.on_step_end(trainer)
        assert ema.average.weight.item() == pytest.approx(expected)


def test_instance_noise_by_hand():
    identity = nn.Identity()
    noise = InstanceNoise(std=0.2)
    trainer = fake_trainer(None, step=0, total=10)
    trainer.discriminator = identity
    assert [noise.std_at(t, 10) for t in (0, 5, 10, 12)] == pytest.approx([0.2, 0.1, 0.0, 0.0])
    assert InstanceNoise(std=0.2, anneal_steps=4).std_at(2, 10) == pytest.approx(0.1)
    noise.on_train_start(trainer)
    x = torch.zeros(3, 4)
    torch.manual_seed(5)
    noisy = identity(x)
    torch.manual_seed(5)
    assert torch.allclose(noisy, 0.2 * torch.randn(3, 4))  # from the training random stream
    trainer.step = 5
    noise.on_step_end(trainer)
    torch.manual_seed(5)
    noisy = identity(x)
    torch.manual_seed(5)
    assert torch.allclose(noisy, 0.1 * torch.randn(3, 4))
    noise.on_train_end(trainer)
    assert torch.equal(identity(x), x)  # the hook is gone


# --------------------------------------------------------------------------- through the CLI


def test_plugins_lists_the_stabilizers(capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    names = {(c["kind"], c["name"]) for c in listing["components"] if c["plugin"] == "stabilizers"}
    assert names == {("callback", "ema"), ("callback", "instance_noise")}


def test_ema_is_what_is_sampled_and_survives_a_resume(tmp_path, toy_recipe, capsys):
    recipe = write_recipe(
        tmp_path / "ema.yaml",
        {
            "extends": str(toy_recipe),
            "train": {"epochs": 1},
            "checkpoint": {"every": 5},
            "callbacks": [{"name": "ema", "decay": 0.9}, {"name": "instance_noise", "std": 0.05, "anneal_steps": 12}],
        },
    )
    assert main(["run", str(recipe), "run.name=whole", "--no-progress"]) == 0
    whole = run_folder(capsys.readouterr().out)
    state = weights(whole)
    assert state["generator_source"] == "ema"
    assert any(not torch.equal(state["generator"][k], state["trained_generator"][k]) for k in state["generator"])

    assert main(["sample", str(whole), "--n", "10", "--out", str(tmp_path / "ema.npz")]) == 0
    assert "ema weights" in capsys.readouterr().out
    assert main(["sample", str(whole), "--n", "10", "--out", str(tmp_path / "trained.npz"), "--trained"]) == 0
    assert "trained weights" in capsys.readouterr().out
    import numpy

    assert not numpy.array_equal(
        numpy.load(tmp_path / "ema.npz")["points"], numpy.load(tmp_path / "trained.npz")["points"]
    )

    # Resumed from the checkpoint of step 5 (written while training went on): the average
    # and the noisy training continue exactly.
    assert main(["run", str(recipe), "run.name=parts", "train.max_steps=7", "--no-progress"]) == 0
    parts = run_folder(capsys.readouterr().out)
    (parts / "weights.pt").unlink()
    (parts / "checkpoints" / "step_0000007.pt").unlink()
    assert main(["run", "--resume", str(parts), "train.max_steps=null", "--no-progress"]) == 0
    resumed = weights(parts)
    for key in ("generator", "trained_generator"):
        assert all(torch.equal(resumed[key][k], state[key][k]) for k in state[key]), key


def test_the_stabilized_recipe_composes_everything(digits, tmp_path, capsys):
    assert main(["check", "recipes/dcgan_stabilized_fashion.yaml"]) == 0
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / "dcgan_stabilized_mnist.yaml"),
                f"data.root={digits}",
                "train.max_steps=3",
                "train.batch_size=16",
                "train.log_every=1",
                "model.width=8",
                *small_run(tmp_path),
            ]
        )
        == 0
    )
    folder = next(tmp_path.iterdir())
    assert weights(folder)["generator_source"] == "ema"
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    rows = [row for row in rows if "d_loss" in row]  # the training logs (the overfitting watch writes rows too)
    assert len(rows) == 3 and all(math.isfinite(row["r1"]) and row["r1"] > 0 for row in rows)
