"""The header every results file under bench/results/ starts with, written by one helper.

A number in the docs is only as good as the trail back to what made it: the commit (and
whether the tree had uncommitted changes), the recipes as they resolved, the torch version,
the machine, the exact commands and the raw values. Every bench script writes its results
file through :func:`write_results`, so that every file carries the same header:

    # <title>

    | provenance | |
    | --- | --- |
    | commit | 4ca146d (clean tree) |
    | date | 2026-12-04 22:40 UTC |
    | machine | 2 CPU cores (AMD EPYC ...), load 0.1 at the start; no GPU |
    | torch | 2.14.1 on cpu; Python 3.11.7 |
    | recipes | recipes/dcgan_mnist.yaml (resolved sha256 3f2a9c41d0be) |

    ## Commands
    ...
    ## Raw values
    ```json
    ...

``tests/test_results.py`` checks that every results file the docs cite exists and carries it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]

FIELDS = ("commit", "date", "machine", "torch", "recipes")
"""The rows of the provenance table, in order: tests/test_results.py checks each is there."""


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def commit() -> str:
    """``4ca146d (clean tree)``, or ``(uncommitted changes)`` when tracked files differ from
    the commit (untracked files, such as run folders, do not count)."""
    head = _git("rev-parse", "--short=7", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{head} ({'uncommitted changes' if dirty else 'clean tree'})"


def machine() -> str:
    """Cores, CPU model, the load when the measurement began, and the GPU if any."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f"GPU {torch.cuda.get_device_name(0)}"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} CPU cores ({model or 'unknown model'}), load {load:.1f} at the start; {gpu}"


def torch_version() -> str:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return f"{torch.__version__} on {device}; Python {platform.python_version()}"


def recipe_fingerprint(path: str | Path, overrides: Sequence[str] = ()) -> str:
    """``recipes/x.yaml (resolved sha256 ...)``: the recipe as it resolves (extends applied,
    every default filled in, the overrides given), hashed, so that a later change to the
    recipe or to a default shows."""
    from ganzoo.plugins import Registry, make_plugin_manager
    from ganzoo.recipe import load_recipe

    registry = Registry.from_plugin_manager(make_plugin_manager())
    resolved = load_recipe(REPO / path, registry, list(overrides)).to_yaml()
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:12]
    shown = os.path.relpath(REPO / path, REPO)
    return f"{shown}{' ' + ' '.join(overrides) if overrides else ''} (resolved sha256 {digest})"


def header(title: str, recipes: Iterable[str] = ()) -> str:
    """The title and the provenance table (``recipes``: :func:`recipe_fingerprint` strings)."""
    rows = {
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "torch": torch_version(),
        "recipes": "; ".join(recipes) or "none",
    }
    table = "\n".join(f"| {field} | {rows[field]} |" for field in FIELDS)
    return f"# {title}\n\n| provenance | |\n| --- | --- |\n{table}\n"


def invocation() -> str:
    """The command that ran this script, as typed from the repository."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), REPO)
    return " ".join(shlex.quote(a) for a in ["python", script, *sys.argv[1:]])


def write_results(
    path: Path,
    title: str,
    *,
    body: str,
    commands: Sequence[str] = (),
    raw: Any,
    recipes: Iterable[str] = (),
    started: str = "",
) -> Path:
    """Write a results file: the header (made at the start, ``started``, when given, else
    now), the script's own command, ``commands`` (each step, as it can be rerun alone),
    ``body`` (the tables and what they mean) and ``raw`` (JSON)."""
    top = started or header(title, recipes)
    steps = "".join(f"    {command}\n" for command in commands)
    text = (
        f"{top}\n## Commands\n\nThe whole measurement (from the repository):\n\n    {invocation()}\n"
        + (f"\nEach step:\n\n{steps}" if steps else "")
        + f"\n## Results\n\n{body.strip()}\n\n## Raw values\n\n```json\n{json.dumps(raw, indent=1, default=str)}\n```\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
