"""One's own images: every image under a folder, decoded once into a uint8 tensor."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from PIL import Image, UnidentifiedImageError
from pydantic import Field, PositiveInt
from tqdm import tqdm

import ganzoo

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class ImageFolder(ganzoo.Dataset):
    """Images found anywhere under ``root``, center-cropped to a square and resized.

    When the images sit in sub-folders (``root/cat/*.png``, ``root/dog/*.png``), the
    sub-folder names become the class labels, as in torchvision's ImageFolder.
    """

    name = "image_folder"

    class Options(ganzoo.Options):
        root: str = Field(description="folder to search for images (recursively)")
        image_size: PositiveInt = Field(64, description="side of the square the images are resized to")
        channels: Literal[1, 3] = Field(3, description="1 for greyscale, 3 for RGB")

    def load(self) -> ganzoo.Data:
        root = Path(self.options.root).expanduser()
        if not root.is_dir():
            raise ganzoo.DatasetError(f"image_folder: {root} is not a folder")
        paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not paths:
            raise ganzoo.DatasetError(
                f"image_folder: no images under {root} (looked for {', '.join(sorted(EXTENSIONS))})"
            )
        images, broken = [], []
        for path in tqdm(paths, desc="decoding images", unit="img", disable=len(paths) < 500):
            try:
                images.append(self._decode(path))
            except (OSError, UnidentifiedImageError) as error:
                broken.append(f"{path} ({error})")
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
        size = self.options.image_size
        with Image.open(path) as image:
            image = image.convert("L" if self.options.channels == 1 else "RGB")
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
            pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        return pixels.view(size, size, self.options.channels).permute(2, 0, 1).contiguous()
