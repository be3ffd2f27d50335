"""Losses: the two objectives of a GAN, what they receive for one update, and what they log.

A loss computes D's and G's objectives from a :class:`StepContext` (the batch, both
networks, fresh latents) and returns a :class:`LossOutput`: the scalar to minimise and
device tensors to log. It may declare what it needs (:class:`Needs`) so that ``ganzoo
check`` refuses an architecture or data it cannot train.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

import torch

from ganzoo.api.architecture import Architecture, DOutput
from ganzoo.api.component import Component
from ganzoo.api.scalars import ScalarInfo


@dataclass(frozen=True)
class Needs:
    """What a loss needs from the architecture and the data (``Loss.needs``)."""

    d_output: Optional[tuple[DOutput, ...]] = None
    """The D outputs the loss works with (see :data:`DOutput`); None for any."""
    labels: bool = False
    """The data must have class labels."""
    latent_codes: bool = False
    """The architecture must have latent codes (``Architecture.latent_codes``)."""
    image_condition: bool = False
    """The data must be paired: an image condition per sample."""


@dataclass
class StepContext:
    """Everything a loss may use for one update.

    ``real`` and ``condition`` are the current batch, already on the device and scaled to
    the model range. The generator step sees the batch of the last discriminator step.
    """

    real: torch.Tensor
    condition: Optional[torch.Tensor]
    """The batch's condition: class labels ``(B,)``, images ``(B, C, H, W)`` in the model
    range (paired data), or None. Hand it to the networks as their second argument."""
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    architecture: Architecture
    step: int
    shard: tuple[int, int] = (0, 1)
    """``(rank, world size)``: in a data-parallel run, ``real`` is this rank's share of the
    global batch, and ``latent`` returns the matching share of the global latents."""
    latent_stream: Optional[torch.Generator] = None
    """Where ``latent`` draws from: None for the global random stream; a population
    member's own generator (``train.population``)."""

    @property
    def labels(self) -> Optional[torch.Tensor]:
        """The condition, under the name it had when conditions were only class labels:
        losses that pass ``ctx.labels`` to G and D pass an image condition just the same."""
        return self.condition

    @property
    def batch_size(self) -> int:
        return self.real.shape[0]

    def latent(self, n: Optional[int] = None) -> torch.Tensor:
        """Fresh latent vectors from the training random stream (one batch by default).

        In a data-parallel run every rank draws the latents of the whole global batch (the
        random streams are the same on every rank) and keeps its own share, so that the
        ranks together compute exactly what one process computes."""
        n = n or self.batch_size
        rank, size = self.shard
        if size == 1:
            return self.architecture.sample_latent(n, device=self.real.device, generator=self.latent_stream)
        return self.architecture.sample_latent(n * size, device=self.real.device)[rank * n : (rank + 1) * n]


@dataclass
class LossOutput:
    """A scalar to minimise plus detached scalars to log (e.g. ``d_real``, ``d_fake``).

    Log values stay tensors: the trainer averages them on the device and reads them only
    every ``log_every`` steps, so a loss never forces a host synchronisation.
    """

    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)
    real_scores: Optional[torch.Tensor] = None
    """From a discriminator update: D's score of each real image of the batch, positive
    where D takes it for real and negative where it takes it for generated (for a sigmoid
    D, its logit). An adaptive augmentation (ADA) reads the mean of its sign, the
    overfitting heuristic r_t; a loss that declares ``reports_real_scores`` fills it."""


class Loss(Component, torch.nn.Module):
    """The two objectives of a GAN.

    A loss is an ``nn.Module`` so that state of its own (BEGAN's ``k``, running statistics)
    lives in buffers: it moves to the device with the models and is saved with them.

    ``scalars`` names what its ``LossOutput.logs`` hold (``d_real`` is D's mean probability
    for one loss and a critic's mean score for another); :mod:`ganzoo.api.scalars` is where the
    curves, the progress bar and the reports look labels up.
    """

    scalars: ClassVar[dict[str, ScalarInfo]] = {}

    reports_real_scores: ClassVar[bool] = False
    """True when every ``discriminator_loss`` fills ``LossOutput.real_scores``: D's verdict
    has a decision boundary (a probability's 0.5, a logit's 0), which a critic's
    unbounded score (WGAN) or an autoencoder's energy does not have. Adaptive
    augmentation (ADA) needs it."""

    def __init__(self, **options: Any) -> None:
        torch.nn.Module.__init__(self)
        Component.__init__(self, **options)

    def discriminator_loss(self, ctx: StepContext) -> LossOutput:
        raise NotImplementedError

    def generator_loss(self, ctx: StepContext) -> LossOutput:
        raise NotImplementedError

    def after_discriminator_step(self, ctx: StepContext) -> None:
        """Called after each discriminator update (weight clipping, state updates)."""

    def after_generator_step(self, ctx: StepContext) -> None:
        """Called after each generator update."""

    def needs(self) -> Optional[Needs]:
        """What the loss needs (a declaration ``ganzoo check`` compares with the data and
        the architecture); None (the default) declares nothing."""
        return None
