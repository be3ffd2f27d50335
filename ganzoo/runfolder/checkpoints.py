"""Checkpoint files: the whole training state, written so that nothing is ever half-written.

A checkpoint holds the trainer's full state (networks, optimisers, loss state, counters,
the epoch's sample order and position, the logging window, every random stream) and the
resolved recipe. It is written to a temporary file in the same folder, synced and
renamed over the target (:func:`ganzoo.files.safe.atomic_write`): a crash or a kill at any moment leaves either the old file or the
new one, never a truncated one. Loading uses ``torch.load(weights_only=True)``, so a
checkpoint from elsewhere cannot run code.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from ganzoo.api.errors import GanzooError
from ganzoo.files.safe import UnsafeFile, atomic_write, open_regular
from ganzoo.runfolder.layout import RunFolder

FORMAT = 1


class CheckpointError(GanzooError):
    """A checkpoint cannot be written or read; the message says which and why."""


def atomic_save(state: Any, path: Path) -> None:
    """``torch.save`` to ``path`` through :func:`atomic_write`."""
    try:
        atomic_write(path, lambda file: torch.save(state, file))
    except OSError as error:
        raise CheckpointError(
            f"cannot write {path}: {error.strerror or error}; the previous checkpoints are untouched"
        ) from None


def load_safely(path: Path, what: str, error_type: type[GanzooError] = GanzooError) -> Any:
    """``torch.load(weights_only=True)`` of a regular file: a file from elsewhere cannot run
    code, and a pipe or a device cannot hang the load. A file that cannot be loaded so (not a
    regular file, truncated, corrupt, or a pickle that wants to run code) raises ``error_type``
    with the one refusal message; a missing file raises FileNotFoundError."""
    try:
        with open_regular(Path(path)) as handle, os.fdopen(os.dup(handle), "rb") as file:
            return torch.load(file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except UnsafeFile as error:
        raise error_type(f"{path} cannot be loaded: {error.reason}") from None
    except Exception as error:
        text = str(error).strip()
        if isinstance(error, pickle.UnpicklingError) and "Weights only load failed" in text:
            # torch's own advice is to load it again with weights_only=False: the very load
            # that would run the code. Say what the file holds instead.
            found = re.search(r"GLOBAL ([\w.]+)", text) or re.search(r"Unsupported [^\n]*", text)
            detail = (
                f" (it names {found.group(1)})"
                if found and found.lastindex
                else (f" ({found.group(0).rstrip('.')})" if found else "")
            )
            raise error_type(
                f"{path} cannot be loaded safely: it holds Python objects that would run code when "
                f"loaded{detail}, and ganzoo loads only tensors and plain values; it is not {what} "
                f"as ganzoo writes it, and it is refused, not loaded"
            ) from None
        reason = text.splitlines()[0] if text else type(error).__name__
        raise error_type(f"{path} cannot be loaded safely (truncated, corrupt or not {what}): {reason}") from None


def load_checkpoint(path: Path) -> dict:
    """A checkpoint's contents, loaded without running any code from the file."""
    try:
        state = load_safely(path, "a ganzoo checkpoint", CheckpointError)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    version = state.get("format") if isinstance(state, dict) else type(state).__name__
    if not (isinstance(version, int) and version == FORMAT and "trainer" in state):
        found = version if isinstance(version, (int, str, type(None))) else type(version).__name__
        raise CheckpointError(
            f"{path} is not a ganzoo checkpoint of format {FORMAT} (found {found!r}); it was "
            f"written by another version of ganzoo"
        )
    return state


def step_checkpoints(run_folder: Path) -> list[Path]:
    """The run's step checkpoints, oldest first."""
    return [path for _, path in RunFolder(Path(run_folder)).step_checkpoints()]


def checkpoint_contents(trainer_state: dict, recipe: dict, data_info: dict, version: str, best: Any = None) -> dict:
    """What a checkpoint file holds: the format, the ganzoo ``version`` that wrote it, the
    resolved recipe, the trainer's whole state, the data's shape and, for ``best.pt``, the
    metric and value that made it the best."""
    return {
        "format": FORMAT,
        "ganzoo": version,
        "recipe": recipe,
        "trainer": trainer_state,
        "data_info": data_info,
        "best": best,
    }


def latest_checkpoint(run_folder: Path) -> tuple[Path, dict, list[str]]:
    """The newest checkpoint that loads, with warnings about newer ones that did not (a
    damaged file costs the steps since the one before it, never the run)."""
    warnings: list[str] = []
    for path in reversed(step_checkpoints(run_folder)):
        try:
            return path, load_checkpoint(path), warnings
        except CheckpointError as error:
            warnings.append(f"skipped {error}")
    detail = f" ({'; '.join(warnings)})" if warnings else ""
    raise CheckpointError(f"no loadable checkpoint in {RunFolder(run_folder).checkpoints}{detail}")
