"""Where each file of a run folder lives: the one place the layout is spelled out.

```
<run>/recipe.yaml            the resolved recipe        <run>/metrics.jsonl   logged scalars
<run>/eval.jsonl             evaluations                <run>/weights.pt      the finished weights
<run>/samples/step_N.png     sample grids               <run>/curves/*.png    loss and score curves
<run>/checkpoints/step_N.pt  checkpoints (and best.pt)  <run>/wandb/          the wandb run
<run>/progress.mp4 (or .gif) the progress video         <run>/.ganzoo-lock    the lock of the process that trains it
<run>/subset.json            the samples of data.limit
```

A sweep folder (:class:`SweepFolder`) holds its settings, its study and a run folder per trial.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ganzoo.api.errors import GanzooError

GRID_NAME = re.compile(r"step_(\d+)\.png")
CHECKPOINT_NAME = re.compile(r"step_(\d+)\.pt")
VIDEO_FORMATS = ("mp4", "gif")


def _regular_files(folder: Path, name: re.Pattern[str]) -> list[tuple[int, Path]]:
    """``(step, path)`` of the regular files in ``folder`` whose name matches ``name``, by
    step: a folder, a pipe or a link named like one is not one."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = name.fullmatch(path.name)
        if match and stat.S_ISREG(path.lstat().st_mode):
            found.append((int(match.group(1)), path))
    return sorted(found)


@dataclass(frozen=True)
class RunFolder:
    """A run folder's paths. Nothing is read or checked until a method is called."""

    path: Path

    @property
    def recipe(self) -> Path:
        return self.path / "recipe.yaml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def evaluations(self) -> Path:
        return self.path / "eval.jsonl"

    @property
    def subset(self) -> Path:
        """Which samples a run with ``data.limit`` trains on (:mod:`ganzoo.runfolder.subset`)."""
        return self.path / "subset.json"

    @property
    def weights(self) -> Path:
        return self.path / "weights.pt"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def curves(self) -> Path:
        return self.path / "curves"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def lock(self) -> Path:
        return self.path / ".ganzoo-lock"

    @property
    def wandb(self) -> Path:
        return self.path / "wandb"

    @property
    def wandb_run_id(self) -> Path:
        """The id of the run's wandb run, kept across resumes."""
        return self.wandb / "ganzoo-run-id"

    @property
    def video_stem(self) -> Path:
        """The progress video without its suffix (``.mp4``, or ``.gif``)."""
        return self.path / "progress"

    def video(self) -> Optional[Path]:
        """The progress video the run made, or None."""
        found = (self.video_stem.with_suffix(f".{fmt}") for fmt in VIDEO_FORMATS)
        return next((path for path in found if path.is_file()), None)

    def grid(self, step: int) -> Path:
        """The stem of the sample grid of ``step`` (its suffix depends on what it shows)."""
        return self.samples / f"step_{step:07d}"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:07d}.pt"

    def grids(self) -> list[tuple[int, Path]]:
        """``(step, path)`` of every sample grid, by step."""
        return _regular_files(self.samples, GRID_NAME)

    def step_checkpoints(self) -> list[tuple[int, Path]]:
        """``(step, path)`` of every step checkpoint, oldest first."""
        return _regular_files(self.checkpoints, CHECKPOINT_NAME)

    def saved_recipe(self) -> Path:
        """The resolved recipe the run folder keeps; a ``GanzooError`` when it is not a run folder."""
        if not self.recipe.is_file():
            raise GanzooError(
                f"{self.path} is not a run folder (it has no recipe.yaml); give a folder `ganzoo run` printed"
            )
        return self.recipe


@dataclass(frozen=True)
class SweepFolder:
    """A sweep folder (``ganzoo sweep``): ``sweep.yaml`` (the sweep file it started with),
    ``recipe.yaml`` (the base recipe, resolved), ``study.db`` (Optuna's SQLite study, unless
    the sweep keeps it in another database), ``trials/`` (one run folder per trial and seed)
    and ``.sweep-lock`` (workers of one machine set the sweep up one after the other)."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def settings(self) -> Path:
        return self.path / "sweep.yaml"

    @property
    def recipe(self) -> Path:
        return self.path / "recipe.yaml"

    @property
    def database(self) -> Path:
        return self.path / "study.db"

    @property
    def trials(self) -> Path:
        return self.path / "trials"

    def is_sweep(self) -> bool:
        return self.settings.is_file() and self.recipe.is_file()

    def storage_url(self, storage: Optional[str] = None) -> str:
        return storage or f"sqlite:///{self.database.resolve()}"
