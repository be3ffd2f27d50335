"""Evaluations during training (``eval.every`` epochs, ``eval.every_steps`` steps): logged
like any scalar and recorded in ``eval.jsonl``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ganzoo.api import Callback, TrainingRun
from ganzoo.inference.evaluation import Evaluation
from ganzoo.inference.records import record, scalars
from ganzoo.runfolder.jsonl import keep_rows
from ganzoo.runfolder.layout import RunFolder


class EvaluateEvery(Callback):
    """During training: evaluates every ``every`` epochs and every ``every_steps`` steps (a
    run on a few hundred images has epochs of a few steps), and at the end; logs the results
    like any scalar (``metrics.jsonl``, wandb, ``checkpoint.best_metric``) and appends
    them to ``eval.jsonl``. Must come before the checkpointer, so that a checkpoint taken
    at the end of an epoch already follows its evaluation."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "evaluate_every"

    def __init__(
        self, folder: Path, evaluation: Evaluation, every: Optional[int] = None, every_steps: Optional[int] = None
    ) -> None:
        self.folder = folder
        self.evaluation = evaluation
        self.every = every
        self.every_steps = every_steps
        self.last_step: Optional[int] = None

    def on_train_start(self, trainer: "TrainingRun") -> None:
        """A resumed run forgets the evaluations made after its checkpoint: they are made
        again, identically, as training replays."""
        path = RunFolder(self.folder).evaluations
        if trainer.step and path.is_file():
            keep_rows(path, lambda entry: entry.get("source") != "training" or entry.get("step", 0) <= trainer.step)

    def on_step_end(self, trainer: "TrainingRun") -> None:
        if self.every_steps and trainer.step % self.every_steps == 0:
            self.run(trainer)

    def on_epoch_end(self, trainer: "TrainingRun") -> None:
        if self.every and trainer.epoch % self.every == 0 and self.last_step != trainer.step:
            self.run(trainer)

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if trainer.status == "finished" and self.last_step != trainer.step:
            self.run(trainer)

    def run(self, trainer: "TrainingRun") -> None:
        trainer.check_finite()  # a diverged generator is reported as such, not measured
        results = self.evaluation.evaluate(trainer.sampling_generator, trainer.architecture, trainer.batches.data.info)
        self.last_step = trainer.step
        record(self.folder, results, step=trainer.step, source="training", seed=self.evaluation.seed)
        trainer.log(scalars(results))
