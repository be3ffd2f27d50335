"""The one image decoder: every image ganzoo reads from disk (``image_folder``,
``paired_folder``, ``ganzoo translate``) goes through :func:`read_image`.

An image is refused in one line (:class:`ImageError`, naming the file) when it is not a
regular file, is larger than :data:`MAX_FILE_BYTES`, claims more than :data:`MAX_PIXELS`
pixels in its header (checked before any pixel is decoded: a small file can inflate to
gigabytes), is truncated, or cannot be decoded. 16-bit greyscale images are scaled to 8
bits rather than clipped to white (Pillow's ``convert("L")`` clips them), and a
floating-point image is refused, since its range is unknown.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import torch

from ganzoo.api.errors import GanzooError
from ganzoo.files.safe import UnsafeFile, read_bytes

MAX_PIXELS = 89_478_485
"""Most pixels an image may have (Pillow's own default limit, about 9459x9459)."""
MAX_FILE_BYTES = 256 * 2**20
"""Largest image file read (256 MiB)."""
SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
"""The file names taken as images."""
WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
"""Pillow's modes of 16-bit (and 32-bit integer) greyscale, scaled from 0..65535 to 0..255."""


class ImageError(GanzooError):
    """An image file that cannot be read: ``{path}: {reason}``, one line."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def read_image(path: Path, channels: int, *, max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """The image at ``path`` as uint8 ``(channels, H, W)``: greyscale for 1 channel, RGB for
    3. Raises :class:`ImageError` for anything that is not a readable image within bounds."""
    from PIL import Image

    path = Path(path)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    try:
        data = read_bytes(path, limit=MAX_FILE_BYTES, what="image")
    except UnsafeFile as error:
        raise ImageError(path, error.reason) from None
    except OSError as error:
        raise ImageError(path, f"cannot be read: {error.strerror or error}") from None
    try:
        with _opened(data) as image:
            if image.width * image.height > max_pixels:
                raise ImageError(path, f"{image.width}x{image.height}, more than the limit of {max_pixels:,} pixels")
            image.load()  # decodes now: a truncated file fails here
            converted = _eight_bit(image, path).convert("L" if channels == 1 else "RGB")
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ImageError(path, f"cannot be decoded as an image: {reason}") from None
    width, height = converted.size
    pixels = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
    return pixels.view(height, width, channels).permute(2, 0, 1).contiguous()


@contextlib.contextmanager
def _opened(data: bytes):
    """The image in ``data``, its header read and nothing decoded. Pillow's own bomb check
    is off while the header is read: the caller compares the size with its own limit, so that
    every oversized image is refused with the same line, whatever it claims."""
    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        image = Image.open(io.BytesIO(data))
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    with image:
        yield image


def _eight_bit(image, path: Path):
    """``image`` with 8 bits per channel: 16-bit greyscale scaled down (not clipped to white);
    a floating-point image is refused, since its range is unknown."""
    import numpy
    from PIL import Image

    if image.mode == "F":
        raise ImageError(path, "a floating-point image; save it as 8- or 16-bit")
    if image.mode not in WIDE_MODES:
        return image
    values = numpy.asarray(image).astype(numpy.int64)
    return Image.fromarray(numpy.clip((values + 128) // 257, 0, 255).astype(numpy.uint8))


def is_image_name(path: Path) -> bool:
    """Whether ``path``'s suffix is one of :data:`SUFFIXES`."""
    return Path(path).suffix.lower() in SUFFIXES
