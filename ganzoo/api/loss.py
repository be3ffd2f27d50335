"""Losses: the two objectives of a GAN, what they receive for one update, and what they log.

A loss computes D's and G's objectives from a :class:`StepContext` (the batch, both
networks, fresh latents) and returns a :class:`LossOutput`: the scalar to minimise and
device tensors to log. It may declare what it needs (:class:`Needs`) so that ``ganzoo
check`` refuses an architecture or data it cannot train, and extra passes that run on some
updates only (:class:`ExtraPass`: StyleGAN2's lazy R1 and path-length regularisation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

import torch

from ganzoo.api.architecture import Architecture, DOutput, Network
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


@dataclass(frozen=True)
class ExtraPass:
    """An optimiser step of its own that a loss asks for on some updates only
    (``Loss.extra_passes``): lazy regularisation (Karras et al., 2020), a penalty computed
    every ``every`` updates on a minibatch of its own instead of in every update.

    After update ``u`` of ``network`` (counted from 0: for D, ``step * d_steps + i``; for G,
    the step), when ``u % every == 0``, the trainer zeroes that network's gradients, calls
    ``Loss.extra_loss(name, ctx)`` with the update's context, back-propagates its ``loss``
    with the other network frozen and steps that network's optimiser. The loss scales its
    penalty by ``every`` itself, so that it weighs what it would weigh in every update. The
    pass's ``logs`` are logged like the updates' (averaged over the passes of a log window).
    Discriminator updates at an epoch's end, too few for a step, run no pass."""

    name: str
    """Names the pass for ``extra_loss`` and in divergence reports (``r1``)."""
    network: Network
    """The network the pass updates: ``"discriminator"`` or ``"generator"``."""
    every: int
    """The pass follows every ``every``-th update of ``network``, the first one included."""
    adjust_optimizer: bool = False
    """Correct the network's optimiser for the extra steps, as StyleGAN2 does (its appendix
    B): with c = every / (every + 1), the learning rate is multiplied by c and Adam's betas
    are raised to the power c, so that the moments decay per minibatch as they would
    without the passes."""

    def __post_init__(self) -> None:
        if not self.name or self.name in ("d_loss", "g_loss"):
            raise ValueError(f"an extra pass needs a name of its own, not {self.name!r}")
        if self.network not in ("generator", "discriminator"):
            raise ValueError(f"an extra pass updates the generator or the discriminator, not {self.network!r}")
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"an extra pass's every must be a whole number of updates >= 1, got {self.every!r}")

    def due(self, update: int) -> bool:
        """Whether the pass follows update ``update`` (counted from 0) of its network."""
        return update % self.every == 0


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

    def extra_passes(self) -> tuple[ExtraPass, ...]:
        """The passes the loss runs on some updates only (see :class:`ExtraPass`), given
        its options; none by default."""
        return ()

    def extra_loss(self, name: str, ctx: StepContext) -> LossOutput:
        """The objective of the extra pass ``name`` for the update of ``ctx`` (called only
        for the passes that ``extra_passes`` declares)."""
        raise NotImplementedError(f"{type(self).__name__} declares the extra pass {name!r} but no extra_loss")


def passes_of(component: object) -> tuple[ExtraPass, ...]:
    """The extra passes of a loss instance (its passes depend on its options); none for a
    class or any other component. The capture policy and a population's refuse them alike."""
    extra_passes = getattr(component, "extra_passes", None)
    if isinstance(component, type) or not callable(extra_passes):
        return ()
    return tuple(extra_passes())
