"""The contract pieces a modern GAN needs, as a third-party plugin uses them, in
``ganzoo.testing`` terms: parameter groups declared by an architecture (a learning rate of
their own), extra passes a loss runs on some updates only (lazy regularisation), and
sampling options a generator declares (a truncation). The components here are a toy
plugin's, so that nothing bundled is needed to show that the pieces work from outside."""

from __future__ import annotations

import json
from types import ModuleType

import pytest
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

import ganzoo
import ganzoo.cli
import ganzoo_datasets
import ganzoo_vanilla
from conftest import REPO, one_line, run_folder, small_run, write_recipe
from ganzoo import testing
from ganzoo.api.capture import capture_decision
from ganzoo.api.population import stack_refusal


class Scaled(nn.Module):
    """A body and a head; ``scale`` (a sampling option) multiplies the output."""

    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(inputs, 16), nn.LeakyReLU(0.2))
        self.head = nn.Linear(16, outputs)

    def forward(self, x, labels=None, *, scale: float = 1.0):
        return self.head(self.body(x)) * scale


class HeadFirst(ganzoo.Architecture):
    """An MLP on 2-D points whose generator head learns at half the rate, with a sampling option."""

    name = "head_first"
    capturable = True

    class Options(ganzoo.Options):
        head_scale: float = Field(0.5, gt=0)

    class SamplingOptions(ganzoo.Options):
        scale: float = Field(1.0, ge=0, le=10, description="multiplies every sample")

    options: Options

    def parameter_groups(self, network):
        return (ganzoo.ParameterGroup("head.", self.options.head_scale),) if network == "generator" else ()

    def build_generator(self, data):
        return Scaled(4, data.shape[0])

    def build_discriminator(self, data):
        return Scaled(data.shape[0], 1)

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn(n, 4, device=device, generator=generator)


class Lazy(ganzoo.Loss):
    """The logistic loss, with an extra pass on D every ``d_every`` D updates and one on G every ``g_every`` steps."""

    name = "lazy"
    capturable = True

    class Options(ganzoo.Options):
        d_every: int = 3
        g_every: int = 2

    options: Options

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.register_buffer("passes", torch.zeros(2, dtype=torch.int64))

    def extra_passes(self):
        return (
            ganzoo.ExtraPass("d_pass", "discriminator", self.options.d_every, adjust_optimizer=True),
            ganzoo.ExtraPass("g_pass", "generator", self.options.g_every),
        )

    def discriminator_loss(self, ctx):
        fake = ctx.generator(ctx.latent()).detach()
        loss = F.softplus(ctx.discriminator(fake)).mean() + F.softplus(-ctx.discriminator(ctx.real)).mean()
        return ganzoo.LossOutput(loss)

    def generator_loss(self, ctx):
        return ganzoo.LossOutput(F.softplus(-ctx.discriminator(ctx.generator(ctx.latent()))).mean())

    def extra_loss(self, name, ctx):
        index = 0 if name == "d_pass" else 1
        self.passes[index] += 1
        network = ctx.discriminator if name == "d_pass" else ctx.generator
        penalty = sum(p.square().sum() for p in network.parameters())
        return ganzoo.LossOutput(1e-3 * penalty, {name: self.passes[index].float()})


def toy_plugin() -> ModuleType:
    module = ModuleType("toy")
    module.register_architectures = ganzoo.hookimpl(lambda register: register(HeadFirst))  # type: ignore[attr-defined]
    module.register_losses = ganzoo.hookimpl(lambda register: register(Lazy))  # type: ignore[attr-defined]
    return module


@pytest.fixture
def toy_registry():
    return testing.registry({"toy": toy_plugin(), "datasets": ganzoo_datasets, "vanilla": ganzoo_vanilla})


@pytest.fixture
def recipe(tmp_path):
    return write_recipe(
        tmp_path / "lazy.yaml",
        {
            "extends": str(REPO / "recipes" / "toy_ring.yaml"),
            "requires": ["toy", "datasets"],
            "data": {"name": "ring", "size": 256},
            "model": {"name": "head_first"},
            "loss": {"name": "lazy"},
            "callbacks": [],
            "train": {"batch_size": 32},
            "wandb": {"mode": "disabled"},
        },
    )


def rows(run) -> list[dict]:
    return [json.loads(line) for line in (run.folder / "metrics.jsonl").read_text().splitlines()]


def test_a_declared_parameter_group_learns_at_its_share_of_the_rate():
    architecture = HeadFirst()
    generator = architecture.build_generator(ganzoo.DataInfo((2,)))
    optimizer = testing.optimizer("generator", generator, architecture, lr=0.1, betas=(0.5, 0.9))
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.05]
    assert {id(p) for p in optimizer.param_groups[1]["params"]} == {id(p) for p in generator.head.parameters()}
    d_optimizer = testing.optimizer(
        "discriminator", HeadFirst().build_discriminator(ganzoo.DataInfo((2,))), architecture
    )
    assert len(d_optimizer.param_groups) == 1  # nothing declared: the parameters, as always


def test_a_parameter_group_that_takes_nothing_is_refused():
    class Typo(HeadFirst):
        def parameter_groups(self, network):
            return (ganzoo.ParameterGroup("haed.", 0.5),)

    with pytest.raises(ganzoo.GanzooError, match="parameter group 'haed.' for the generator"):
        testing.optimizer("generator", Typo().build_generator(ganzoo.DataInfo((2,))), Typo())


