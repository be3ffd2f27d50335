"""The files ``ganzoo new-plugin`` writes: a plugin package whose tests pass as generated.

Every kind of component gets a small working example of itself, a recipe that trains it on
the ring of 8 Gaussians (seconds on a CPU), and tests on ``ganzoo.testing``. The package
imports only ``ganzoo`` and ``ganzoo.testing``, as a plugin should. ``{name}``, ``{Class}``,
``{kind}`` and ``{section}`` are filled in by :func:`files`.
"""

from __future__ import annotations

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "ganzoo-{dashed}"
version = "0.1.0"
description = "A ganzoo plugin: the {kind} {name}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["ganzoo", "torch"]

[project.optional-dependencies]
test = ["pytest"]

# This table makes the package a plugin: ganzoo loads every module of the `ganzoo` group. The
# key is the plugin's name, which recipes list under `requires:`.
[project.entry-points.ganzoo]
{name} = "ganzoo_{name}"

[tool.setuptools]
packages = ["ganzoo_{name}"]

# The recipes the plugin ships, in the package's recipes/ folder: `ganzoo recipes` lists them
# and `ganzoo run {name}_ring` runs one by name.
[tool.setuptools.package-data]
"ganzoo_{name}" = ["recipes/*.yaml"]
"""

README = """\
# ganzoo-{dashed}

A ganzoo plugin that registers the {kind} `{name}`.

```sh
pip install -e .            # ganzoo finds it through its entry point
ganzoo plugins {name}       # the component and its options
ganzoo run {name}_ring      # the recipe it ships: the vanilla GAN on a ring, with {name}
pytest                      # its tests, on ganzoo.testing
```

Everything is in `ganzoo_{name}/__init__.py`; the recipe is `ganzoo_{name}/recipes/{name}_ring.yaml`.
"""

RECIPE = """\
# The vanilla GAN on the ring of 8 Gaussians, with the {kind} {name} of the plugin {name}.
#   ganzoo run {name}_ring
extends: toy_ring
requires: [vanilla, datasets, {name}]

{section}
train:
  epochs: 2
"""

TESTS = """\
\"\"\"The tests of the plugin {name}, through ganzoo.testing: a registry of exactly the plugins
the recipe needs, and a short run of the recipe the plugin ships.\"\"\"

from pathlib import Path

import ganzoo_datasets
import ganzoo_vanilla
import pytest

import ganzoo
import ganzoo_{name}
from ganzoo import testing

RECIPE = Path(ganzoo_{name}.__file__).parent / "recipes" / "{name}_ring.yaml"


