"""Checks of MNIST's IDX files before torchvision reads them.

torchvision's reader asserts on a wrong magic number, fails with a shape error on a
truncated file (which the loader then reports as "not there") and never compares the
label count with the image count. These checks read only the headers (and the labels,
60 kB) and say in one line which file is wrong and how.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo import DatasetError

IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801  # unsigned bytes, 3 and 1 dimensions
SIDE = 28


def _header(path: Path, magic: int, ndim: int, what: str) -> list[int]:
    """The dimensions in the header of ``path``, checked against its size."""
    size = path.stat().st_size
    if size == 0:
        raise DatasetError(f"{path} is empty; it should hold MNIST {what}")
    with path.open("rb") as file:
        head = file.read(4 * (ndim + 1))
    found = int.from_bytes(head[:4], "big")
    if len(head) < 4 or found != magic:
        raise DatasetError(
            f"{path} is not an MNIST {what} file (magic number 0x{found:08x}, expected "
            f"0x{magic:08x}); it may be compressed, damaged or another file"
        )
    if len(head) < 4 * (ndim + 1):
        raise DatasetError(f"{path} is truncated: its header is {len(head)} of {4 * (ndim + 1)} bytes")
    dims = [int.from_bytes(head[4 * (i + 1) : 4 * (i + 2)], "big") for i in range(ndim)]
    expected = 1
    for dim in dims:
        expected *= dim
    expected += 4 * (ndim + 1)
    if size != expected:
        shape = "x".join(str(d) for d in dims)
        raise DatasetError(
            f"{path} is {'truncated' if size < expected else 'too long'}: its header announces "
            f"{shape} {what} ({expected} bytes) and the file has {size} bytes"
        )
    return dims


def check_split(raw_folder: Path, prefix: str, num_classes: int) -> None:
    """Check ``<prefix>-images-idx3-ubyte`` and ``<prefix>-labels-idx1-ubyte`` in ``raw_folder``;
    missing files are left to the loader, which names every file it needs."""
    images, labels = raw_folder / f"{prefix}-images-idx3-ubyte", raw_folder / f"{prefix}-labels-idx1-ubyte"
    if not (images.is_file() and labels.is_file()):
        return
    count, height, width = _header(images, IMAGES_MAGIC, 3, "images")
    if (height, width) != (SIDE, SIDE):
        raise DatasetError(f"{images} holds {height}x{width} images; MNIST images are {SIDE}x{SIDE}")
    (label_count,) = _header(labels, LABELS_MAGIC, 1, "labels")
    if label_count != count:
        raise DatasetError(
            f"{images} holds {count} images but {labels} holds {label_count} labels; "
            f"the two files do not belong together"
        )
    values = labels.read_bytes()[8:]
    if values and max(values) >= num_classes:
        raise DatasetError(f"{labels} holds the label {max(values)}; labels must lie in 0..{num_classes - 1}")