def test_an_extra_pass_that_asks_for_it_corrects_the_optimiser_as_stylegan2_does():
    architecture, loss = HeadFirst(head_scale=1.0), Lazy(d_every=3)
    discriminator = architecture.build_discriminator(ganzoo.DataInfo((2,)))
    optimizer = testing.optimizer("discriminator", discriminator, architecture, loss, lr=0.4, betas=(0.5, 0.9))
    (group,) = optimizer.param_groups
    c = 3 / 4
    assert group["lr"] == pytest.approx(0.4 * c)
    assert group["betas"] == pytest.approx((0.5**c, 0.9**c))
    generator = architecture.build_generator(ganzoo.DataInfo((2,)))  # the G pass does not ask for it
    assert testing.optimizer("generator", generator, architecture, loss, lr=0.4).param_groups[0]["lr"] == 0.4


def test_a_run_uses_the_declared_groups_and_keeps_them_on_resume(tmp_path, toy_registry, recipe):
    run = testing.short_run(recipe, toy_registry, tmp_path / "runs", ["optim.generator.lr=0.02"], steps=2)
    assert [group["lr"] for group in run.trainer.g_optimizer.param_groups] == [0.02, 0.01]
    state = torch.load(next((run.folder / "checkpoints").glob("*.pt")), weights_only=True)
    assert [group["lr"] for group in state["trainer"]["g_optimizer"]["param_groups"]] == [0.02, 0.01]


@pytest.mark.parametrize("d_steps, d_pass_steps", [(1, [1, 4]), (2, [1, 2, 4, 5])])
def test_extra_passes_follow_the_right_updates(tmp_path, toy_registry, recipe, d_steps, d_pass_steps):
    """D updates are counted step x d_steps + i from 0, G updates by the step: a pass every
    3 D updates follows updates 0, 3, 6, 9; every 2 G updates, steps 0, 2, 4."""
    run = testing.short_run(recipe, toy_registry, tmp_path / "runs", [f"train.d_steps={d_steps}"], steps=6)
    logged = rows(run)
    assert [row["step"] for row in logged if "d_pass" in row] == d_pass_steps
    assert [row["step"] for row in logged if "g_pass" in row] == [1, 3, 5]
    assert run.trainer.loss.passes.tolist() == [len(d_pass_steps), 3]


def test_a_loss_with_extra_passes_is_not_captured_and_says_why():
    def decision(loss):
        return capture_decision(
            "auto",
            device_type="cuda",
            distributed=False,
            compile=False,
            precision="fp32",
            schedules=["constant"],
            components=[("model", HeadFirst()), ("loss", loss)],
        )

    lazy = decision(Lazy())
    assert not lazy.captured
    assert "loss 'lazy' cannot be captured: it runs extra passes on some steps only (d_pass every 3" in lazy.line
    assert decision(ganzoo_vanilla.BCELoss()).captured


def test_a_loss_with_extra_passes_cannot_join_a_population_whatever_it_declares():
    """The batched step of ``train.population`` makes the two updates alone: a loss that
    declares ``stackable = True`` and extra passes is refused, naming them."""

    class StackableLazy(Lazy):
        stackable = True

    assert stack_refusal(StackableLazy()) == (
        "its extra passes (d_pass, g_pass) run on some updates only, and the batched step runs none"
    )
    assert stack_refusal(StackableLazy) is None  # a class: its passes depend on the options
    assert stack_refusal(ganzoo_vanilla.BCELoss()) is None


def test_check_names_the_extra_passes_under_cuda_graph_on(capsys, recipe, toy_registry):
    from ganzoo.recipe import load_recipe

    with pytest.raises(ganzoo.RecipeError) as error:
        load_recipe(recipe, toy_registry, ["train.cuda_graph=on"])
    reasons = [p.message for p in error.value.problems if p.key == "train.cuda_graph"]
    assert any("extra passes on some steps only" in reason for reason in reasons), reasons


def test_sampling_options_reach_the_generator(tmp_path, toy_registry, recipe):
    run = testing.short_run(recipe, toy_registry, tmp_path / "runs", steps=2)
    plain = testing.samples(run.folder, toy_registry, 8, seed=3)
    halved = testing.samples(run.folder, toy_registry, 8, seed=3, scale=0.5)
    torch.testing.assert_close(halved, plain * 0.5)
    assert testing.samples(run.folder, toy_registry, 4, scale=0.0).abs().max() == 0
    with pytest.raises(
        ganzoo.GanzooError, match=r"model 'head_first' has no truncation \(its sampling options are scale\)"
    ):
        testing.samples(run.folder, toy_registry, 4, truncation=0.5)
    with pytest.raises(ganzoo.GanzooError, match="scale: Input should be less than or equal to 10"):
        testing.samples(run.folder, toy_registry, 4, scale=11.0)


def test_sample_refuses_a_truncation_in_one_line_for_a_model_without_one(tmp_path, capsys, toy_recipe):
    assert ganzoo.cli.main(["run", str(toy_recipe), *small_run(tmp_path), "train.max_steps=2"]) == 0
    folder = run_folder(capsys.readouterr().out)
    status = ganzoo.cli.main(["sample", str(folder), "--n", "4", "--truncation", "0.7"])
    line = one_line(capsys, status)
    assert line == "ganzoo: error: model 'vanilla_mlp' has no truncation (it declares no sampling options)"