@pytest.fixture
def registry():
    return testing.registry({{"vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets, "{name}": ganzoo_{name}}})


def test_the_component_is_registered(registry):
    assert issubclass(ganzoo_{name}.{Class}, ganzoo.{Base})
    assert registry.get("{kind}", "{name}") is ganzoo_{name}.{Class}
    assert registry.entry("{kind}", "{name}").plugin == "{name}"


def test_the_recipe_is_valid(registry):
    recipe = testing.load_recipe(RECIPE, registry)
    assert "{name}" in recipe.config.requires


def test_a_short_run(registry, tmp_path):
    run = testing.short_run(RECIPE, registry, tmp_path, ["data.size=1024", "train.batch_size=256"], steps=8)
    rows = testing.read_metrics(run.folder)
    assert [row["step"] for row in rows if "d_loss" in row] == list(range(1, 9))  # short_run logs every step
    assert any("{logged}" in row for row in rows), "metrics.jsonl should show {logged}"
"""

HEADER = """\
\"\"\"The ganzoo plugin {name}: the {kind} {name} (written by `ganzoo new-plugin`; make it yours).

It imports nothing from ganzoo but the public API. pyproject.toml names this module in the
`ganzoo` entry-point group, which is how ganzoo finds it once the package is installed.
\"\"\"

from __future__ import annotations

{imports}
import ganzoo

"""

COMPONENTS = {
    "dataset": (
        "data:\n  name: {name}\n  size: 50000",
        "d_loss",
        '''
class {Class}(ganzoo.Dataset):
    """Points on a circle with Gaussian noise around it: a dataset of 2-D points."""

    name = "{name}"

    class Options(ganzoo.Options):
        size: PositiveInt = Field(10_000, description="number of points")
        radius: PositiveFloat = Field(2.0, description="radius of the circle")
        seed: int = Field(0, description="seed of the points (independent of the recipe's seed)")

    options: Options

    def provides(self) -> ganzoo.DataSpec:
        return ganzoo.DataSpec("points", (2,), labels=False)

    def load(self) -> ganzoo.Data:
        generator = torch.Generator().manual_seed(self.options.seed)
        angle = torch.rand(self.options.size, generator=generator) * 2 * torch.pi
        points = torch.stack([angle.cos(), angle.sin()], dim=1) * self.options.radius
        points += 0.02 * torch.randn(points.shape, generator=generator)
        return ganzoo.Data(points)


@ganzoo.hookimpl
def register_datasets(register):
    register({Class})
''',
    ),
    "architecture": (
        "model:\n  name: {name}\n  latent_dim: 8\n  width: 64",
        "d_loss",
        '''
class {Class}(ganzoo.Architecture):
    """Fully connected G and D for any data (images are flattened); D outputs a probability."""

    name = "{name}"
    capturable = True  # every update is device work on tensors the networks keep

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(8, description="size of the noise vector z")
        width: PositiveInt = Field(64, description="width of the hidden layers")

    options: Options

    def discriminator_output(self) -> str:
        return "probability"

    def build_generator(self, data: ganzoo.DataInfo) -> torch.nn.Module:
        size, w = math.prod(data.shape), self.options.width
        layers = [torch.nn.Linear(self.options.latent_dim, w), torch.nn.ReLU(), torch.nn.Linear(w, size)]
        return _Shaped(torch.nn.Sequential(*layers), data.shape, tanh=len(data.shape) == 3)

    def build_discriminator(self, data: ganzoo.DataInfo) -> torch.nn.Module:
        size, w = math.prod(data.shape), self.options.width
        layers = [torch.nn.Flatten(), torch.nn.Linear(size, w), torch.nn.LeakyReLU(0.2), torch.nn.Linear(w, 1)]
        return _Shaped(torch.nn.Sequential(*layers, ganzoo.Float32Sigmoid()), (1,))

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)


class _Shaped(torch.nn.Module):
    """A network called as ganzoo calls it, ``net(x, condition)``, its output in ``shape``."""

    def __init__(self, net: torch.nn.Module, shape: tuple, tanh: bool = False) -> None:
        super().__init__()
        self.net, self.shape, self.tanh = net, tuple(shape), tanh

    def forward(self, x: torch.Tensor, condition=None) -> torch.Tensor:
        out = self.net(x).view(len(x), *self.shape)
        return out.tanh() if self.tanh else out


@ganzoo.hookimpl
def register_architectures(register):
    register({Class})
''',
    ),
    "loss": (
        "loss:\n  name: {name}",
        "d_real",
        '''
class {Class}(ganzoo.Loss):
    """Least squares on D's probabilities: D pushes D(x) to 1 and D(G(z)) to 0, G pushes D(G(z)) to 1."""

    name = "{name}"
    capturable = True  # device work only, no host reads

    class Options(ganzoo.Options):
        weight: PositiveFloat = Field(1.0, description="scale of both losses")

    options: Options

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("probability",))

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_real = ctx.discriminator(ctx.real, ctx.labels)
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels).detach(), ctx.labels)
        loss = ((d_real - 1) ** 2).mean() + (d_fake**2).mean()
        return ganzoo.LossOutput(self.options.weight * loss / 2, {{"d_real": d_real.mean().detach(), "d_fake": d_fake.mean().detach()}})

    def generator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)
        return ganzoo.LossOutput(self.options.weight * ((d_fake - 1) ** 2).mean() / 2)


@ganzoo.hookimpl
def register_losses(register):
    register({Class})
''',
    ),
    "callback": (
        "callbacks:\n  - name: {name}",
        "{name}/g_norm",
        '''
class {Class}(ganzoo.Callback):
    """Logs the norm of G's weights at the end of every epoch, as {name}/g_norm."""

    name = "{name}"
    capturable = True  # it runs between steps and replaces no tensor the step holds

    class Options(ganzoo.Options):
        every: PositiveInt = Field(1, description="epochs between two values")

    options: Options

    def on_epoch_end(self, run: ganzoo.TrainingRun) -> None:
        # Between steps, a host read is fine; the row carries the epoch that just ended.
        if run.epoch % self.options.every == 0:
            norm = torch.cat([p.detach().flatten() for p in run.generator.parameters()]).norm()
            run.log({{"{name}/g_norm": float(norm)}})


