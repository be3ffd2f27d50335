"""``metrics.jsonl`` and the curves drawn from it, as training goes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from ganzoo.api import Callback, TrainingRun
from ganzoo.api.scalars import CORE, Infos
from ganzoo.runfolder.jsonl import append_row, keep_rows
from ganzoo.viz.curves import draw_curves


class MetricsLog(Callback):
    """One JSON object per logged step in ``metrics.jsonl``, flushed as it is written so
    that a crash loses nothing already logged. A resumed run first drops the rows logged
    after its checkpoint: they are logged again, identically, as training replays. A row
    logged outside the loop (an evaluation, a callback's ``run.log``: it has no ``d_loss``)
    at the checkpoint's own step stays: it was logged before that checkpoint was written and
    is not repeated."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "metrics_log"

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_start(self, trainer: "TrainingRun") -> None:
        if trainer.step and self.path.is_file():
            keep_rows(
                self.path,
                lambda row: (
                    row.get("step", 0) <= trainer.logged_through
                    or ("d_loss" not in row and row["step"] <= trainer.step)
                ),
            )

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        append_row(self.path, scalars)


class Curves(Callback):
    """``losses.png`` and ``scores.png`` in ``folder``, redrawn from the logged scalars as
    training goes, at most once every ``interval`` seconds, and once more at the end, so
    that the last plot holds every logged window. A redraw takes about 0.16 s on a 2-core
    CPU: at every log, it would slow a run on a fast device down noticeably."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "curves"

    def __init__(
        self, folder: Path, interval: float, history: Optional[list[dict[str, float]]] = None, infos: Infos = CORE
    ) -> None:
        self.folder = folder
        self.infos = infos  # the loss's names for its scalars
        self.interval = interval
        self.rows: list[dict[str, float]] = list(history or [])  # what a resumed run logged before
        self.drawn = 0  # rows in the last drawing
        self.last_draw = -float("inf")

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        self.rows.append(scalars)
        if time.monotonic() - self.last_draw >= self.interval:
            self.draw()

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if len(self.rows) > self.drawn:
            self.draw()

    def draw(self) -> None:
        draw_curves(self.rows, self.folder, self.infos)
        self.drawn = len(self.rows)
        self.last_draw = time.monotonic()
