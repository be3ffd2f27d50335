"""From a validated recipe to a trainer: the one place that turns recipe sections into objects.

It asks the registry for component classes, builds them with their options, decides whether
the step is captured as a CUDA graph (:func:`ganzoo.api.capture.capture_decision`, the policy
``ganzoo check`` applies too), builds the training step and hands it, with the batches,
schedules and callbacks, to the :class:`~ganzoo.train.loop.Trainer`.

Construction order matters for reproducibility: after seeding, G is initialised before D,
exactly like the reference script, so the same seed gives the same weights. Every rank of a
data-parallel run builds the same models from the same seed.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence, cast

import torch

from ganzoo.api import Architecture, Augment, Callback, GanzooError, Loss, Optimizer, Problem, RecipeError, Schedule
from ganzoo.api.architecture import Network
from ganzoo.api.capture import Decision, capture_decision
from ganzoo.inference.data import training_data
from ganzoo.plugins.registry import Registry, split_name
from ganzoo.recipe import Recipe, schedule_names
from ganzoo.run.outputs import output_classes
from ganzoo.train import BatchStream, CapturedStep, Trainer, TrainingStep
from ganzoo.train.devices import select_device
from ganzoo.train.distributed import World, device_for
from ganzoo.train.optimizers import build_optimizer
from ganzoo.train.rng import seed_everything


def build_trainer(recipe: Recipe, registry: Registry, world: World = World()) -> Trainer:
    """Every component of ``recipe``, built and wired into a trainer (no run folder yet)."""
    return build_run(recipe, registry, world)[0]


def build_run(
    recipe: Recipe, registry: Registry, world: World = World(), extra: Sequence[Callback] = ()
) -> tuple[Trainer, Decision]:
    """The trainer of ``recipe``, and whether (and why) its step is captured. ``extra``
    callbacks (a sweep's pruning, say) follow the recipe's own."""
    config, train = recipe.config, recipe.config.train
    seed_everything(config.seed)
    device = device_for(world, select_device(config.device))
    data = training_data(recipe, registry)
    if len(data) == 0:
        raise GanzooError("the dataset is empty")
    architecture: Architecture = recipe.build("model", registry)
    generator, discriminator = networks(architecture, data.info, world, device, config.distributed.sync_batchnorm)
    loss: Loss = recipe.build("loss", registry).to(device)
    augment: Augment = recipe.build("augment", registry).to(device)
    callbacks = [
        registry.get("callback", name)(**options) for name, options in map(split_name, recipe.resolved["callbacks"])
    ] + list(extra)
    components: list[tuple[str, object]] = [("model", architecture), ("loss", loss), ("augment", augment)]
    components += [("callback", callback) for callback in callbacks]
    components += [("output", output) for output in output_classes(config, world)]
    decision = decide_capture(recipe, device, world, components)
    g_optimizer, g_schedule = optimizer_and_schedule(recipe, registry, "generator", generator, architecture, loss)
    d_optimizer, d_schedule = optimizer_and_schedule(
        recipe, registry, "discriminator", discriminator, architecture, loss
    )
    batches = BatchStream(data, train.batch_size, device, drop_last=train.drop_last, shard=(world.rank, world.size))
    _check_batches(recipe, len(data), len(batches))
    step_class: Callable[..., TrainingStep] = (
        functools.partial(CapturedStep, batch_size=batches.batch_size) if decision.captured else TrainingStep
    )
    stepper = step_class(
        generator=generator,
        discriminator=discriminator,
        architecture=architecture,
        loss=loss,
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        device=device,
        d_steps=train.d_steps,
        precision=train.precision,
        compile=train.compile,
        world=world,
        augment=augment,
    )
    trainer = Trainer(
        stepper,
        batches,
        epochs=train.epochs,
        max_steps=train.max_steps,
        log_every=train.log_every,
        callbacks=callbacks,
        schedules={"generator": g_schedule, "discriminator": d_schedule},
    )
    trainer.recipe = recipe.resolved  # the run context callbacks read (see ganzoo.TrainingRun)
    return trainer, decision


def networks(
    architecture: Architecture, info, world: World, device: torch.device, sync: bool
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """G, then D, built for the data and moved to ``device`` (with SyncBatchNorm when asked)."""
    generator = architecture.build_generator(info)
    discriminator = architecture.build_discriminator(info)
    if world.distributed and sync:
        generator, discriminator = (sync_batchnorm(net, device) for net in (generator, discriminator))
    return generator.to(device), discriminator.to(device)


def optimizer_and_schedule(
    recipe: Recipe,
    registry: Registry,
    network: Network,
    module: torch.nn.Module,
    architecture: Architecture,
    loss: Loss,
) -> tuple[torch.optim.Optimizer, Schedule]:
    """The optimiser of ``network`` over ``module``'s parameters (in the groups its
    architecture declares, corrected for the loss's extra passes on it), and its schedule."""
    name, options = split_name(recipe.resolved["optim"][network])
    schedule_name, schedule_options = split_name(options.pop("schedule", {"name": "constant"}))
    optimizer = build_optimizer(
        cast(Optimizer, registry.get("optimizer", name)(**options)),
        module,
        architecture.parameter_groups(network),
        [extra for extra in loss.extra_passes() if extra.network == network],
        network,
    )
    return optimizer, cast(Schedule, registry.get("schedule", schedule_name)(**schedule_options))


def decide_capture(
    recipe: Recipe, device: torch.device, world: World, components: Sequence[tuple[str, object]]
) -> Decision:
    """Whether the step is captured as one CUDA graph (``train.cuda_graph``), and why; ``on``
    that cannot be honoured here (the recipe checks what it can before, the world is known
    only now) is a recipe error. Under ``auto`` the run says which path it took, in one line,
    once training has started, so that an error before it stays one line."""
    train = recipe.config.train
    decision = capture_decision(
        train.cuda_graph,
        device_type=device.type,
        distributed=world.distributed,
        compile=train.compile,
        precision=train.precision,
        schedules=schedule_names(recipe.resolved),
        components=components,
    )
    if decision.problems():
        raise RecipeError(decision.problems())
    return decision


def _check_batches(recipe: Recipe, samples: int, batches: int) -> None:
    """Refuse (as a recipe problem) a recipe whose epoch holds no step: fewer batches than
    ``train.d_steps`` takes per step. Only the loaded data tells, so ``check`` cannot."""
    train = recipe.config.train
    if batches >= train.d_steps:
        return
    have = f"an epoch of {samples} samples in batches of {train.batch_size} has {batches}"
    key = "train.d_steps" if batches else "train.batch_size"
    message = (
        f"{train.d_steps} discriminator updates per step need {train.d_steps} batches, but {have}"
        if batches
        else f"{have} (train.drop_last drops the incomplete one)"
    )
    raise RecipeError([Problem("", key, f"{message}; lower train.d_steps or train.batch_size")])


def sync_batchnorm(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``distributed.sync_batchnorm``: batch norm statistics over the global batch rather
    than each rank's share. PyTorch's SyncBatchNorm runs on GPUs only."""
    if device.type != "cuda":
        raise GanzooError(
            "distributed.sync_batchnorm needs CUDA devices (PyTorch's SyncBatchNorm does not run on "
            f"{device.type}); set it to false"
        )
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(network)
