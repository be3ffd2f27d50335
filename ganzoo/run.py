"""From a validated recipe to a finished run folder.

This is the one place that turns recipe sections into objects: it asks the registry for
component classes, builds them with their options, and hands plain objects to the
:class:`~ganzoo.trainer.Trainer`.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, cast

import torch

from ganzoo.callback import Callback, TrainingRun
from ganzoo.checkpoint import Checkpointer, CheckpointError, latest_checkpoint
from ganzoo.components import Optimizer, Schedule
from ganzoo.cuda_graph import Decision, component_refusals, decide, schedule_names, setting_refusals
from ganzoo.data import BatchStream, to_model_range
from ganzoo.devices import select_device
from ganzoo.distributed import World, device_for, from_environment, shutdown
from ganzoo.errors import GanzooError, Problem, RecipeError
from ganzoo.evaluation import EvaluateEvery, Evaluation, select_metrics
from ganzoo.jsonl import read_metrics
from ganzoo.optim import make_capturable
from ganzoo.outputs import Curves, FinalWeights, MetricsLog, ProgressBar, ProgressVideo, SampleGrids, WandbLogger
from ganzoo.recipe import Recipe, load_recipe, saved_recipe
from ganzoo.registry import Registry, split_name
from ganzoo.runlock import run_lock
from ganzoo.sampling import preview_pairs
from ganzoo.scalars import scalar_infos
from ganzoo.trainer import Trainer
from ganzoo.weights import check_fits


def seed_everything(seed: int) -> None:
    """Seed every random stream training may touch (python, numpy, torch on all devices)."""
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy comes with torchvision
        pass
    torch.manual_seed(seed)


def build_trainer(recipe: Recipe, registry: Registry, world: World = World()) -> Trainer:
    """Every component of ``recipe``, built and wired into a trainer (no run folder yet).

    Construction order matters for reproducibility: after seeding, G is initialised before
    D, exactly like the reference script, so the same seed gives the same weights. Every
    rank of a data-parallel run builds the same models from the same seed.
    """
    config = recipe.config
    seed_everything(config.seed)
    device = device_for(world, select_device(config.device))

    def build(section: str, kind: str):
        name, options = recipe.component(section)
        return registry.get(kind, name)(**options)

    data = build("data", "dataset").load()
    if len(data) == 0:
        raise GanzooError("the dataset is empty")
    architecture = build("model", "architecture")
    generator = architecture.build_generator(data.info)
    discriminator = architecture.build_discriminator(data.info)
    if world.distributed and config.distributed.sync_batchnorm:
        generator, discriminator = (sync_batchnorm(net, device) for net in (generator, discriminator))
    generator, discriminator = generator.to(device), discriminator.to(device)
    loss = build("loss", "loss").to(device)
    train = config.train
    callbacks = [
        registry.get("callback", name)(**options) for name, options in map(split_name, recipe.resolved["callbacks"])
    ]
    decision = capture_decision(
        recipe,
        device,
        world,
        [("model", architecture), ("loss", loss)] + [("callback", callback) for callback in callbacks],
    )
    optim = recipe.resolved["optim"]

    def optimizer_and_schedule(network: str, module: torch.nn.Module) -> tuple[torch.optim.Optimizer, Schedule]:
        name, options = split_name(optim[network])
        schedule_name, schedule_options = split_name(options.pop("schedule", {"name": "constant"}))
        optimizer = cast(Optimizer, registry.get("optimizer", name)(**options)).build(module.parameters())
        if decision.captured:
            make_capturable(optimizer)
        return optimizer, cast(Schedule, registry.get("schedule", schedule_name)(**schedule_options))

    g_optimizer, g_schedule = optimizer_and_schedule("generator", generator)
    d_optimizer, d_schedule = optimizer_and_schedule("discriminator", discriminator)
    batches = BatchStream(data, train.batch_size, device, drop_last=train.drop_last, shard=(world.rank, world.size))
    _check_batches(recipe, len(data), len(batches))
    trainer = Trainer(
        generator=generator,
        discriminator=discriminator,
        architecture=architecture,
        loss=loss,
        batches=batches,
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        epochs=train.epochs,
        max_steps=train.max_steps,
        d_steps=train.d_steps,
        log_every=train.log_every,
        callbacks=callbacks,
        compile=train.compile,
        precision=train.precision,
        world=world,
        g_schedule=g_schedule,
        d_schedule=d_schedule,
        cuda_graph=decision.captured,
    )
    trainer.recipe = recipe.resolved  # the run context callbacks read (see ganzoo.TrainingRun)
    if recipe.config.train.cuda_graph == "auto":
        trainer.step_path_line = decision.line("auto")
    return trainer


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


def capture_decision(
    recipe: Recipe, device: torch.device, world: World, components: list[tuple[str, object]]
) -> Decision:
    """Whether the step is captured as one CUDA graph (``train.cuda_graph``), and why; ``on``
    that cannot be honoured here (the recipe checks what it can before, the world is known
    only now) is a recipe error. Under ``auto`` the run says which path it took, in one line,
    once training has started (:class:`StepPathLine`), so that an error before it stays one line."""
    mode, train = recipe.config.train.cuda_graph, recipe.config.train
    refusals = setting_refusals(
        device=device,
        distributed=world.distributed,
        compile=train.compile,
        precision=train.precision,
        schedules=schedule_names(recipe.resolved),
    )
    refusals += component_refusals(components)
    decision = decide(mode, refusals)
    if mode == "on" and not decision.captured:
        raise RecipeError([Problem("", "train.cuda_graph", f"on, but {reason}") for reason in refusals])
    return decision


class StepPathLine(Callback):
    """Says, in one line on stderr, which path ``train.cuda_graph: auto`` took and why, once
    training has started (after every output is ready): a run that fails before it, on bad
    data or a checkpoint that does not fit, still answers in one line."""

    name = "step_path_line"
    capturable = True  # it only prints, before the first step

    def __init__(self, line: str) -> None:
        self.line = line

    def on_train_start(self, trainer: TrainingRun) -> None:
        print(f"ganzoo: {self.line}", file=sys.stderr)


def sync_batchnorm(network: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``distributed.sync_batchnorm``: batch norm statistics over the global batch rather
    than each rank's share. PyTorch's SyncBatchNorm runs on GPUs only."""
    if device.type != "cuda":
        raise GanzooError(
            "distributed.sync_batchnorm needs CUDA devices (PyTorch's SyncBatchNorm does not run on "
            f"{device.type}); set it to false"
        )
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(network)