@ganzoo.hookimpl
def register_callbacks(register):
    register({Class})
''',
    ),
    "optimizer": (
        "optim:\n  generator: {{name: {name}, lr: 1.0e-3}}\n  discriminator: {{name: {name}, lr: 1.0e-3}}",
        "lr/generator",
        '''
class {Class}(ganzoo.Optimizer):
    """Adam with beta1 0.5, as most GAN papers train, and one option: the learning rate."""

    name = "{name}"

    class Options(ganzoo.Options):
        lr: PositiveFloat = Field(2e-4, description="the learning rate")

    options: Options

    def build(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.options.lr, betas=(0.5, 0.999))


@ganzoo.hookimpl
def register_optimizers(register):
    register({Class})
''',
    ),
    "schedule": (
        "optim:\n  generator: {{name: adam, lr: 1.0e-3, betas: [0.5, 0.999], schedule: {{name: {name}, steps: 4}}}}",
        "schedule/generator/warmup",
        '''
class {Class}(ganzoo.Schedule):
    """Linear warm-up of the learning rate over the first `steps` steps, constant after."""

    name = "{name}"

    class Options(ganzoo.Options):
        steps: PositiveInt = Field(100, description="steps to reach the optimiser's learning rate")

    options: Options

    def start(self, optimizer: torch.optim.Optimizer, total_steps: int) -> None:
        self.optimizer, self.done = optimizer, 0
        self.base = [group["lr"] for group in optimizer.param_groups]
        self._apply()

    def step(self) -> None:
        self.done += 1
        self._apply()

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base):
            group["lr"] = base * self.fraction

    @property
    def fraction(self) -> float:
        return min(1.0, (self.done + 1) / self.options.steps)

    def log_values(self) -> dict[str, float]:
        return {{"warmup": self.fraction}}  # logged as schedule/<network>/warmup

    def state_dict(self) -> dict:
        return {{"done": self.done}}

    def load_state_dict(self, state: dict) -> None:
        self.done = state["done"]
        self._apply()


@ganzoo.hookimpl
def register_schedules(register):
    register({Class})
''',
    ),
    "metric": (
        "eval:\n  n: 256\n  every: 1\n  metrics: [{{name: {name}}}]",
        "{name}",
        '''
class {Class}(ganzoo.Metric):
    """How far generated samples spread: their mean distance from the mean of the real ones."""

    name = "{name}"

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        centre = ctx.real.float().flatten(1).mean(0)
        return {{"{name}": float((ctx.fake.float().flatten(1) - centre).norm(dim=1).mean())}}


@ganzoo.hookimpl
def register_metrics(register):
    register({Class})
''',
    ),
}
"""Kind -> (the recipe's section, a key the short run logs because of it, the component)."""

BASES = {
    "dataset": "Dataset",
    "architecture": "Architecture",
    "loss": "Loss",
    "callback": "Callback",
    "optimizer": "Optimizer",
    "schedule": "Schedule",
    "metric": "Metric",
}


def files(name: str, kind: str) -> dict[str, str]:
    """The package's files, by path relative to its folder."""
    section, logged, component = COMPONENTS[kind]
    values = {
        "name": name,
        "dashed": name.replace("_", "-"),
        "Class": "".join(part.capitalize() for part in name.split("_")),
        "kind": kind,
        "Base": BASES[kind],
    }
    values["section"] = section.format(**values)
    values["logged"] = logged.format(**values)
    values["imports"] = _imports(component)
    return {
        "pyproject.toml": PYPROJECT.format(**values),
        "README.md": README.format(**values),
        f"ganzoo_{name}/__init__.py": HEADER.format(**values) + component.format(**values),
        f"ganzoo_{name}/recipes/{name}_ring.yaml": RECIPE.format(**values),
        f"tests/test_{name}.py": TESTS.format(**values),
    }


def _imports(component: str) -> str:
    """The import lines a component's code needs (and no unused one)."""
    lines = ["import math\n"] if "math." in component else []
    lines.append("import torch\n")
    names = [name for name in ("Field", "PositiveFloat", "PositiveInt") if name in component]
    if names:
        lines.append(f"from pydantic import {', '.join(names)}\n")
    return "".join(lines)
