"""Checkpoints: the whole training state, written so that nothing is ever half-written.

A checkpoint holds the trainer's full state (networks, optimisers, loss state, counters,
the epoch's sample order and position, the logging window, every random stream) and the
resolved recipe. It is written to a temporary file in the same folder, flushed, synced and
renamed over the target: a crash or a kill at any moment leaves either the old file or the
new one, never a truncated one. Loading uses ``torch.load(weights_only=True)``, so a
checkpoint from elsewhere cannot run code.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Literal, Optional

import torch

from ganzoo import __version__
from ganzoo.callback import Callback, TrainingRun
from ganzoo.errors import GanzooError

FORMAT = 1
FOLDER = "checkpoints"


class CheckpointError(GanzooError):
    """A checkpoint cannot be written or read; the message says which and why."""


class _RecordingWriter:
    """A binary file that remembers the first ``OSError`` of a write.

    torch's zip writer turns a failed write (a full disk) into ``RuntimeError: [enforce fail
    at inline_container.cc] unexpected pos``; the recorded error lets :func:`atomic_write`
    report the real cause (``No space left on device``) instead."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.error: Optional[OSError] = None

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as error:
            self.error = self.error or error
            raise

    def __getattr__(self, name: str) -> Any:  # seek, tell, flush...: the file's own
        return getattr(self.file, name)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, sync it and rename it over
    ``path``: readers see the old file or the new one, never half of one. On any failure
    the temporary file is removed and the error propagates; a failed write of the file
    propagates as its ``OSError``, whatever the writer made of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            recorder = _RecordingWriter(file)
            try:
                write(recorder)  # type: ignore[arg-type]  # it behaves as the file it wraps
            except Exception as error:
                if recorder.error is not None and recorder.error is not error:
                    raise recorder.error from None
                raise
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_save(state: Any, path: Path) -> None:
    """``torch.save`` to ``path`` through :func:`atomic_write`."""
    try:
        atomic_write(path, lambda file: torch.save(state, file))
    except OSError as error:
        raise CheckpointError(
            f"cannot write {path}: {error.strerror or error}; the previous checkpoints are untouched"
        ) from None


def load_safely(path: Path, what: str, error_type: type[GanzooError] = GanzooError) -> Any:
    """``torch.load(weights_only=True)``: a file from elsewhere cannot run code. A file that
    cannot be loaded so (truncated, corrupt, or a pickle that wants to run code) raises
    ``error_type`` with the one refusal message; a missing file raises FileNotFoundError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
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
    if not isinstance(state, dict) or state.get("format") != FORMAT or "trainer" not in state:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{path} is not a ganzoo checkpoint of format {FORMAT} (found {found!r}); it was "
            f"written by another version of ganzoo"
        )
    return state


def step_checkpoints(run_folder: Path) -> list[Path]:
    """The run's step checkpoints, oldest first."""
    return sorted((run_folder / FOLDER).glob("step_*.pt"))


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
    raise CheckpointError(f"no loadable checkpoint in {run_folder / FOLDER}{detail}")


class Checkpointer(Callback):
    """Writes ``checkpoints/step_NNNNNNN.pt`` every ``every`` steps (or at the end of every
    epoch), when training ends or is interrupted cleanly, keeping the last ``keep_last``;
    and ``checkpoints/best.pt`` whenever the logged ``best_metric`` improves.

    Before any write it checks that no loss or parameter has diverged, so a NaN never
    overwrites a good checkpoint."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

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
        self.folder = run_folder / FOLDER
        self.recipe = recipe
        self.every = every
        self.keep_last = keep_last
        self.best_metric = best_metric
        self.best_mode = best_mode
        self.best: Optional[float] = None
        self.last_saved_step: Optional[int] = None
        self.last_path: Optional[Path] = None

    def on_train_start(self, trainer: "TrainingRun") -> None:
        self.last_saved_step = trainer.step if trainer.step else None  # a resumed run starts from a saved step

    def on_step_end(self, trainer: "TrainingRun") -> None:
        if self.every and trainer.step % self.every == 0:
            self.save(trainer)

    def on_epoch_end(self, trainer: "TrainingRun") -> None:
        if not self.every:
            self.save(trainer)

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        value = scalars.get(self.best_metric) if self.best_metric else None
        if value is None:
            return
        if self.best is None or (value < self.best if self.best_mode == "min" else value > self.best):
            self.best = value
            atomic_save(
                self._state(trainer, best={"metric": self.best_metric, "value": value}), self.folder / "best.pt"
            )

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if trainer.status in ("finished", "interrupted"):
            self.save(trainer)

    def save(self, trainer: "TrainingRun") -> Optional[Path]:
        if trainer.step == self.last_saved_step:
            return self.last_path
        trainer.check_finite()
        path = self.folder / f"step_{trainer.step:07d}.pt"
        atomic_save(self._state(trainer), path)
        self.last_saved_step, self.last_path = trainer.step, path
        for old in step_checkpoints(self.folder.parent)[: -self.keep_last]:
            old.unlink(missing_ok=True)
        return path

    def _state(self, trainer: "TrainingRun", best: Optional[dict] = None) -> dict:
        return {
            "format": FORMAT,
            "ganzoo": __version__,
            "recipe": self.recipe,
            "trainer": trainer.state_dict(),
            "data_info": trainer.data_info,
            "best": best,
        }