def new_run_folder(parent: Path, name: Optional[str], stem: str) -> Path:
    """A fresh folder under ``parent``: ``name``, or ``<recipe>-<date>-<time>``; a suffix
    keeps an existing run from ever being overwritten."""
    base = name or f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            folder = parent / (base if attempt == 1 else f"{base}-{attempt}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
    except OSError as error:
        raise GanzooError(f"cannot create the run folder under {parent}: {error}") from None
    raise GanzooError(f"too many runs named {base!r} under {parent}")


class RunInterrupted(GanzooError):
    """Training stopped cleanly on a signal, after the current step, with a checkpoint."""

    def __init__(self, folder: Optional[Path], step: int, checkpoint: Optional[Path], signal_number: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.folder = folder
        self.step = step
        self.checkpoint = checkpoint
        self.exit_status = 128 + signal_number  # 130 for Ctrl-C, 143 for SIGTERM


@dataclass
class Run:
    """A finished run: its folder (None on ranks other than 0) and the trainer that ran it."""

    folder: Optional[Path]
    trainer: Trainer
    wandb_folder: Optional[Path] = None
    wandb_mode: Optional[str] = None


def run_recipe(recipe: Recipe, registry: Registry, *, progress: bool = True) -> Run:
    """Train ``recipe`` into a new run folder with every built-in output attached.

    The folder holds ``recipe.yaml`` (fully resolved), ``metrics.jsonl``, ``curves/``,
    ``samples/``, ``checkpoints/``, ``weights.pt``, ``progress.mp4`` (or ``.gif``) and
    ``wandb/``.
    """
    config = recipe.config
    with _world(recipe) as world, _trainer(recipe, registry, world) as trainer:
        if not world.is_main:  # rank 0 alone writes the run folder
            return _train(recipe, trainer, None, False)
        evaluation = _evaluation(
            recipe, registry, trainer, progress
        )  # a metric that cannot run fails before the folder exists
        folder = new_run_folder(Path(config.run.dir), config.run.name, recipe.stem)
        with run_lock(folder):
            (folder / "recipe.yaml").write_text(recipe.to_yaml(), encoding="utf-8")
            return _train(
                recipe, trainer, folder, progress, evaluation, preview_pairs(recipe, registry, trainer.batches.data)
            )


def resume_run(folder: Path, registry: Registry, overrides: Iterable[str] = (), *, progress: bool = True) -> Run:
    """Continue the run in ``folder`` from its newest loadable checkpoint, in the same
    folder. Overrides may change the recipe (``train.epochs=400`` to train longer).

    The folder is locked first (by rank 0, which alone writes it): a run that another
    process is training is refused before anything is built or read."""
    folder = Path(folder)
    recipe = load_recipe(saved_recipe(folder), registry, overrides)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    with run_lock(folder) if main_rank else contextlib.nullcontext():
        path, state, warnings = latest_checkpoint(folder)
        with _world(recipe) as world, _trainer(recipe, registry, world) as trainer:
            load_fitting_state(trainer, state["trainer"], path)  # every rank continues from the same state
            if not world.is_main:
                return _train(recipe, trainer, None, False)
            for warning in warnings:
                print(f"ganzoo: warning: {warning}", file=sys.stderr)
            for stale in (folder / "checkpoints").glob(".*.tmp"):  # writes cut short by a kill
                stale.unlink(missing_ok=True)
            if overrides:
                (folder / "recipe.yaml").write_text(recipe.to_yaml(), encoding="utf-8")
            print(f"ganzoo: resuming {folder} from {path.name} (step {trainer.step})", file=sys.stderr)
            return _train(
                recipe,
                trainer,
                folder,
                progress,
                _evaluation(recipe, registry, trainer, progress),
                preview_pairs(recipe, registry, trainer.batches.data),
            )


def load_fitting_state(trainer: Trainer, state: object, path: Path) -> None:
    """``trainer.load_state_dict(state)`` once both networks' weights are checked against
    the recipe's model; whatever else does not fit is one line naming the checkpoint."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: its trainer state is not a mapping; the file is damaged")
    check_fits(trainer.generator, state.get("generator"), "generator", path)
    check_fits(trainer.discriminator, state.get("discriminator"), "discriminator", path)
    for key, fresh in trainer.state_dict().items():  # the same structure as this trainer's own state
        saved = state.get(key, fresh)
        if (
            fresh is not None
            and type(saved) is not type(fresh)
            or (isinstance(fresh, int) and isinstance(saved, int) and not 0 <= saved <= 2**62)
        ):
            raise CheckpointError(
                f"{path} does not fit the recipe: its trainer state {key!r} is a "
                f"{type(saved).__name__} where a {type(fresh).__name__} belongs; the file is "
                f"damaged or was not written by ganzoo"
            )
    try:
        trainer.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise CheckpointError(
            f"{path} does not fit the recipe: {reason}; was recipe.yaml edited, or is the checkpoint from another run?"
        ) from None


@contextlib.contextmanager
def _world(recipe: Recipe) -> Iterator[World]:
    """The data-parallel world torchrun set up (a world of one without torchrun), torn
    down at the end whatever happens."""
    world = from_environment(recipe.config.distributed.timeout)
    try:
        yield world
    finally:
        shutdown(world)


@contextlib.contextmanager
def _trainer(recipe: Recipe, registry: Registry, world: World) -> Iterator[Trainer]:
    """The recipe's trainer, whose hold on the process group is let go before the world
    is torn down (a gloo group freed only at interpreter exit can abort the process)."""
    trainer = build_trainer(recipe, registry, world)
    try:
        yield trainer
    finally:
        trainer.release_world()


def _evaluation(recipe: Recipe, registry: Registry, trainer: Trainer, progress: bool) -> Optional[Evaluation]:
    """The evaluation session of a recipe with ``eval.every`` set, else None."""
    if not recipe.config.eval.every:
        return None
    data = trainer.batches.data
    metrics = select_metrics(registry, recipe, data)
    return Evaluation(registry, recipe, data, metrics, device=trainer.device, progress=progress)


def _train(
    recipe: Recipe,
    trainer: Trainer,
    folder: Optional[Path],
    progress: bool,
    evaluation: Optional[Evaluation] = None,
    pairs: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
) -> Run:
    """Attach the outputs, train, and turn a clean stop on a signal into RunInterrupted.
    Without a ``folder`` (ranks other than 0), nothing is written: only the recipe's
    own callbacks run."""
    config = recipe.config
    trainer.folder = folder
    if folder is None:
        with _stop_on_signals(trainer) as received:
            trainer.fit()
        if trainer.status == "interrupted":
            raise RunInterrupted(None, trainer.step, None, received[0] if received else signal.SIGINT)
        return Run(None, trainer)
    wandb = None
    if config.wandb.mode != "disabled":
        wandb = WandbLogger(config.wandb, folder, folder.name, recipe.resolved)
    real = (
        None if trainer.batches.samples.dtype == torch.uint8 else to_model_range(trainer.batches.samples[:2000]).cpu()
    )
    checkpoints = Checkpointer(folder, recipe.resolved, **config.checkpoint.model_dump())
    scalars = scalar_infos(type(trainer.loss))  # how the loss names what it logs
    outputs = [
        ProgressBar(disable=not progress, infos=scalars),
        MetricsLog(folder / "metrics.jsonl"),
        # Before the checkpointer: a checkpoint at the end of an epoch follows its evaluation.
        *([EvaluateEvery(folder, evaluation, config.eval.every)] if evaluation and config.eval.every else []),
        Curves(
            folder / "curves",
            config.video.curves_interval,
            history=read_metrics(folder / "metrics.jsonl", trainer.logged_through),
            infos=scalars,
        ),
        SampleGrids(
            folder / "samples",
            config.train.sample_every,
            config.train.num_samples,
            config.seed,
            real,
            on_saved=wandb.log_samples if wandb else None,
            pairs=pairs,
        ),
        checkpoints,
        FinalWeights(folder, on_saved=wandb.log_weights if wandb else None),
        # After the final grid (the video's last frame) and after the weights are safe.
        ProgressVideo(folder, config.video, progress=progress, on_saved=wandb.log_video if wandb else None),
    ]
    # The recipe's callbacks go first, so that what they change at a step (an EMA of G) is
    # in that step's grid, evaluation and checkpoint; wandb goes last so that it sees the
    # final grid, weights and video before it finishes. The auto line comes after everything
    # has started (wandb's connection too), so that a failure to start is the only line.
    said: list[Callback] = (
        [StepPathLine(trainer.step_path_line)] if trainer.step_path_line and trainer.world.is_main else []
    )
    trainer.callbacks = trainer.callbacks + outputs + ([wandb] if wandb else []) + said
    with _stop_on_signals(trainer) as received:
        trainer.fit()
    if trainer.status == "interrupted":
        raise RunInterrupted(folder, trainer.step, checkpoints.last_path, received[0] if received else signal.SIGINT)
    return Run(folder, trainer, wandb.run_folder if wandb else None, config.wandb.mode if wandb else None)


@contextlib.contextmanager
def _stop_on_signals(trainer: Trainer) -> Iterator[list[int]]:
    """The first Ctrl-C or SIGTERM asks the trainer to stop after the current step (it then
    writes a checkpoint); a second one stops at once, as a plain KeyboardInterrupt, which
    cannot corrupt anything because every file is written atomically."""
    received: list[int] = []

    def request_stop(number: int, frame: object) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(number)
        trainer.interrupt_requested = True
        print(
            "\nganzoo: stopping after this step and saving a checkpoint (press Ctrl-C again to quit at once)",
            file=sys.stderr,
        )

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield received
        return
    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
