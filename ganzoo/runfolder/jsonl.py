"""JSON-lines files of a run folder (``metrics.jsonl``, ``eval.jsonl``, a callback's
:class:`~ganzoo.runfolder.step_log.StepLog`): read, appended, and trimmed on resume.

A row is a JSON object with a numeric ``step``. A line that is anything else (cut short by
a crash, being written right now, not an object, invalid UTF-8, nested deeper than the
parser goes) is skipped, never an error: a damaged line must not stop a report or a resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

from ganzoo.files.safe import append_line, atomic_write_text, read_bytes

MAX_BYTES = 512 * 2**20
"""Largest JSON-lines file read (512 MiB; a 300-epoch run logs well under 1 MiB)."""


def _row(line: str) -> Optional[dict[str, Any]]:
    """The row a line holds, or None when it holds none."""
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(row, dict):
        return None
    step = row.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, (int, float)):
        return None
    return row


def read_rows(path: Path, up_to_step: Optional[float] = None) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file (those at or before ``up_to_step``); none when the file
    does not exist. A file that is not a regular file is refused (``UnsafeFile``)."""
    try:
        data = read_bytes(path, limit=MAX_BYTES, what="JSON-lines file")
    except FileNotFoundError:
        return []
    rows = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        row = _row(line)
        if row is not None and (up_to_step is None or row.get("step", 0) <= up_to_step):
            rows.append(row)
    return rows


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one JSON line, written (and flushed) at once; never through a symlink."""
    append_line(path, json.dumps(row))


def keep_rows(path: Path, keep: Callable[[dict[str, Any]], bool]) -> None:
    """Rewrite a JSON-lines file with only the rows ``keep`` accepts (a damaged line is
    dropped), atomically."""
    rows = [row for row in read_rows(path) if keep(row)]
    atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))
