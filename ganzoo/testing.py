"""Helpers for testing a plugin, public API: ``from ganzoo import testing``.

A plugin's tests need a few things that otherwise take ganzoo's internals: a registry of
exactly the plugins under test (whatever else is installed), a small data set, the
``StepContext`` a loss receives (to unit-test a loss without a training loop), a short run
of a recipe into a temporary folder, the rows that run logged, the optimiser a run builds
for a network (with the parameter groups and extra passes its components declare) and
samples drawn from a run as ``ganzoo sample`` draws them (with sampling options). Each is
one call here; this module is the supported path to them, and it stays stable when the
modules behind it move.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Optional, Union, cast

import torch

from ganzoo.api import Architecture, Data, Loss, Optimizer, StepContext, to_model_range
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import Recipe, load_recipe
from ganzoo.run import Run, run_recipe
from ganzoo.runfolder.jsonl import read_rows
from ganzoo.runfolder.layout import RunFolder
from ganzoo.train.optimizers import build_optimizer

__all__ = [
    "Recipe",
    "Registry",
    "Run",
    "load_recipe",
    "optimizer",
    "read_metrics",
    "registry",
    "samples",
    "short_run",
    "small_data",
    "step_context",
]

Modules = Union[Iterable[types.ModuleType], Mapping[str, types.ModuleType]]


def registry(plugins: Modules, *, entry_points: bool = False) -> Registry:
    """A registry of the components of ``plugins`` only: a list of modules (each named
    after its module) or ``{plugin name: module}`` (name them like their entry points, so
    that a recipe's ``requires:`` is satisfied). ``entry_points=True`` adds every installed
    plugin, as the ``ganzoo`` command sees them."""
    modules = dict(plugins) if isinstance(plugins, Mapping) else list(plugins)
    return Registry.from_plugin_manager(make_plugin_manager(modules, entry_points=entry_points))


def small_data(
    kind: str = "points",
    n: int = 64,
    *,
    shape: Optional[tuple[int, ...]] = None,
    num_classes: Optional[int] = None,
    seed: int = 0,
) -> Data:
    """``n`` random samples: ``"points"`` (float32, ``shape`` default ``(2,)``) or
    ``"images"`` (uint8, ``shape`` default ``(1, 8, 8)``), with ``num_classes`` labels
    when given. Deterministic for a ``seed``; enough to build networks and take a step."""
    generator = torch.Generator().manual_seed(seed)
    if kind == "points":
        samples = torch.randn((n, *(shape or (2,))), generator=generator)
    elif kind == "images":
        samples = torch.randint(0, 256, (n, *(shape or (1, 8, 8))), generator=generator, dtype=torch.uint8)
    else:
        raise ValueError(f"kind must be 'points' or 'images', got {kind!r}")
    labels = torch.randint(num_classes, (n,), generator=generator) if num_classes else None
    return Data(samples, labels, num_classes)


def step_context(
    architecture: Architecture,
    data: Data,
    *,
    batch_size: int = 8,
    step: int = 0,
    device: Union[str, torch.device] = "cpu",
) -> StepContext:
    """What a loss receives for one update: the first ``batch_size`` samples of ``data``
    in the model range (and their condition), and ``architecture``'s networks built for
    ``data``. Call ``loss.discriminator_loss(ctx)`` and ``loss.generator_loss(ctx)`` on it."""
    device = torch.device(device)
    generator = architecture.build_generator(data.info).to(device)
    discriminator = architecture.build_discriminator(data.info).to(device)
    real = to_model_range(data.samples[:batch_size]).to(device)
    condition = data.condition[:batch_size] if data.condition is not None else None
    if condition is not None:
        condition = to_model_range(condition).to(device) if condition.dim() > 1 else condition.to(device)
    return StepContext(real, condition, generator, discriminator, architecture, step)


def short_run(
    recipe: Union[str, Path],
    registry: Registry,
    folder: Union[str, Path],
    overrides: Iterable[str] = (),
    *,
    steps: int = 4,
) -> Run:
    """Train ``recipe`` for ``steps`` steps into a new run folder under ``folder`` (logging
    every step, wandb off, no progress bar), as ``ganzoo run`` would; ``overrides`` come
    last, so they may change any of that. ``Run.folder`` is the run folder."""
    defaults = [f"run.dir={folder}", "wandb.mode=disabled", f"train.max_steps={steps}", "train.log_every=1"]
    return run_recipe(load_recipe(recipe, registry, [*defaults, *overrides]), registry, progress=False)


def read_metrics(folder: Union[str, Path]) -> list[dict]:
    """The rows a run logged (its ``metrics.jsonl``), in order: the loop's (``step``,
    ``epoch``, ``d_loss``, ``g_loss``, the loss's own, ``lr/generator``, ``lr/discriminator``)
    and those callbacks logged with ``run.log``, each a row of its own."""
    return read_rows(RunFolder(Path(folder)).metrics)


def optimizer(
    network: Literal["generator", "discriminator"],
    module: torch.nn.Module,
    architecture: Architecture,
    loss: Optional[Loss] = None,
    *,
    name: str = "adam",
    **options: Any,
) -> torch.optim.Optimizer:
    """The torch optimiser a run builds for ``network`` (``module``, built by
    ``architecture``): the core's optimiser ``name`` with ``options`` (as under
    ``optim.<network>`` in a recipe), over the parameter groups ``architecture`` declares,
    corrected for the extra passes of ``loss`` on that network."""
    component = cast(Optimizer, registry([]).get("optimizer", name)(**options))
    passes = [extra for extra in (loss.extra_passes() if loss is not None else ()) if extra.network == network]
    return build_optimizer(component, module, architecture.parameter_groups(network), passes, network)


def samples(
    folder: Union[str, Path],
    registry: Registry,
    n: int,
    *,
    seed: int = 0,
    trained: bool = False,
    **sampling_options: Any,
) -> torch.Tensor:
    """``n`` samples in the model range from the run folder (or checkpoint) ``folder``, drawn
    as ``ganzoo sample`` draws them: seeded latents, the weights to sample from (``trained``
    for the trained G) and ``sampling_options`` checked against what the architecture
    declares (``truncation=0.5``; an undeclared one is a ``ganzoo.GanzooError``)."""
    from ganzoo.inference import generate, load_trained
    from ganzoo.inference import sampling_options as checked_options

    model = load_trained(Path(folder), registry, trained=trained)
    options = checked_options(model.architecture, sampling_options)
    return generate(model.generator, model.architecture, n, device=model.device, seed=seed, options=options)
