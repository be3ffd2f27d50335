"""Tiny stand-ins for checking losses by hand: a two-sample real batch, a generator that
always returns the same two fake points, and latents that draw nothing from the random
stream, so that a test knows every draw a loss makes."""

from __future__ import annotations

import torch
from torch import nn

import ganzoo

REAL = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
FAKE = torch.tensor([[0.0, 1.0], [-2.0, 0.0]])


class Constant(nn.Module):
    """G(z) = FAKE, whatever z."""

    def __init__(self):
        super().__init__()
        self.points = nn.Parameter(FAKE.clone())

    def forward(self, z, labels=None):
        return self.points[: len(z)]


class NoNoise(ganzoo.Architecture):
    """Latents that draw nothing from the random stream, so tests know every draw a loss makes."""

    name = "no_noise"

    def sample_latent(self, n, *, device, generator=None):
        return torch.zeros(n, 1, device=device)


def context(discriminator: nn.Module) -> ganzoo.StepContext:
    """A step on REAL with G = Constant and the given D."""
    return ganzoo.StepContext(REAL, None, Constant(), discriminator, NoNoise(), 0)
