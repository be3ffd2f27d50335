"""A callback's own JSON-lines file in the run folder, kept in step with resume.

``metrics.jsonl`` survives an interrupted run because a resumed run first drops the rows
written after its checkpoint (training replays them). A callback that writes a file of its
own needs the same rule, or a resumed run would hold some of its rows twice; ``StepLog``
applies it, so that a plugin does not reimplement it against ganzoo's internals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ganzoo.api.callback import TrainingRun
from ganzoo.runfolder.jsonl import append_row, keep_rows, read_rows


class StepLog:
    """``name`` (``"my_callback.jsonl"``) in the run folder, one JSON object per row with
    the ``step`` it was written at.

    Call :meth:`open` from ``on_train_start``: on a resumed run it drops the rows written
    after the checkpoint's step. A row written at the checkpoint's own step stays: the
    recipe's callbacks run before the checkpointer, so it was written before the checkpoint.
    On a process that does not write (another rank), every method does nothing."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path: Optional[Path] = None

    def open(self, run: TrainingRun) -> Optional[Path]:
        """The file's path (None where this process does not write), trimmed to the checkpoint."""
        self.path = run.folder / self.name if run.folder is not None else None
        if self.path is not None and run.step and self.path.is_file():
            keep_rows(self.path, lambda row: row.get("step", 0) <= run.step)
        return self.path

    def write(self, run: TrainingRun, row: dict[str, Any]) -> None:
        """Append ``row`` at the current step (flushed at once)."""
        if self.path is not None:
            append_row(self.path, {"step": run.step, **row})

    def rows(self) -> list[dict[str, Any]]:
        """Every row written so far (a line cut short by a crash is skipped)."""
        return read_rows(self.path) if self.path is not None else []
