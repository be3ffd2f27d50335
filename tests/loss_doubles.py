"""Tiny stand-ins for checking losses by hand: a two-sample real batch, a generator that
always returns the same two fake points, and latents that draw nothing from the random
stream, so that a test knows every draw a loss makes; and a poison that turns a trainer's
discriminator loss NaN from a chosen step."""

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


class Poisoned(nn.Module):
    """A loss whose discriminator loss is multiplied by ``factor``, a tensor on the device:
    NaN once :class:`PoisonAfter` sets it. A captured step reads it at every replay, as an
    eager step does (a test on the host's ``ctx.step`` would be baked into a graph)."""

    def __init__(self, loss: ganzoo.Loss, factor: torch.Tensor) -> None:
        super().__init__()
        self.inner: ganzoo.Loss = loss
        self.factor = factor

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        out = self.inner.discriminator_loss(ctx)
        out.loss = out.loss * self.factor
        return out

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)


class PoisonAfter(ganzoo.Callback):
    """Sets the poison's factor to NaN when step ``step`` ends (between steps, on the device)."""

    name = "poison_after"
    capturable = True

    def __init__(self, step: int, factor: torch.Tensor) -> None:
        self.step, self.factor = step, factor

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.step:
            self.factor.fill_(float("nan"))


def poison_after(trainer, step: int) -> None:
    """Make ``trainer``'s discriminator loss NaN from step ``step + 1`` on."""
    factor = torch.ones((), device=trainer.device)
    trainer.stepper.loss = Poisoned(trainer.loss, factor)
    trainer.callbacks.append(PoisonAfter(step, factor))
