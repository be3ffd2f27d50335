"""Stacked-MNIST: three MNIST digits drawn independently as the three channels of one image.

The standard mode-collapse benchmark for images (Metz et al., 2017; Srivastava et al., 2017,
VEEGAN; Lin et al., 2018, PacGAN): every combination of three digits is a mode, so there are
1000, all equally likely. It is built here from MNIST itself, deterministically from its own
seed, the way the PacGAN reference code builds its VEEGAN setting: 128,000 images whose
channels are digits drawn with replacement from MNIST's 70,000 (training and test splits
together). The label of an image is its mode, ``100 * first + 10 * second + third``.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, PositiveInt

import ganzoo
from ganzoo_datasets.torchvision_sets import MNIST

CHANNELS = 3
MODES = 10**CHANNELS


class StackedMNIST(ganzoo.Dataset):
    """Stacked-MNIST (VEEGAN, PacGAN): 3x28x28 images whose channels are three independent MNIST digits; 1000 modes, labelled 0-999."""

    name = "stacked_mnist"

    class Options(ganzoo.Options):
        root: str = Field("data", description="folder holding MNIST/raw/ in torchvision's layout")
        download: bool = Field(True, description="download MNIST when its files are missing")
        size: PositiveInt = Field(
            128_000,
            le=1_000_000,
            description="number of stacked images (PacGAN's VEEGAN setting: 128,000; at most 1,000,000)",
        )
        seed: int = Field(0, ge=0, lt=2**63, description="seed of the digits drawn (independent of the recipe's seed)")
        digits: Literal["all", "train", "test"] = Field(
            "all", description="the MNIST digits drawn from: all 70,000 (as PacGAN), or one split"
        )

    options: Options

    def load(self) -> ganzoo.Data:
        splits = ("train", "test") if self.options.digits == "all" else (self.options.digits,)
        parts = [MNIST(root=self.options.root, download=self.options.download, split=split).load() for split in splits]
        images = torch.cat([part.samples[:, 0] for part in parts])  # (N, 28, 28) uint8
        labels = torch.cat([part.labels for part in parts if part.labels is not None]).to(
            torch.int64
        )  # MNIST has them all
        return stack_digits(images, labels, self.options.size, self.options.seed)


def stack_digits(images: torch.Tensor, labels: torch.Tensor, size: int, seed: int) -> ganzoo.Data:
    """``size`` images whose channels are digits drawn uniformly with replacement from ``images``."""
    chosen = torch.randint(len(images), (size, CHANNELS), generator=torch.Generator().manual_seed(seed))
    modes = (labels[chosen] * torch.tensor([100, 10, 1])).sum(1)
    return ganzoo.Data(
        images[chosen].contiguous(), modes, num_classes=MODES, class_names=[f"{mode:03d}" for mode in range(MODES)]
    )
