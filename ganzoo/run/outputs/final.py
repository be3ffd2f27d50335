"""What a finished run leaves at its end: ``weights.pt`` and the progress video."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from tqdm import tqdm

from ganzoo.api import Callback, TrainingRun
from ganzoo.runfolder.layout import RunFolder
from ganzoo.runfolder.weights import save_weights
from ganzoo.viz.video import make_video, resolve_format

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.recipe import VideoSection


class FinalWeights(Callback):
    """Saves G, D and the loss state to ``weights.pt`` when training finishes: the file to
    sample from. (An interrupted run is resumed from its checkpoints instead.) Its layout
    is :mod:`ganzoo.weights`'s."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "final_weights"

    def __init__(self, folder: Path, on_saved: Optional[Callable[[Path], None]] = None) -> None:
        self.folder = folder
        self.on_saved = on_saved

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if trainer.status != "finished":
            return
        path = save_weights(trainer, self.folder)
        if self.on_saved:
            self.on_saved(path)


class ProgressVideo(Callback):
    """At the end of a finished run, every sample grid in ``samples/`` as one clip,
    ``progress.mp4`` (or ``progress.gif``): the run's whole training in ``seconds``.

    The format is settled when the callback is built, before training starts, so that
    ``video.format=mp4`` without ffmpeg fails at once rather than after hours. A video that
    cannot be written at the end is a warning, not a failed run: the weights are already
    saved by then."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "progress_video"

    def __init__(
        self,
        folder: Path,
        settings: "VideoSection",
        progress: bool = True,
        on_saved: Optional[Callable[[Path], None]] = None,
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.progress = progress
        self.on_saved = on_saved
        self.format = resolve_format(settings.format)

    def on_train_end(self, trainer: "TrainingRun") -> None:
        grids = RunFolder(self.folder).grids()
        if trainer.status != "finished" or not grids:
            return
        try:
            path = make_video(
                grids,
                RunFolder(self.folder).video_stem,
                seconds=self.settings.seconds,
                fps=self.settings.fps,
                format=self.format,
                progress=self.progress,
            )
        except (OSError, RuntimeError, ValueError) as error:
            tqdm.write(f"ganzoo: warning: no progress video: {error}", file=sys.stderr)
            return
        if self.on_saved:
            self.on_saved(path)
