"""ganzoo-example: a complete third-party plugin in one file.

It imports nothing from ganzoo but the public API, and registers one component through a
hook implementation; ``pyproject.toml`` names this module in the ``ganzoo`` entry-point
group, which is how ganzoo finds it once it is installed.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field, PositiveFloat, PositiveInt

import ganzoo


class Spiral(ganzoo.Dataset):
    """Points along an Archimedean spiral: one long, thin, curved mode.

    A mixture of Gaussians tests whether a GAN covers separate modes; a spiral tests whether
    it can follow a connected manifold without cutting corners between its turns.
    """

    name = "spiral"

    class Options(ganzoo.Options):
        turns: PositiveFloat = Field(1.5, description="full turns the spiral makes around the origin")
        noise: PositiveFloat = Field(0.05, description="standard deviation of the Gaussian noise around the curve")
        size: PositiveInt = Field(20_000, description="number of points")
        seed: int = Field(0, description="seed of the points (independent of the recipe's seed)")

    options: Options

    RADIUS = 2.5
    """Outer radius: with the default noise the points stay within [-3, 3]."""

    def load(self) -> ganzoo.Data:
        # A generator of its own: the same options always give the same points, and loading
        # the data does not shift the training random stream that the recipe's seed fixes.
        generator = torch.Generator().manual_seed(self.options.seed)
        t = torch.rand(self.options.size, generator=generator)  # position along the curve
        angle = 2 * math.pi * self.options.turns * t
        radius = self.RADIUS * t
        points = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
        points += torch.randn(points.shape, generator=generator) * self.options.noise
        return ganzoo.Data(samples=points.float(), labels=None)


@ganzoo.hookimpl
def register_datasets(register):
    register(Spiral)
