"""DiffAugment (Zhao et al., NeurIPS 2020): colour, translation and cutout, as the paper's
own code (``DiffAugment_pytorch.py``) defines them, on every image D sees.

- ``color``: brightness ``x + (u - 0.5)``; saturation ``(x - mean_c) * 2u + mean_c`` (the
  mean over the channels: nothing changes on greyscale images); contrast
  ``(x - mean) * (u + 0.5) + mean`` (the mean over the whole image); one ``u ~ U[0, 1)``
  per sample and per transform.
- ``translation``: a shift by a whole number of pixels, up to ``translation`` of the side
  (1/8 by default) each way, drawn per sample and per axis; the pixels shifted in are 0.
- ``cutout``: a square of ``cutout`` of the side (half by default) set to 0, centred at a
  random pixel (cut where it leaves the image).

0 is the middle grey of the model range, as in the paper, whose images are in [-1, 1] too.
Every transform is a per-sample elementwise map, gather or mask: differentiable in the
images, free of host reads, and its random numbers come from the device.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from pydantic import Field, field_validator

import ganzoo

POLICIES = ("color", "translation", "cutout")


def per_sample(values: torch.Tensor) -> torch.Tensor:
    """``(B,)`` to ``(B, 1, 1, 1)``, to broadcast over a batch of images."""
    return values.view(-1, 1, 1, 1)


def brightness(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    return x + per_sample(u - 0.5)


def saturation(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * per_sample(u * 2) + mean


def contrast(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * per_sample(u + 0.5) + mean


def translate(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``x`` shifted by whole pixels: output pixel ``(i, j)`` is input pixel ``(i + rows[b],
    j + cols[b])``, 0 where that lies outside (``rows``, ``cols``: ``(B,)`` integer tensors)."""
    batch, channels, height, width = x.shape
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1)).flatten(2)  # a ring of zeros to read outside from
    source_rows = (torch.arange(height, device=x.device) + rows.view(-1, 1) + 1).clamp(0, height + 1)
    source_cols = (torch.arange(width, device=x.device) + cols.view(-1, 1) + 1).clamp(0, width + 1)
    index = source_rows.view(batch, height, 1) * (width + 2) + source_cols.view(batch, 1, width)
    index = index.view(batch, 1, height * width).expand(batch, channels, height * width)
    return padded.gather(2, index).view(batch, channels, height, width)


def cut_out(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``x`` with the ``size`` rectangle whose corner is at ``(top[b], left[b])`` (possibly
    outside the image) set to 0."""
    height, width = x.shape[2:]
    rows = torch.arange(height, device=x.device).view(1, height, 1)
    cols = torch.arange(width, device=x.device).view(1, 1, width)
    top, left = top.view(-1, 1, 1), left.view(-1, 1, 1)
    inside = (rows >= top) & (rows < top + size[0]) & (cols >= left) & (cols < left + size[1])
    return x * (~inside).unsqueeze(1).to(x.dtype)


def whole_numbers(u: torch.Tensor, low: int, high: int) -> torch.Tensor:
    """``u ~ U[0, 1)`` to whole numbers uniform in ``[low, high)`` (``torch.randint``'s range)."""
    return (u * (high - low)).floor().to(torch.int64) + low


class DiffAugment(ganzoo.Augment):
    """DiffAugment (Zhao et al., 2020): colour, translation and cutout, any subset, on every image D sees, real and generated."""

    name = "diffaugment"
    capturable = True  # per-sample device work, random numbers from the device (docs/augment.md)
    stackable = "a population's batched step does not augment D's input (its random draws are one run's)"

    class Options(ganzoo.Options):
        policy: str = Field(
            "color,translation,cutout",
            description="the transforms, comma-separated, applied in this order: any of color, translation, cutout",
        )
        translation: float = Field(0.125, gt=0, le=0.5, description="largest shift, as a fraction of the side")
        cutout: float = Field(0.5, gt=0, le=1, description="side of the square cut out, as a fraction of the side")

        @field_validator("policy")
        @classmethod
        def _known_transforms(cls, value: str) -> str:
            parts = [part.strip() for part in value.split(",")]
            unknown = [part for part in parts if part not in POLICIES]
            if unknown or not value.strip():
                raise ValueError(f"expected a comma-separated list of {', '.join(POLICIES)}, got {value!r}")
            if len(set(parts)) < len(parts):
                raise ValueError(f"each transform at most once, got {value!r}")
            return ",".join(parts)

    options: Options

    def forward(
        self, images: torch.Tensor, condition: Optional[torch.Tensor] = None
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        transforms: dict[str, Callable[[list[torch.Tensor]], list[torch.Tensor]]] = {
            "color": self._color,
            "translation": self._translation,
            "cutout": self._cutout,
        }
        tensors = [images] if condition is None else [images, condition]
        for part in self.options.policy.split(","):
            tensors = transforms[part](tensors)
        return tensors[0], (tensors[1] if condition is not None else None)

    def _color(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        n, device = tensors[0].shape[0], tensors[0].device
        b, s, c = (self.uniform(n, device=device) for _ in range(3))
        return [contrast(saturation(brightness(x, b), s), c) for x in tensors]

    def _translation(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        n, _, height, width = tensors[0].shape
        most = int(height * self.options.translation + 0.5), int(width * self.options.translation + 0.5)
        u = self.uniform(n, 2, device=tensors[0].device)
        rows = whole_numbers(u[:, 0], -most[0], most[0] + 1)
        cols = whole_numbers(u[:, 1], -most[1], most[1] + 1)
        return [translate(x, rows, cols) for x in tensors]

    def _cutout(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        n, _, height, width = tensors[0].shape
        size = int(height * self.options.cutout + 0.5), int(width * self.options.cutout + 0.5)
        u = self.uniform(n, 2, device=tensors[0].device)
        # The paper's centre: in [0, side + (1 - size % 2)), the square's corner size // 2 before it.
        top = whole_numbers(u[:, 0], 0, height + 1 - size[0] % 2) - size[0] // 2
        left = whole_numbers(u[:, 1], 0, width + 1 - size[1] % 2) - size[1] // 2
        return [cut_out(x, top, left, size) for x in tensors]
