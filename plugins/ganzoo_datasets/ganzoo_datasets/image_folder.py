"""One's own images: every image under a folder, decoded once into a uint8 tensor.

Each image goes through ganzoo's one decoder (``ganzoo.read_image``): an image is refused
(and named) when it cannot be decoded, is truncated, or has more pixels than the decoder's
limit (a decompression bomb: a small file that inflates to gigabytes); 16-bit greyscale
images are scaled to 8 bits, not clipped.

Decoding is the slow part, so the decoded tensor is cached in ``<root>/.ganzoo-cache/``
(or ``~/.cache/ganzoo`` when the folder is read-only), keyed by every file's path, size and
modification time and by the options: a changed, added or removed image decodes afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Literal, Optional

import torch
from PIL import Image
from pydantic import Field, PositiveInt
from tqdm import tqdm

import ganzoo

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
CACHE_FOLDER = ".ganzoo-cache"
CACHE_VERSION = 2  # the layout of the cached tensor; a new version decodes afresh


def cache_folders(root: Path) -> list[Path]:
    """Where a cache may live, in order of preference."""
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ganzoo" / "image_folder"
    return [root / CACHE_FOLDER, home]


def _read_cache(path: Path) -> Optional[ganzoo.Data]:
    """The cached data, or None when there is none or it is unreadable (then it is rebuilt)."""
    try:
        state = torch.load(path, weights_only=True)
        return ganzoo.Data(state["samples"], state["labels"], state["num_classes"], list(state["class_names"]))
    except Exception:  # missing, truncated or from another version: decode again
        return None


def _write_cache(path: Path, data: ganzoo.Data) -> bool:
    """Write atomically (temporary file, then rename); False when the folder is not writable."""
    state = {
        "samples": data.samples,
        "labels": data.labels,
        "num_classes": data.num_classes,
        "class_names": data.class_names,
    }
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
        os.replace(temporary, path)
        return True
    except OSError:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        return False


class ImageFolder(ganzoo.Dataset):
    """Images found anywhere under ``root``, center-cropped to a square and resized.

    When the images sit in sub-folders (``root/cat/*.png``, ``root/dog/*.png``), the
    sub-folder names become the class labels, as in torchvision's ImageFolder.
    """

    name = "image_folder"

    class Options(ganzoo.Options):
        root: str = Field(description="folder to search for images (recursively)")
        image_size: PositiveInt = Field(
            64, le=4096, description="side of the square the images are resized to (at most 4096)"
        )
        channels: Literal[1, 3] = Field(3, description="1 for greyscale, 3 for RGB")
        cache: bool = Field(True, description="keep the decoded images in <root>/.ganzoo-cache/ for the next run")

    options: Options

    def provides(self) -> ganzoo.DataSpec:
        size = self.options.image_size  # labels only when every image sits in a class sub-folder
        return ganzoo.DataSpec("images", (self.options.channels, size, size), labels=None)

    def load(self) -> ganzoo.Data:
        root = Path(self.options.root).expanduser()
        if not root.is_dir():
            raise ganzoo.DatasetError(f"image_folder: {root} is not a folder")
        paths = sorted(
            p
            for p in root.rglob("*")
            if p.suffix.lower() in EXTENSIONS and p.is_file() and CACHE_FOLDER not in p.relative_to(root).parts
        )
        if not paths:
            raise ganzoo.DatasetError(
                f"image_folder: no images under {root} (looked for {', '.join(sorted(EXTENSIONS))})"
            )
        if not self.options.cache:
            return self._decode_all(root, paths)
        key = self._cache_key(root, paths)
        for folder in cache_folders(root):
            cached = _read_cache(folder / f"{key}.pt")
            if cached is not None:
                return cached
        data = self._decode_all(root, paths)
        for folder in cache_folders(root):
            if _write_cache(folder / f"{key}.pt", data):
                break
        return data

    def _cache_key(self, root: Path, paths: list[Path]) -> str:
        listing = [(str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
        options = self.options.model_dump(exclude={"root", "cache"})
        return hashlib.sha256(json.dumps([CACHE_VERSION, options, listing]).encode()).hexdigest()[:24]

    def _decode_all(self, root: Path, paths: list[Path]) -> ganzoo.Data:
        images, broken = [], []
        for path in tqdm(paths, desc="decoding images", unit="img", disable=len(paths) < 500):
            try:
                images.append(self._decode(path))
            except ganzoo.ImageError as error:
                broken.append(f"{error.path} ({error.reason})")
        if broken:
            listed = "; ".join(broken[:5]) + (f"; and {len(broken) - 5} more" if len(broken) > 5 else "")
            raise ganzoo.DatasetError(f"image_folder: {len(broken)} image(s) cannot be decoded: {listed}")
        class_names = sorted({p.relative_to(root).parts[0] for p in paths if len(p.relative_to(root).parts) > 1})
        labels = num_classes = None
        if class_names and all(len(p.relative_to(root).parts) > 1 for p in paths):
            index = {name: i for i, name in enumerate(class_names)}
            labels = torch.tensor([index[p.relative_to(root).parts[0]] for p in paths])
            num_classes = len(class_names)
        else:
            class_names = []
        return ganzoo.Data(torch.stack(images), labels, num_classes, class_names)

    def _decode(self, path: Path) -> torch.Tensor:
        """One image, center-cropped to a square and resized (bicubic)."""
        size, channels = self.options.image_size, self.options.channels
        pixels = ganzoo.read_image(path, channels).permute(1, 2, 0).numpy()
        image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels)
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
        resized = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        return resized.view(size, size, channels).permute(2, 0, 1).contiguous()
