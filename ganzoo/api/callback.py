"""Callbacks: the ``Callback`` base class and :class:`TrainingRun`, what a callback may read
of a run (a typed protocol instead of the whole trainer).

``Callback`` methods receive an object that satisfies :class:`TrainingRun` (the trainer does).
The built-in outputs (checkpoints, evaluations, sample grids) need nothing more. A callback
that needs more than this is relying on internals that may change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Protocol

import torch

from ganzoo.api.architecture import Architecture
from ganzoo.api.component import Component
from ganzoo.api.data import Data


class BatchSource(Protocol):
    """The part of the training batches a callback uses: the data and its class labels."""

    @property
    def data(self) -> Data:
        """The dataset as loaded."""

    @property
    def num_classes(self) -> Optional[int]: ...

    @property
    def labels(self) -> Optional[torch.Tensor]:
        """The condition when it is class labels, else None."""


class TrainingRun(Protocol):
    """The run as a callback sees it. Everything is read-only except ``should_stop``."""

    should_stop: bool
    """Set it to end training cleanly after the current step (as ``finished``)."""

    @property
    def step(self) -> int:
        """Generator updates made so far."""

    @property
    def epoch(self) -> int:
        """Epochs completed; the one in progress is ``display_epoch``."""

    @property
    def display_epoch(self) -> int:
        """The epoch in progress, counted from 1 (the last one once training is over); in
        ``on_epoch_end``, the epoch that just ended. Rows logged with ``log`` carry it."""

    @property
    def epochs(self) -> int: ...

    @property
    def max_steps(self) -> Optional[int]: ...

    @property
    def steps_per_epoch(self) -> int:
        """Generator steps in one epoch (every epoch has as many)."""

    @property
    def total_steps(self) -> int:
        """The steps the whole run makes (``epochs`` worth, capped by ``max_steps``)."""

    @property
    def log_every(self) -> int: ...

    @property
    def status(self) -> str:
        """created, running, finished, interrupted, aborted or failed: read it in ``on_train_end``."""

    @property
    def device(self) -> torch.device: ...

    @property
    def generator(self) -> torch.nn.Module:
        """The trained generator (see ``sampling_generator`` for the one to sample from)."""

    @property
    def discriminator(self) -> torch.nn.Module: ...

    @property
    def loss(self) -> torch.nn.Module:
        """The recipe's ``ganzoo.Loss`` (an ``nn.Module`` whose state is saved with the networks)."""

    @property
    def architecture(self) -> Architecture:
        """The recipe's ``ganzoo.Architecture``."""

    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The generator that grids, evaluations and ``weights.pt`` draw samples from: a
        callback's (an EMA of G), else the trained one."""

    @property
    def sampling_source(self) -> str:
        """Where ``sampling_generator`` comes from: ``trained``, or the callback's name (``ema``)."""

    @property
    def data_info(self) -> dict:
        """The data's ``shape`` and ``num_classes`` as plain values."""

    @property
    def learning_rates(self) -> dict[str, float]:
        """Each network's learning rate now, as its schedule has set it: ``{"generator":
        ..., "discriminator": ...}`` (the first parameter group of each optimiser). Every row
        the loop logs holds them too, as ``lr/generator`` and ``lr/discriminator``."""

    @property
    def last_scalars(self) -> dict[str, float]:
        """The scalars of the last ``on_log`` of the loop."""

    @property
    def logged_through(self) -> int:
        """The last step whose logged row cannot change (a resumed run logs the rest again)."""

    @property
    def batches(self) -> BatchSource:
        """The training batches: the data as loaded, its classes and labels."""

    def check_finite(self) -> None:
        """Raise ``DivergenceError`` if a loss or a parameter is NaN or infinite."""

    def state_dict(self) -> dict:
        """Everything needed to resume exactly where training stands (what a checkpoint holds)."""

    # ------------------------------------------------------------------ the run context

    @property
    def folder(self) -> Optional[Path]:
        """The run folder, on the process that writes it (``is_main``); None on the other
        ranks of a data-parallel run, and when the trainer runs without a folder. A callback
        writes its own files here; ``ganzoo.StepLog`` keeps a JSON-lines file that survives
        resume like ``metrics.jsonl``."""

    @property
    def rank(self) -> int:
        """This process's rank in a data-parallel run (0 without one)."""

    @property
    def is_main(self) -> bool:
        """Whether this process is the one that writes (rank 0): only it has a ``folder``."""

    @property
    def recipe(self) -> dict:
        """The fully resolved recipe as plain values (what the run folder's ``recipe.yaml``
        holds): ``run.recipe["train"]["batch_size"]``, ``run.recipe["loss"]["name"]``."""

    def log(self, scalars: dict[str, float]) -> None:
        """Log extra scalars at the current step, as a row of their own: ``metrics.jsonl``,
        the progress bar and wandb show them like the loop's. Use it instead of changing the
        ``scalars`` an ``on_log`` receives; logged from an ``on_log``, the row follows the one
        being logged. Every ``on_log`` sees the row, so do not log again in answer to it.
        Call it on every rank: only the writing process records it."""


class Callback(Component):
    """Observes training. Every method is optional.

    ``on_step_end`` runs every step and must not read tensor values (that would synchronise
    the device); ``on_log`` receives the averaged scalars every ``log_every`` steps.

    A callback with state that training depends on (an average of G's weights, a schedule)
    returns it from ``state_dict``: it is saved in every checkpoint under the callback's
    name and handed back to ``load_state_dict`` on resume, before ``on_train_start``. A
    callback that keeps better weights to sample from (an EMA of G) returns them from
    ``sampling_generator``: sample grids, evaluations during training, ``weights.pt`` and
    ``ganzoo sample``/``ganzoo eval`` then use them.
    """

    def state_dict(self) -> dict:
        """Tensors and plain values to save in checkpoints; empty when there is nothing."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned (called on resume, before training starts)."""

    def sampling_generator(self, trainer: TrainingRun) -> Optional[torch.nn.Module]:
        """A generator to draw samples from instead of the trained one, or None."""
        return None

    def on_train_start(self, trainer: TrainingRun) -> None: ...

    def on_step_end(self, trainer: TrainingRun) -> None: ...

    def on_log(self, trainer: TrainingRun, scalars: dict[str, float]) -> None: ...

    def on_epoch_end(self, trainer: TrainingRun) -> None: ...

    def on_train_end(self, trainer: TrainingRun) -> None: ...
