"""``mnist_pairs``: paired image-to-image tasks built from MNIST, with no download of
their own, so that translation can be tried and tested anywhere MNIST is.

- ``edges``: the outline of the digit (its pixels above half intensity that touch the
  background) -> the digit.
- ``inpaint``: the digit with a grey block hiding part of it -> the whole digit. The
  block's place is drawn per sample from ``seed`` (a generator of its own, one stream per
  split), so the same options always give the same pairs.

Train and test pairs come from MNIST's own train and test splits.
"""

from __future__ import annotations

from typing import Literal, Optional

import torch
from pydantic import Field, PositiveInt
from torch.nn import functional as F

import ganzoo
from ganzoo_datasets.torchvision_sets import MNIST


def edge_map(digits: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, 1, H, W)`` digits -> uint8 outlines: the ink pixels (> 127) with a
    background pixel among their 8 neighbours, white on black."""
    ink = (digits > 127).float()
    eroded = 1 - F.max_pool2d(1 - ink, 3, stride=1, padding=1)
    return ((ink - eroded) * 255).to(torch.uint8)


def hide_blocks(digits: torch.Tensor, block: int, seed: int) -> torch.Tensor:
    """Copies of ``digits`` with one ``block`` x ``block`` square set to grey (128) in each,
    at a place drawn from ``seed`` within the digit's central area."""
    n, _, height, width = digits.shape
    generator = torch.Generator().manual_seed(seed)
    margin_h, margin_w = max(0, (height - block) // 4), max(0, (width - block) // 4)
    top = torch.randint(margin_h, height - block - margin_h + 1, (n,), generator=generator)
    left = torch.randint(margin_w, width - block - margin_w + 1, (n,), generator=generator)
    rows = torch.arange(height).view(1, height, 1)
    cols = torch.arange(width).view(1, 1, width)
    inside = (
        (rows >= top.view(n, 1, 1))
        & (rows < (top + block).view(n, 1, 1))
        & (cols >= left.view(n, 1, 1))
        & (cols < (left + block).view(n, 1, 1))
    )
    return torch.where(inside.unsqueeze(1), torch.full_like(digits, 128), digits)


class MNISTPairs(ganzoo.Dataset):
    """Paired tasks from MNIST: edges -> digit, or digit with a hidden block -> digit; deterministic from a seed."""

    name = "mnist_pairs"

    class Options(ganzoo.Options):
        root: str = Field("data", description="folder holding MNIST/raw/ in torchvision's layout")
        download: bool = Field(True, description="download MNIST when it is missing")
        task: Literal["edges", "inpaint"] = Field(
            "edges", description="edges: outline -> digit; inpaint: hidden block -> digit"
        )
        split: Literal["train", "test"] = Field("train", description="MNIST's split to build the pairs from")
        block: PositiveInt = Field(12, le=28, description="inpaint: the side of the hidden square, in px")
        seed: int = Field(0, ge=0, lt=2**62, description="inpaint: seed of the blocks' places")
        first: Optional[PositiveInt] = Field(None, description="keep only the first N pairs (quick trials)")

    options: Options

    def load(self) -> ganzoo.Data:
        # MNIST as the datasets plugin loads it: its files checked (a truncated copy, a label
        # out of range: named in one line) and its download safe.
        options = {key: getattr(self.options, key) for key in ("root", "download", "split")}
        mnist = MNIST(**options).load()
        digits = mnist.samples[: self.options.first]
        labels = mnist.labels[: self.options.first] if mnist.labels is not None else None
        if self.options.task == "edges":
            inputs = edge_map(digits)
        else:
            inputs = hide_blocks(digits, self.options.block, self.options.seed * 2 + (self.options.split == "test"))
        # The digits' labels describe the targets (the dataset classifier and its metrics
        # read them); the networks are conditioned on the input images alone.
        return ganzoo.Data(digits, labels, mnist.num_classes, mnist.class_names, condition=inputs)
