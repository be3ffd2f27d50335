"""JSON-lines files (``metrics.jsonl``, ``eval.jsonl``): read, append, and trimmed on resume.

A module of its own so that the callbacks that write such files (``ganzoo.outputs``,
``ganzoo.evaluation``) and the readers (``ganzoo.report``, ``ganzoo.run``) share one
implementation without importing each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

from ganzoo.checkpoint import atomic_write


def read_metrics(path: Path, up_to_step: Optional[int] = None) -> list[dict[str, float]]:
    """The rows of a ``metrics.jsonl`` (those logged at or before ``up_to_step``); a line
    cut short by a crash, or being written right now, is skipped."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if up_to_step is None or row.get("step", 0) <= up_to_step:
                rows.append(row)
    return rows


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one JSON line, written (and flushed) at once."""
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(row) + "\n")


def keep_rows(path: Path, keep: Callable[[dict[str, Any]], bool]) -> None:
    """Rewrite a JSON-lines file with only the rows ``keep`` accepts (a line cut short by a
    crash is dropped), atomically."""
    rows = [row for row in read_metrics(path) if keep(row)]
    atomic_write(path, lambda file: file.write("".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")))
