"""A run: a recipe trained into a new run folder, with every built-in output attached.

The folder holds ``recipe.yaml`` (fully resolved), ``metrics.jsonl``, ``curves/``,
``samples/``, ``checkpoints/``, ``weights.pt``, ``progress.mp4`` (or ``.gif``), ``wandb/``
and, with ``data.limit``, ``subset.json`` (:mod:`ganzoo.runfolder.layout`). Resuming one is :mod:`ganzoo.run.resume`'s.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import torch

from ganzoo.api import Callback, GanzooError, TrainingRun
from ganzoo.api.capture import Decision
from ganzoo.api.scalars import scalar_infos
from ganzoo.files.safe import atomic_write_text
from ganzoo.inference.data import preview_pairs, unseen_images
from ganzoo.inference.evaluation import Evaluation, select_metrics
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import Recipe
from ganzoo.run.build import build_run
from ganzoo.run.outputs import (
    Checkpointer,
    Curves,
    EvaluateEvery,
    FinalWeights,
    MetricsLog,
    OverfittingWatch,
    ProgressBar,
    ProgressVideo,
    SampleGrids,
    WandbLogger,
)
from ganzoo.run.signals import RunInterrupted, stop_on_signals
from ganzoo.runfolder.jsonl import read_rows
from ganzoo.runfolder.layout import RunFolder
from ganzoo.runfolder.lock import run_lock
from ganzoo.runfolder.subset import write_subset
from ganzoo.train import Trainer
from ganzoo.train.distributed import World, from_environment, shutdown


@dataclass
class Run:
    """A finished run: its folder (None on ranks other than 0) and the trainer that ran it."""

    folder: Optional[Path]
    trainer: Trainer
    wandb_folder: Optional[Path] = None
    wandb_mode: Optional[str] = None
    late_signal: Optional[int] = None
    """A Ctrl-C or SIGTERM that came after the last step (while the run's outputs were being
    finished): the run is whole, and a caller with more work to do stops there."""


def run_recipe(
    recipe: Recipe,
    registry: Registry,
    *,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    announce: Optional[Callable[[Path], None]] = None,
) -> Run:
    """Train ``recipe`` into a new run folder with every built-in output attached (and
    ``callbacks``, which follow the recipe's own); ``announce`` is told the folder as soon
    as it exists, before training starts."""
    config = recipe.config
    with world_of(recipe) as world, built(recipe, registry, world, callbacks) as (trainer, decision):
        if not world.is_main:  # rank 0 alone writes the run folder
            return train(recipe, registry, trainer, decision, None)
        evaluation = evaluation_session(recipe, registry, trainer, progress)  # fails before the folder exists
        folder = new_run_folder(Path(config.run.dir), config.run.name, recipe.stem)
        with run_lock(folder):
            atomic_write_text(RunFolder(folder).recipe, recipe.to_yaml())
            record_subset(recipe, trainer, RunFolder(folder).subset)
            if announce is not None:
                announce(folder)
            return train(recipe, registry, trainer, decision, folder, progress=progress, evaluation=evaluation)


def record_subset(recipe: Recipe, trainer: Trainer, path: Path) -> None:
    """``subset.json``, for a run that trains on ``data.limit`` samples."""
    data, config = trainer.batches.data, recipe.config.data
    if data.indices is not None and config.limit is not None:
        write_subset(path, data.indices, data.labels, config.limit, config.subset_seed)


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


@contextlib.contextmanager
def world_of(recipe: Recipe) -> Iterator[World]:
    """The data-parallel world torchrun set up (a world of one without torchrun), torn
    down at the end whatever happens."""
    world = from_environment(recipe.config.distributed.timeout)
    try:
        yield world
    finally:
        shutdown(world)


@contextlib.contextmanager
def built(
    recipe: Recipe, registry: Registry, world: World, extra: Sequence[Callback] = ()
) -> Iterator[tuple[Trainer, Decision]]:
    """The recipe's trainer and capture decision; the step's hold on the process group is
    let go before the world is torn down (a gloo group freed only at interpreter exit can
    abort the process)."""
    trainer, decision = build_run(recipe, registry, world, extra)
    try:
        yield trainer, decision
    finally:
        trainer.stepper.release_world()


def evaluation_session(recipe: Recipe, registry: Registry, trainer: Trainer, progress: bool) -> Optional[Evaluation]:
    """The evaluation session of a recipe with ``eval.every`` or ``eval.every_steps`` set, else None."""
    if not (recipe.config.eval.every or recipe.config.eval.every_steps):
        return None
    data = trainer.batches.data
    metrics = select_metrics(registry, recipe, data)
    return Evaluation(registry, recipe, data, metrics, device=trainer.device, progress=progress)


def train(
    recipe: Recipe,
    registry: Registry,
    trainer: Trainer,
    decision: Decision,
    folder: Optional[Path],
    *,
    progress: bool = False,
    evaluation: Optional[Evaluation] = None,
) -> Run:
    """Attach the outputs, train, and turn a clean stop on a signal into :class:`RunInterrupted`.
    Without a ``folder`` (ranks other than 0), nothing is written: only the recipe's own
    callbacks run."""
    outputs = None
    if folder is not None:
        # The auto line comes after everything has started (wandb's connection too), so that
        # a failure to start is the only line.
        said: list[Callback] = [StepPathLine(decision.line)] if decision.mode == "auto" else []
        outputs = attach_outputs(recipe, registry, trainer, folder, progress, evaluation, said)
    with stop_on_signals(trainer) as received:
        trainer.fit()
    if trainer.status == "interrupted":
        last = outputs.checkpoints.last_path if outputs is not None else None
        raise RunInterrupted(folder, trainer.step, last, received[0] if received else signal.SIGINT)
    return finished_run(recipe, trainer, outputs, received[0] if received else None)


def attach_outputs(
    recipe: Recipe,
    registry: Registry,
    trainer: Trainer,
    folder: Path,
    progress: bool,
    evaluation: Optional[Evaluation],
    said: Sequence[Callback] = (),
) -> "Outputs":
    """Give ``trainer`` its run folder and every built-in output. The recipe's callbacks go
    first, so that what they change at a step (an EMA of G) is in that step's grid,
    evaluation and checkpoint; wandb goes last so that it sees the final grid, weights and
    video before it finishes; ``said`` (lines to print once training starts) after all."""
    trainer.folder = folder
    outputs = Outputs(recipe, registry, trainer, folder, progress, evaluation)
    trainer.callbacks = trainer.callbacks + outputs.callbacks + list(said)
    return outputs


def finished_run(recipe: Recipe, trainer: Trainer, outputs: Optional["Outputs"], late: Optional[int]) -> Run:
    """The :class:`Run` of a trainer whose training is over."""
    if outputs is None or outputs.wandb is None:
        return Run(trainer.folder, trainer, late_signal=late)
    return Run(trainer.folder, trainer, outputs.wandb.run_folder, recipe.config.wandb.mode, late_signal=late)


class Outputs:
    """The built-in outputs of a run folder, in the order they run."""

    def __init__(
        self,
        recipe: Recipe,
        registry: Registry,
        trainer: Trainer,
        folder: Path,
        progress: bool,
        evaluation: Optional[Evaluation],
    ) -> None:
        config, layout = recipe.config, RunFolder(folder)
        self.wandb = (
            WandbLogger(config.wandb, folder, folder.name, recipe.resolved) if config.wandb.mode != "disabled" else None
        )
        samples = trainer.batches.samples
        real = None if samples.dtype == torch.uint8 else samples[:2000].cpu()  # points: the scatter's background
        self.checkpoints = Checkpointer(folder, recipe.resolved, **config.checkpoint.model_dump())
        scalars = scalar_infos(trainer.loss, trainer.stepper.augment)  # how they name what they log
        wandb = self.wandb
        watch = overfitting_watch(recipe, registry, trainer)
        self.callbacks: list[Callback] = [
            ProgressBar(disable=not progress, infos=scalars),
            MetricsLog(layout.metrics),
            *([watch] if watch else []),  # before the checkpointer: its row belongs to the checkpoint's step
            # Before the checkpointer: a checkpoint at the end of an epoch follows its evaluation.
            *([EvaluateEvery(folder, evaluation, config.eval.every, config.eval.every_steps)] if evaluation else []),
            Curves(
                layout.curves, config.video.curves_interval, read_rows(layout.metrics, trainer.logged_through), scalars
            ),
            SampleGrids(
                layout.samples,
                config.train.sample_every,
                config.train.num_samples,
                config.seed,
                real,
                on_saved=wandb.log_samples if wandb else None,
                pairs=preview_pairs(recipe, registry, trainer.batches.data),
            ),
            self.checkpoints,
            FinalWeights(folder, on_saved=wandb.log_weights if wandb else None),
            # After the final grid (the video's last frame) and after the weights are safe.
            ProgressVideo(folder, config.video, progress=progress, on_saved=wandb.log_video if wandb else None),
            *([wandb] if wandb else []),
        ]


def overfitting_watch(recipe: Recipe, registry: Registry, trainer: Trainer) -> Optional[OverfittingWatch]:
    """The watch of ``train.overfitting_batch``, or None: switched off, no real images the
    run does not train on, a D whose output is a reconstruction (no verdict to average), or
    a data-parallel D with synchronised batch norm (rank 0 alone would wait for the others)."""
    config = recipe.config
    if not config.train.overfitting_batch or trainer.architecture.discriminator_output() == "reconstruction":
        return None
    if trainer.world.distributed and config.distributed.sync_batchnorm:
        return None
    held_out = unseen_images(recipe, registry, trainer.batches.data)
    if held_out is None:
        return None
    return OverfittingWatch(trainer.batches.data, held_out, config.train.overfitting_batch, config.seed)


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
