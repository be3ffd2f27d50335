"""2-D mixtures of Gaussians, the standard mode-collapse tests (VEEGAN, PacGAN).

They need no files, are generated from their own seed, and train in seconds. Labels are
the index of the mode each point was drawn from.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field, PositiveFloat, PositiveInt

import ganzoo


class MixtureOptions(ganzoo.Options):
    """Options every mixture shares."""

    size: PositiveInt = Field(50_000, le=10_000_000, description="number of points (at most 10 million)")
    seed: int = Field(0, ge=0, lt=2**63, description="seed of the points (independent of the recipe's seed)")


class ToyMixture(ganzoo.Dataset):
    """Base: ``size`` points drawn evenly from isotropic Gaussians at ``centers()``."""

    options: Ring.Options | Grid.Options  # every mixture's options: size, seed and its own std default

    def centers(self) -> torch.Tensor:
        raise NotImplementedError

    def provides(self) -> ganzoo.DataSpec:
        return ganzoo.DataSpec("points", (2,), labels=True)  # the labels are the mixture components

    def load(self) -> ganzoo.Data:
        centers = self.centers()
        generator = torch.Generator().manual_seed(self.options.seed)
        labels = torch.randint(len(centers), (self.options.size,), generator=generator)
        noise = torch.randn(self.options.size, 2, generator=generator) * self.options.std
        return ganzoo.Data(
            centers[labels] + noise, labels, num_classes=len(centers), modes=centers, mode_std=self.options.std
        )


class Ring(ToyMixture):
    """A ring of Gaussians (8 by default) on a circle of radius 2."""

    name = "ring"

    class Options(MixtureOptions):
        modes: PositiveInt = Field(8, le=10_000, description="number of Gaussians on the circle (at most 10,000)")
        radius: PositiveFloat = Field(2.0, description="radius of the circle")
        std: PositiveFloat = Field(0.02, description="standard deviation of each Gaussian")

    options: Options

    def centers(self) -> torch.Tensor:
        angles = torch.arange(self.options.modes, dtype=torch.float64) * (2 * math.pi / self.options.modes)
        return (torch.stack([angles.cos(), angles.sin()], dim=1) * self.options.radius).float()


class Grid(ToyMixture):
    """A square grid of Gaussians (5x5 = 25 by default), centred on the origin, 2 apart."""

    name = "grid"

    class Options(MixtureOptions):
        side: PositiveInt = Field(5, le=100, description="Gaussians per row and per column (at most 100)")
        spacing: PositiveFloat = Field(2.0, description="distance between neighbouring modes")
        std: PositiveFloat = Field(0.05, description="standard deviation of each Gaussian")

    options: Options

    def centers(self) -> torch.Tensor:
        coords = (
            torch.arange(self.options.side, dtype=torch.float32) - (self.options.side - 1) / 2
        ) * self.options.spacing
        xs, ys = torch.meshgrid(coords, coords, indexing="ij")
        return torch.stack([xs.flatten(), ys.flatten()], dim=1)
