"""The progress video: a run's fixed-noise sample grids, in order, as one short clip.

The source article turned 300 epochs into a 30-second video: one grid an epoch at 10
frames per second. ganzoo keeps the *length* fixed rather than one frame per grid:
``seconds * fps`` frames are spread evenly over however many grids the run left, so a
short run holds each grid longer, and a run with more grids than frames skips some. The
first and the last grid are always in it.

MP4 (H.264, which every browser plays) needs an ffmpeg binary; the imageio-ffmpeg wheel
ships one. Where there is none, ``format: auto`` falls back to an animated GIF that Pillow
writes on its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from ganzoo.api.errors import GanzooError
from ganzoo.files.safe import FILE_MODE

# Small grids are enlarged by the whole factor that brings them nearest to this width,
# nearest neighbour (an 8x8 grid of 28-pixel digits, 242 pixels, is doubled): H.264 would
# smear 28-pixel digits, and the video is easier to watch.
TARGET_WIDTH = 480
# imageio-ffmpeg's 0-10 scale; 8 is x264's CRF 10, near lossless for mostly still frames.
MP4_QUALITY = 8


def ffmpeg_exe() -> Optional[str]:
    """The ffmpeg binary that imageio-ffmpeg provides (its own, or ``IMAGEIO_FFMPEG_EXE``,
    which imageio-ffmpeg takes on trust and is checked here), or None."""
    try:
        import imageio_ffmpeg

        return shutil.which(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


def resolve_format(requested: str) -> str:
    """``mp4`` or ``gif`` for a recipe's ``video.format``: ``auto`` takes MP4 when ffmpeg
    is there; an explicit ``mp4`` without ffmpeg is an error, told before training."""
    if requested == "auto":
        return "mp4" if ffmpeg_exe() else "gif"
    if requested == "mp4" and not ffmpeg_exe():
        raise GanzooError("video.format=mp4 needs ffmpeg: pip install imageio-ffmpeg, or use video.format=gif or auto")
    return requested


def frame_schedule(grids: int, frames: int) -> list[int]:
    """Which grid each of ``frames`` frames shows: equal runs of frames per grid, or, with
    more grids than frames, grids evenly spaced from the first to the last."""
    if grids <= frames:
        return [i * grids // frames for i in range(frames)]
    if frames == 1:
        return [grids - 1]
    return [round(i * (grids - 1) / (frames - 1)) for i in range(frames)]


def make_video(
    grids: Sequence[tuple[int, Path]], stem: Path, *, seconds: float, fps: int, format: str, progress: bool = True
) -> Path:
    """Encode ``grids`` (``(step, png)``, in order) to ``stem.mp4`` or ``stem.gif`` and
    return its path. The file appears under its name only once it is complete."""
    if not grids:
        raise ValueError("no sample grids to make a video of")
    format = resolve_format(format)
    path = stem.with_suffix(f".{format}")
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{stem.name}.", suffix=f".partial.{format}")
    os.close(handle)  # a fresh name of our own: nothing planted there can be followed
    partial = Path(name)
    schedule = frame_schedule(len(grids), max(1, round(seconds * fps)))
    frames = _Frames(grids)
    try:
        with tqdm(
            total=len(schedule),
            desc=f"progress video ({format})",
            unit="frame",
            disable=not progress,
            dynamic_ncols=True,
            mininterval=0.5,
        ) as bar:
            write = _write_mp4 if format == "mp4" else _write_gif
            write(partial, frames, schedule, fps, bar)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.chmod(partial, FILE_MODE)
    os.replace(partial, path)
    return path


class _Frames:
    """The grids as equally sized RGB frames with their step written on top, each built
    once however many video frames show it."""

    def __init__(self, grids: Sequence[tuple[int, Path]]) -> None:
        self.grids = grids
        self.cache: Optional[tuple[int, Image.Image]] = None
        with Image.open(grids[0][1]) as first:
            width, height = first.size
        scale = max(1, round(TARGET_WIDTH / width))
        self.grid_size = (width * scale, height * scale)
        self.font_size = max(12, self.grid_size[0] // 30)
        self.font = ImageFont.load_default(size=self.font_size)
        # yuv420p, the pixel format browsers play, needs an even width and height: the label
        # strip takes the odd row, and an odd column stays blank on the right.
        self.strip = self.font_size * 3 // 2
        self.strip += (self.grid_size[1] + self.strip) % 2
        self.size = (self.grid_size[0] + self.grid_size[0] % 2, self.grid_size[1] + self.strip)

    def __getitem__(self, index: int) -> Image.Image:
        if self.cache is None or self.cache[0] != index:
            step, path = self.grids[index]
            frame = Image.new("RGB", self.size, "white")
            with Image.open(path) as grid:
                frame.paste(grid.convert("RGB").resize(self.grid_size, Image.Resampling.NEAREST), (0, self.strip))
            label = (6, (self.strip - self.font_size) // 2)
            ImageDraw.Draw(frame).text(label, f"step {step:,}", fill="black", font=self.font)
            self.cache = (index, frame)
        return self.cache[1]


def _write_mp4(path: Path, frames: _Frames, schedule: list[int], fps: int, bar: tqdm) -> None:
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        frames.size,
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=MP4_QUALITY,
        macro_block_size=2,
        output_params=["-movflags", "+faststart"],  # playable while loading
    )
    writer.send(None)  # start ffmpeg
    try:
        for index in schedule:
            writer.send(frames[index].tobytes())
            bar.update(1)
    finally:
        writer.close()


def _write_gif(path: Path, frames: _Frames, schedule: list[int], fps: int, bar: tqdm) -> None:
    """One GIF frame per run of equal video frames, held for the whole run: the GIF is as
    long as the MP4 would be, without repeating identical frames."""
    runs: list[list[int]] = []  # [grid index, video frames]
    for index in schedule:
        if runs and runs[-1][0] == index:
            runs[-1][1] += 1
        else:
            runs.append([index, 1])

    def images():
        for index, count in runs:
            yield frames[index].convert("P", palette=Image.Palette.ADAPTIVE)
            bar.update(count)

    sequence = images()
    next(sequence).save(
        path,
        format="GIF",
        save_all=True,
        append_images=sequence,
        loop=0,
        duration=[count * 1000 / fps for _, count in runs],
    )
