"""``paired_folder``: image pairs from disk, in the two layouts paired data comes in.

- side by side, the layout the Pix2Pix datasets (facades, maps, edges2shoes, cityscapes,
  night2day) are published in: ``root/<split>/*.jpg``, each file holding A on the left
  half and B on the right;
- two folders of matching file names: ``root/<split>/A/`` and ``root/<split>/B/``.

``direction: AtoB`` translates A into B (A is the condition, B the target); ``BtoA`` the
reverse. There is no download here: when the files are missing, the error says where to
put them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import torch
from pydantic import Field, PositiveInt

import ganzoo

SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
ARCHIVES = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/<name>.tar.gz"


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def _read(path: Path, channels: int) -> torch.Tensor:
    """One image as uint8 ``(C, H, W)``, through ganzoo's one decoder (bounded, 16-bit aware)."""
    try:
        return ganzoo.read_image(path, channels)
    except ganzoo.ImageError as error:
        raise ganzoo.DatasetError(str(error)) from None


class PairedFolder(ganzoo.Dataset):
    """Image pairs from disk: A|B side by side (the Pix2Pix datasets), or A/ and B/ folders of matching names."""

    name = "paired_folder"

    class Options(ganzoo.Options):
        root: str = Field(..., description="folder holding train/, val/, test/ (each: A|B files, or A/ and B/)")
        split: Literal["train", "val", "test"] = Field("train", description="the sub-folder to read")
        direction: Literal["AtoB", "BtoA"] = Field("AtoB", description="AtoB: A is the input and B the target")
        channels: Literal[1, 3] = Field(3, description="1: greyscale, 3: RGB")
        size: Optional[PositiveInt] = Field(
            None,
            le=4096,
            description="resize each half to size x size (null: keep; every pair must then have one size; at most 4096)",
        )
        first: Optional[PositiveInt] = Field(
            None, description="read only the first N pairs, in name order (quick trials: data.limit reads them all)"
        )

    options: Options

    def load(self) -> ganzoo.Data:
        folder = Path(self.options.root).expanduser() / self.options.split
        if (folder / "A").is_dir() or (folder / "B").is_dir():
            a, b = self._folders(folder)
        elif folder.is_dir() and _images(folder):
            a, b = self._side_by_side(folder)
        else:
            raise ganzoo.DatasetError(
                f"no image pairs under {folder}. Put the pairs there: either the files of a published Pix2Pix "
                f"dataset (each A|B side by side; unpack {ARCHIVES} so that {folder.parent}/train, val, test exist), "
                f"or two folders {folder}/A and {folder}/B of images with matching file names"
            )
        sizes = {tuple(image.shape) for image in a + b}
        if len(sizes) > 1:
            raise ganzoo.DatasetError(
                f"the pairs under {folder} have different sizes ({', '.join(sorted(f'{h}x{w}' for _, h, w in sizes))}); "
                f"set data.size to resize them to one square size"
            )
        inputs, targets = (a, b) if self.options.direction == "AtoB" else (b, a)
        return ganzoo.Data(torch.stack(targets), condition=torch.stack(inputs))

    def _side_by_side(self, folder: Path) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        a, b = [], []
        for path in _images(folder)[: self.options.first]:
            image = _read(path, self.options.channels)
            height, width = image.shape[1:]
            if width != 2 * height:
                raise ganzoo.DatasetError(
                    f"{path} is {width}x{height}: a side-by-side pair must be twice as wide as "
                    f"high (A on the left, B on the right)"
                )
            halves = [image[:, :, :height], image[:, :, height:]]
            halves = [self._resize(half) for half in halves]
            a.append(halves[0])
            b.append(halves[1])
        return a, b

    def _resize(self, image: torch.Tensor) -> torch.Tensor:
        size = self.options.size
        if size is None or tuple(image.shape[1:]) == (size, size):
            return image
        resized = torch.nn.functional.interpolate(
            image[None].float(), size=(size, size), mode="bicubic", align_corners=False
        )
        return resized[0].round().clamp(0, 255).to(torch.uint8)

    def _folders(self, folder: Path) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        for side in ("A", "B"):
            if not (folder / side).is_dir():
                raise ganzoo.DatasetError(
                    f"{folder} has no {side}/ folder: paired folders need both {folder}/A and {folder}/B"
                )
        names_a = {p.name: p for p in _images(folder / "A")}
        names_b = {p.name: p for p in _images(folder / "B")}
        unpaired = sorted(set(names_a) ^ set(names_b))
        if unpaired:
            shown = ", ".join(f"{('A' if n in names_a else 'B')}/{n}" for n in unpaired[:5])
            more = f" and {len(unpaired) - 5} more" if len(unpaired) > 5 else ""
            raise ganzoo.DatasetError(
                f"{len(unpaired)} file(s) under {folder} have no partner of the same name: {shown}{more}"
            )
        if not names_a:
            raise ganzoo.DatasetError(f"{folder}/A and {folder}/B hold no images ({', '.join(sorted(SUFFIXES))})")
        a, b = [], []
        for name in sorted(names_a)[: self.options.first]:
            image_a, image_b = _read(names_a[name], self.options.channels), _read(names_b[name], self.options.channels)
            if self.options.size is not None:
                image_a, image_b = self._resize(image_a), self._resize(image_b)
            if image_a.shape != image_b.shape:
                raise ganzoo.DatasetError(
                    f"A/{name} is {image_a.shape[2]}x{image_a.shape[1]} but B/{name} is "
                    f"{image_b.shape[2]}x{image_b.shape[1]}: a pair must have one size (or set data.size)"
                )
            a.append(image_a)
            b.append(image_b)
        return a, b
