"""Evaluation results and their record: each number with the metric, the sample counts and
the extractor that make it comparable; appended to the run folder's ``eval.jsonl`` and
logged like training scalars."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from ganzoo.api import GanzooError
from ganzoo.files.safe import UnsafeFile, open_regular
from ganzoo.runfolder.jsonl import append_row
from ganzoo.runfolder.layout import RunFolder


@dataclass
class Result:
    """One number, with the metric that produced it and what it was computed on."""

    key: str
    value: float
    metric: str
    n_fake: int
    n_real: int
    extractor: Optional[str]
    """The extractor's full description, or None for a metric computed without one."""


def scalars(results: list[Result]) -> dict[str, float]:
    """Results as logged scalars: every key, plus ``eval_n`` (the generated sample count)."""
    return {"eval_n": results[0].n_fake, **{r.key: r.value for r in results}} if results else {}


def record(folder: Path, results: list[Result], *, step: int, source: str, seed: int) -> Path:
    """Append one evaluation to ``eval.jsonl`` in the run folder."""
    path = RunFolder(folder).evaluations
    append_row(
        path,
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "step": step,
            "source": source,
            "seed": seed,
            "results": [asdict(r) for r in results],
        },
    )
    return path


def check_recordable(folder: Path) -> None:
    """Refuse, before any work, a run folder whose ``eval.jsonl`` cannot take a record (a
    read-only folder, a link or a pipe in its place): results that cannot be recorded would
    be lost after the whole evaluation. Nothing is created."""
    path = RunFolder(folder).evaluations
    try:
        if path.exists() or path.is_symlink():
            with open_regular(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)):
                pass
        else:
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".ganzoo-probe-")
            os.close(handle)
            os.unlink(probe)
    except UnsafeFile as error:
        raise GanzooError(f"cannot record the evaluation: {error}; nothing was measured") from None
    except OSError as error:
        raise GanzooError(
            f"cannot record the evaluation in {path}: {error.strerror or error}; nothing was measured (copy the "
            f"run folder somewhere writable)"
        ) from None


def format_results(results: list[Result]) -> list[str]:
    """Aligned lines, each value with its sample counts and extractor, then the extractors."""
    names: dict[str, str] = {}
    for r in results:
        if r.extractor:
            names.setdefault(r.extractor, r.extractor.split(":", 1)[0])
    width = max((len(r.key) for r in results), default=0)
    lines = []
    for r in results:
        where = f"extractor {names[r.extractor]}" if r.extractor else "no extractor"
        lines.append(f"  {r.key:<{width}}  {r.value:>12.6g}   (n={r.n_fake} generated, {r.n_real} real; {where})")
    if names:
        lines.append("extractors:")
        lines += [f"  {description}" for description in names]
    return lines
