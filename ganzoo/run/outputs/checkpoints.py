"""The checkpointer: the whole training state saved as the run goes (the file format is
:mod:`ganzoo.runfolder.checkpoints`'s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from ganzoo import __version__
from ganzoo.api import Callback, TrainingRun
from ganzoo.runfolder.checkpoints import atomic_save, checkpoint_contents
from ganzoo.runfolder.layout import RunFolder
from ganzoo.runfolder.weights import sampling_state

EPOCH_CHECKPOINT_STEPS = 1000
"""Without ``checkpoint.every``, the fewest steps between two end-of-epoch checkpoints: an
epoch of 500 images in batches of 64 is 8 steps, and a checkpoint every 8 steps would cost
more than the training."""


class Checkpointer(Callback):
    """Writes ``checkpoints/step_NNNNNNN.pt`` every ``every`` steps (or at the end of an
    epoch, at least :data:`EPOCH_CHECKPOINT_STEPS` after the last), when training ends or is
    interrupted cleanly, keeping the last ``keep_last``; and ``checkpoints/best.pt``
    whenever the logged ``best_metric`` improves.

    Before any write it checks that no loss or parameter has diverged, so a NaN never
    overwrites a good checkpoint."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "checkpointer"

    def __init__(
        self,
        run_folder: Path,
        recipe: dict[str, Any],
        every: Optional[int] = None,
        keep_last: int = 3,
        best_metric: Optional[str] = None,
        best_mode: Literal["min", "max"] = "min",
    ) -> None:
        self.layout = RunFolder(run_folder)
        self.recipe = recipe
        self.every = every
        self.keep_last = keep_last
        self.best_metric = best_metric
        self.best_mode = best_mode
        self.best: Optional[float] = None
        self.last_saved_step: Optional[int] = None
        self.last_path: Optional[Path] = None
        self.pending = False
        """A step checkpoint due at an epoch's last step, saved once the epoch has ended."""

    def on_train_start(self, trainer: "TrainingRun") -> None:
        self.last_saved_step = trainer.step if trainer.step else None  # a resumed run starts from a saved step

    def on_step_end(self, trainer: "TrainingRun") -> None:
        if self.every and trainer.step % self.every == 0:
            if trainer.step % trainer.steps_per_epoch == 0:
                # The epoch's last step: what its end logs at this step (an evaluation) must
                # come before the checkpoint, or a run resumed from it would log it twice.
                self.pending = True
            else:
                self.save(trainer)

    def on_epoch_end(self, trainer: "TrainingRun") -> None:
        due = not self.every and trainer.step - (self.last_saved_step or 0) >= EPOCH_CHECKPOINT_STEPS
        if due or self.pending:
            self.pending = False
            self.save(trainer)

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        value = scalars.get(self.best_metric) if self.best_metric else None
        if value is None:
            return
        if self.best is None or (value < self.best if self.best_mode == "min" else value > self.best):
            self.best = value
            best = {"metric": self.best_metric, "value": value}
            atomic_save(self._state(trainer, best), self.layout.best_checkpoint)

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if trainer.status in ("finished", "interrupted"):
            self.save(trainer)

    def save(self, trainer: "TrainingRun") -> Optional[Path]:
        if trainer.step == self.last_saved_step:
            return self.last_path
        trainer.check_finite()
        path = self.layout.checkpoint(trainer.step)
        atomic_save(self._state(trainer), path)
        self.last_saved_step, self.last_path = trainer.step, path
        for _, old in self.layout.step_checkpoints()[: -self.keep_last]:
            old.unlink(missing_ok=True)
        return path

    def _state(self, trainer: "TrainingRun", best: Optional[dict] = None) -> dict:
        trainer_state = {**trainer.state_dict(), **sampling_state(trainer)}
        return checkpoint_contents(trainer_state, self.recipe, trainer.data_info, __version__, best)
