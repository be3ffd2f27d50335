"""Each hook spec, exercised end to end by a plugin that implements it, plus the rules of
the plugin host (misspelled hooks, duplicate names, malformed components)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType
from typing import ClassVar

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import write_recipe
from ganzoo.api.errors import GanzooError
from ganzoo.plugins import Registry, hook_names, make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo.run import run_recipe

# --------------------------------------------------------------------------- a test plugin


def make_plugin(name, **hooks):
    """A plugin module built on the fly, exactly as pluggy sees an imported module."""
    module = ModuleType(name)
    for hook, function in hooks.items():
        setattr(module, hook, ganzoo.hookimpl(function))
    return module


class LabelledLine(ganzoo.Dataset):
    """Points on two short segments, labelled 0 and 1 (a conditional dataset)."""

    name = "labelled_line"

    class Options(ganzoo.Options):
        size: int = 256

    def load(self):
        labels = torch.arange(self.options.size) % 2
        x = torch.linspace(-1, 1, self.options.size)
        return ganzoo.Data(torch.stack([x, labels.float() * 2 - 1], dim=1), labels, num_classes=2)


class ConditionalLinear(ganzoo.Architecture):
    """A conditional G and D: the label is embedded and added, to prove labels flow."""

    name = "conditional_linear"

    class Options(ganzoo.Options):
        latent_dim: int = 4

    class Net(nn.Module):
        def __init__(self, inputs, outputs, classes, squash):
            super().__init__()
            self.linear = nn.Linear(inputs, outputs)
            self.embed = nn.Embedding(classes, outputs)
            self.squash = squash
            self.seen_labels = []

        def forward(self, x, labels=None):
            self.seen_labels.append(labels)
            out = self.linear(x.flatten(1)) + self.embed(labels)
            return torch.sigmoid(out) if self.squash else out

    def build_generator(self, data):
        return self.Net(self.options.latent_dim, data.shape[0], data.num_classes, squash=False)

    def build_discriminator(self, data):
        return self.Net(data.shape[0], 1, data.num_classes, squash=True)

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn(n, self.options.latent_dim, device=device, generator=generator)


class CountingPenaltyLoss(ganzoo.Loss):
    """BCE plus a gradient penalty computed through D itself, with state of its own:
    buffers that count the updates (the way BEGAN keeps its k)."""

    name = "counting_penalty"

    class Options(ganzoo.Options):
        weight: float = 1.0

    def __init__(self, **options):
        super().__init__(**options)
        self.register_buffer("d_updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("g_updates", torch.zeros((), dtype=torch.long))

    def discriminator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels).detach()
        d_real = ctx.discriminator(ctx.real, ctx.labels)
        d_fake = ctx.discriminator(fake, ctx.labels)
        real = ctx.real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(ctx.discriminator(real, ctx.labels).sum(), real, create_graph=True)
        penalty = grad.pow(2).sum(1).mean()
        loss = F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
            d_fake, torch.zeros_like(d_fake)
        )
        return ganzoo.LossOutput(loss + self.options.weight * penalty, {"penalty": penalty.detach()})

    def generator_loss(self, ctx):
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)
        return ganzoo.LossOutput(F.binary_cross_entropy(d_fake, torch.ones_like(d_fake)))

    def after_discriminator_step(self, ctx):
        self.d_updates += 1

    def after_generator_step(self, ctx):
        self.g_updates += 1


class EventRecorder(ganzoo.Callback):
    """Records what the trainer tells callbacks."""

    name = "event_recorder"
    instances: ClassVar[list["EventRecorder"]] = []

    class Options(ganzoo.Options):
        label: str = "recorder"

    def __init__(self, **options):
        super().__init__(**options)
        self.events = []
        EventRecorder.instances.append(self)

    def on_train_start(self, trainer):
        self.events.append(("start", trainer.step))

    def on_step_end(self, trainer):
        self.events.append(("step", trainer.step))

    def on_log(self, trainer, scalars):
        self.events.append(("log", dict(scalars)))

    def on_epoch_end(self, trainer):
        self.events.append(("epoch", trainer.epoch))

    def on_train_end(self, trainer):
        self.events.append(("end", trainer.status))


test_plugin = make_plugin(
    "test_plugin",
    register_architectures=lambda register: register(ConditionalLinear),
    register_losses=lambda register: register(CountingPenaltyLoss),
    register_datasets=lambda register: register(LabelledLine),
    register_callbacks=lambda register: register(EventRecorder),
)
HOOKS = ["register_architectures", "register_losses", "register_datasets", "register_callbacks"]
EVALUATION_HOOKS = ["register_metrics", "register_feature_extractors"]  # exercised in test_evaluation.py
OPTIM_HOOKS = ["register_optimizers", "register_schedules"]  # exercised in test_schedules.py
AUGMENT_HOOKS = ["register_augmentations"]  # exercised in test_augment.py


@pytest.fixture
def plugin_registry():
    pm = make_plugin_manager([ganzoo_vanilla, ganzoo_datasets, test_plugin], entry_points=False)
    return Registry.from_plugin_manager(pm)


def train(tmp_path, registry, recipe):
    base = {
        "data": {"name": "labelled_line"},
        "model": {"name": "conditional_linear"},
        "loss": {"name": "counting_penalty"},
        "train": {"epochs": 2, "batch_size": 32, "log_every": 4, "sample_every": 100, "num_samples": 16},
        "run": {"dir": str(tmp_path / "runs")},
        "wandb": {"mode": "disabled"},
    }
    for key, value in recipe.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return run_recipe(load_recipe(write_recipe(tmp_path / "r.yaml", base), registry), registry, progress=False)


# --------------------------------------------------------------------------- one test per hook


def test_hook_register_architectures(tmp_path, plugin_registry):
    assert (
        plugin_registry.entry("architecture", "conditional_linear").plugin
        == plugin_registry.entry("dataset", "labelled_line").plugin
    )
    run = train(tmp_path, plugin_registry, {})
    assert isinstance(run.trainer.generator, ConditionalLinear.Net)
    # Conditional models: every call received the batch's labels, never None.
    seen = run.trainer.discriminator.seen_labels
    assert seen and all(labels is not None and labels.dtype == torch.long for labels in seen)


def test_hook_register_losses(tmp_path, plugin_registry):
    run = train(tmp_path, plugin_registry, {"train": {"d_steps": 3}})
    loss_state = torch.load(run.folder / "weights.pt", weights_only=True)["loss"]
    # 256 points / 32 = 8 batches an epoch = 2 generator steps of 3 discriminator steps
    # (the last 2 batches of each epoch hold no complete step).
    assert run.trainer.step == 4
    assert int(loss_state["g_updates"]) == 4
    assert int(loss_state["d_updates"]) == 16
    rows = [json.loads(line) for line in (run.folder / "metrics.jsonl").read_text().splitlines()]
    assert all("penalty" in row and row["penalty"] >= 0 for row in rows)


def test_hook_register_datasets(tmp_path, plugin_registry):
    run = train(tmp_path, plugin_registry, {"data": {"size": 64}})
    assert run.trainer.batches.samples.shape == (64, 2)
    assert run.trainer.batches.labels.tolist() == [i % 2 for i in range(64)]
    assert yaml.safe_load((run.folder / "recipe.yaml").read_text())["data"] == {"name": "labelled_line", "size": 64}


def test_hook_register_callbacks(tmp_path, plugin_registry):
    EventRecorder.instances.clear()
    train(tmp_path, plugin_registry, {"callbacks": [{"name": "event_recorder", "label": "x"}]})
    (recorder,) = EventRecorder.instances
    assert recorder.options.label == "x"
    kinds = [event[0] for event in recorder.events]
    assert kinds[0] == "start" and recorder.events[-1] == ("end", "finished")
    assert kinds.count("step") == 16 and kinds.count("epoch") == 2
    logs = [event[1] for event in recorder.events if event[0] == "log"]
    assert [log["step"] for log in logs] == [4, 8, 12, 16]
    assert set(logs[0]) == {"step", "epoch", "d_loss", "g_loss", "penalty", "lr/generator", "lr/discriminator"}


# --------------------------------------------------------------------------- host rules


def test_every_hook_spec_is_exercised_here():
    assert sorted(hook_names()) == sorted(HOOKS + EVALUATION_HOOKS + OPTIM_HOOKS + AUGMENT_HOOKS)
    assert all(hasattr(test_plugin, hook) for hook in HOOKS)


def test_misspelled_hook_implementation_is_an_error():
    typo = make_plugin("typo", register_lossses=lambda register: None)
    with pytest.raises(GanzooError, match="register_lossses.*Known hooks: register_architectures"):
        make_plugin_manager([typo], entry_points=False)


def test_a_hook_function_without_the_marker_is_an_error():
    forgot = ModuleType("forgot")
    forgot.register_losses = lambda register: None  # no @ganzoo.hookimpl
    with pytest.raises(GanzooError, match="'forgot' defines register_losses without @ganzoo.hookimpl"):
        make_plugin_manager([forgot], entry_points=False)


def test_an_implementation_asking_for_an_unknown_argument_is_an_error():
    greedy = make_plugin("greedy", register_losses=lambda register, device: None)
    with pytest.raises(GanzooError, match=r"plugin 'greedy'.*\{'device'\} are declared in the hookimpl"):
        make_plugin_manager([greedy], entry_points=False)


def test_plugins_given_by_name_can_be_required(tmp_path):
    registry = Registry.from_plugin_manager(
        make_plugin_manager({"vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets}, entry_points=False)
    )
    assert registry.plugin_names == ["datasets", "vanilla"]
    assert registry.entry("loss", "bce").plugin == "vanilla"


def test_a_callback_can_stop_training_early(tmp_path, plugin_registry):
    class StopAtThree(ganzoo.Callback):
        def on_step_end(self, trainer):
            trainer.should_stop = trainer.step == 3

    from ganzoo.run import build_trainer

    recipe = load_recipe(
        write_recipe(
            tmp_path / "r.yaml",
            {
                "data": {"name": "labelled_line"},
                "model": {"name": "conditional_linear"},
                "loss": {"name": "counting_penalty"},
                "train": {"epochs": 5, "batch_size": 32},
            },
        ),
        plugin_registry,
    )
    trainer = build_trainer(recipe, plugin_registry)
    trainer.callbacks.append(StopAtThree())
    assert trainer.fit().step == 3 and trainer.status == "finished"


def test_samples_that_cannot_be_drawn_are_kept_as_tensors(tmp_path, plugin_registry):
    class Cube(LabelledLine):
        name = "cube"

        def load(self):
            data = super().load()
            return ganzoo.Data(torch.cat([data.samples, data.samples[:, :1]], dim=1), data.labels, 2)

    cube_plugin = make_plugin("cube", register_datasets=lambda register: register(Cube))
    registry = Registry.from_plugin_manager(make_plugin_manager([test_plugin, cube_plugin], entry_points=False))
    run = train(tmp_path, registry, {"data": {"name": "cube"}, "train": {"sample_every": 8}})
    assert sorted(p.name for p in (run.folder / "samples").iterdir()) == ["step_0000008.pt", "step_0000016.pt"]
    assert torch.load(run.folder / "samples" / "step_0000016.pt").shape == (16, 3)


def test_a_name_registered_twice_names_both_plugins():
    class Dup(ganzoo.Loss):
        """Another bce."""

        name = "bce"

    duplicate = make_plugin("duplicate", register_losses=lambda register: register(Dup))
    pm = make_plugin_manager([ganzoo_vanilla, duplicate], entry_points=False)
    with pytest.raises(GanzooError, match="loss 'bce' is registered twice: by plugin"):
        Registry.from_plugin_manager(pm)


@pytest.mark.parametrize(
    "component, reason",
    [
        (object, "not a subclass of ganzoo.Loss"),
        (type("Nameless", (ganzoo.Loss,), {}), "has no `name`"),
        (type("BadOptions", (ganzoo.Loss,), {"name": "bad", "Options": dict}), "`Options` is not a pydantic model"),
    ],
)
def test_malformed_components_are_refused(component, reason):
    plugin = make_plugin("malformed", register_losses=lambda register: register(component))
    with pytest.raises(GanzooError, match=reason):
        Registry.from_plugin_manager(make_plugin_manager([plugin], entry_points=False))


def test_implementations_may_take_fewer_arguments_than_the_spec():
    plugin = make_plugin("lazy", register_losses=lambda: None)
    registry = Registry.from_plugin_manager(make_plugin_manager([plugin], entry_points=False))
    assert registry.names("loss") == []


def test_components_are_usable_directly_with_explicit_options():
    from ganzoo_vanilla.models import VanillaMLP

    arch = VanillaMLP(latent_dim=8, hidden_dim=16)
    generator = arch.build_generator(ganzoo.DataInfo(shape=(1, 4, 4)))
    assert generator(arch.sample_latent(3, device="cpu")).shape == (3, 1, 4, 4)
    with pytest.raises(ValueError, match="latent_dims"):
        VanillaMLP(latent_dims=8)


def test_bundled_plugins_are_found_through_the_entry_point_group():
    """The installed `ganzoo` command sees the bundled plugins as installed packages."""
    out = subprocess.run(
        [sys.executable, "-m", "ganzoo", "plugins", "--json"], capture_output=True, text=True, check=True
    ).stdout
    listing = json.loads(out)
    plugins = {p["name"]: p["distribution"] for p in listing["plugins"]}
    assert plugins["vanilla"] == "ganzoo-vanilla 0.1.0"
    assert plugins["datasets"] == "ganzoo-datasets 0.1.0"
    owners = {(c["kind"], c["name"]): c["plugin"] for c in listing["components"]}
    assert owners[("architecture", "vanilla_mlp")] == "vanilla"
    assert owners[("loss", "bce")] == "vanilla"
    assert {name for kind, name in owners if kind == "dataset"} >= {
        "mnist",
        "fashion_mnist",
        "image_folder",
        "ring",
        "grid",
    }
    options = next(c for c in listing["components"] if c["name"] == "vanilla_mlp")["options"]
    assert {
        "name": "latent_dim",
        "type": "int in (0, 100000]",
        "default": 64,
        "required": False,
        "help": "size of the noise vector z",
    } in options
