"""Issue 16, item 3: optimisers and learning-rate schedules are components registered through
hooks, named per network in a recipe, saved in checkpoints and exact on resume."""

from __future__ import annotations

import shutil
import types

import pytest
import torch
from pydantic import PositiveFloat, PositiveInt

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import metrics, run_folder, weights, write_recipe
from ganzoo.api.errors import RecipeError
from ganzoo.cli import main
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo.run import build_trainer
from ganzoo.runfolder.checkpoints import load_checkpoint, step_checkpoints


class HalvedSGD(ganzoo.Optimizer):
    """SGD at half the given learning rate (a plugin's optimiser)."""

    name = "halved_sgd"

    class Options(ganzoo.Options):
        lr: PositiveFloat = 0.1

    def build(self, params):
        return torch.optim.SGD(params, lr=self.options.lr / 2)


class Warmup(ganzoo.Schedule):
    """Linear warm-up over ``steps`` steps (a plugin's schedule, with state of its own)."""

    name = "warmup"

    class Options(ganzoo.Options):
        steps: PositiveInt = 4

    def start(self, optimizer, total_steps):
        self.optimizer, self.done = optimizer, 0
        self.base = [group["lr"] for group in optimizer.param_groups]
        self._apply()

    def _apply(self):
        for group, base in zip(self.optimizer.param_groups, self.base):
            group["lr"] = base * min(1.0, (self.done + 1) / self.options.steps)

    def step(self):
        self.done += 1
        self._apply()

    def state_dict(self):
        return {"done": self.done}

    def load_state_dict(self, state):
        self.done = state["done"]


@ganzoo.hookimpl
def register_optimizers(register):
    register(HalvedSGD)


@ganzoo.hookimpl
def register_schedules(register):
    register(Warmup)


PLUGIN = types.ModuleType("extra")
PLUGIN.register_optimizers = register_optimizers  # type: ignore[attr-defined]
PLUGIN.register_schedules = register_schedules  # type: ignore[attr-defined]


@pytest.fixture
def plugin_registry() -> Registry:
    pm = make_plugin_manager(
        {"extra": PLUGIN, "vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets}, entry_points=False
    )
    return Registry.from_plugin_manager(pm)


def _trainer(toy_recipe, registry, *overrides):
    return build_trainer(load_recipe(toy_recipe, registry, overrides), registry)


def test_hook_register_optimizers(toy_recipe, plugin_registry):
    assert plugin_registry.entry("optimizer", "halved_sgd").plugin == "extra"
    assert plugin_registry.entry("optimizer", "adam").plugin == "ganzoo"  # the core registers the bundled ones
    trainer = _trainer(toy_recipe, plugin_registry, "optim.generator.name=halved_sgd", "optim.generator.lr=0.3")
    assert isinstance(trainer.g_optimizer, torch.optim.SGD)
    assert trainer.g_optimizer.param_groups[0]["lr"] == pytest.approx(0.15)
    assert isinstance(trainer.d_optimizer, torch.optim.Adam)


def test_hook_register_schedules(toy_recipe, plugin_registry):
    assert plugin_registry.entry("schedule", "warmup").plugin == "extra"
    trainer = _trainer(
        toy_recipe,
        plugin_registry,
        "optim.discriminator.schedule.name=warmup",
        "optim.discriminator.lr=0.004",
        "train.max_steps=6",
    )
    assert trainer.d_optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    trainer.fit()
    assert trainer.d_optimizer.param_groups[0]["lr"] == pytest.approx(0.004)
    assert trainer.state_dict()["schedules"]["discriminator"] == {"done": 6}


def test_the_core_registers_without_any_plugin():
    registry = Registry.from_plugin_manager(make_plugin_manager([], entry_points=False))
    assert registry.names("optimizer") == ["adam", "adamw", "rmsprop", "sgd"]
    assert registry.names("schedule") == ["constant", "cosine", "linear", "plateau", "step"]
    assert registry.plugin_names == []  # the core is not listed as an installed plugin


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"name": "constant"}, 1e-3),
        ({"name": "linear", "end_factor": 0.5}, 5e-4),
        ({"name": "cosine", "min_lr": 1e-5}, 1e-5),
        ({"name": "step", "every": 10, "gamma": 0.5}, 1e-3 * 0.5**3),  # 32 steps: three drops
    ],
)
def test_each_schedule_reaches_its_end(toy_recipe, registry, schedule, expected):
    trainer = _trainer(
        toy_recipe,
        registry,
        f"optim.generator.schedule={schedule}",
        "optim.generator.lr=0.001",
        "optim.discriminator.lr=0.001",
    )
    assert trainer.total_steps == 32
    trainer.fit()
    assert trainer.g_optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    assert trainer.d_optimizer.param_groups[0]["lr"] == 1e-3  # the other network keeps its constant default


def test_plateau_halves_when_the_watched_scalar_stalls(toy_recipe, registry):
    """BEGAN's halving, written in a recipe: ``{name: plateau, metric: convergence, factor: 0.5}``;
    here on d_loss with no patience, so that a logged row without improvement halves it."""
    trainer = _trainer(
        toy_recipe,
        registry,
        "optim.discriminator.schedule={name: plateau, metric: d_loss, patience: 0}",
        "optim.discriminator.lr=0.01",
    )
    trainer.fit()
    lr = trainer.d_optimizer.param_groups[0]["lr"]
    assert lr < 0.01 and lr / 0.01 == pytest.approx(0.5 ** round(torch.log2(torch.tensor(0.01 / lr)).item()))


def test_plateau_on_a_scalar_the_run_does_not_log_is_one_clear_error(toy_recipe, capsys):
    assert (
        main(["run", str(toy_recipe), "optim.generator.schedule={name: plateau, metric: convergence}", "--no-progress"])
        == 1
    )
    err = capsys.readouterr().err
    assert "schedule plateau watches 'convergence', which this run does not log" in err and "Traceback" not in err


def test_schedule_problems_name_their_key(toy_recipe, registry):
    with pytest.raises(RecipeError) as caught:
        load_recipe(
            toy_recipe,
            registry,
            [
                "optim.generator.schedule.name=cosin",
                "optim.discriminator.schedule.name=cosine",
                "optim.discriminator.schedule.steps=0",
            ],
        )
    lines = [str(p) for p in caught.value.problems]
    assert any(
        line.startswith("command line: optim.generator.schedule.name: unknown schedule 'cosin'; did you mean 'cosine'?")
        for line in lines
    ), lines
    assert any(line.startswith("command line: optim.discriminator.schedule.steps:") for line in lines), lines


def test_the_resolved_recipe_holds_each_schedule(toy_recipe, registry):
    resolved = load_recipe(toy_recipe, registry, ["optim.generator.schedule.name=cosine"]).resolved["optim"]
    assert resolved["generator"]["schedule"] == {"name": "cosine", "min_lr": 0.0, "steps": None}
    assert "schedule" not in resolved["discriminator"]  # constant, as before schedules existed


def test_schedules_resume_bitwise_through_the_cli(tmp_path, toy_recipe, capsys):
    """A run with a schedule on each network, resumed from a checkpoint in its middle, ends
    exactly where the uninterrupted run ends: weights, logged rows and learning rates."""
    recipe = write_recipe(
        tmp_path / "scheduled.yaml",
        {
            "extends": str(toy_recipe),
            "train": {"log_every": 3},
            "checkpoint": {"every": 5, "keep_last": 10},
            "optim": {
                "generator": {"name": "adam", "schedule": {"name": "cosine", "min_lr": 1e-5}},
                "discriminator": {
                    "name": "adam",
                    "lr": 0.01,
                    # threshold 1: a BCE loss never "improves" by 100%, so it drops at every row
                    "schedule": {"name": "plateau", "metric": "d_loss", "patience": 2, "threshold": 1.0},
                },
            },
        },
    )
    assert main(["run", str(recipe), "run.name=whole", "--no-progress"]) == 0
    whole = run_folder(capsys.readouterr().out)
    cut = tmp_path / "runs" / "cut"
    shutil.copytree(whole, cut)
    for late in [p for p in step_checkpoints(cut) if int(p.stem.split("_")[1]) > 15]:
        late.unlink()
    (cut / "weights.pt").unlink()
    assert main(["run", "--resume", str(cut), "--no-progress"]) == 0
    capsys.readouterr()
    assert metrics(cut) == metrics(whole)
    for net in ("generator", "discriminator"):
        ours, theirs = weights(cut)[net], weights(whole)[net]
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), net
    final = load_checkpoint(step_checkpoints(whole)[-1])["trainer"]
    resumed = load_checkpoint(step_checkpoints(cut)[-1])["trainer"]
    assert resumed["schedules"] == final["schedules"]
    assert final["d_optimizer"]["param_groups"][0]["lr"] < 0.01  # the plateau schedule did act
    for opt in ("g_optimizer", "d_optimizer"):
        assert resumed[opt]["param_groups"][0]["lr"] == final[opt]["param_groups"][0]["lr"]
