"""Architectures: a generator, a discriminator and the latent distribution that feeds G.

An architecture may declare what data its networks accept (:class:`Accepts`) and what its
D returns (:data:`DOutput`), so that ``ganzoo check`` reports a mismatch with the data or
the loss before training instead of at the first step. It may also declare parameters that
learn at another rate than the rest of their network (:class:`ParameterGroup`, a mapping
network's 0.01) and options its generator takes when sampling (``SamplingOptions``: a
truncation ψ), so that neither needs a special case in the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Optional, Protocol

import torch

from ganzoo.api.component import Component, Options
from ganzoo.api.data import ConditionKind, DataInfo, DataKind

Network = Literal["generator", "discriminator"]

DOutput = str
"""What D returns, in the loss's terms: ``"probability"`` (a sigmoid output), ``"logit"`` (a
raw score), ``"reconstruction"`` (an autoencoder D: D(x) reconstructs x), ``"logit+classes"``
(a score and class logits, ACGAN) or ``"logit+codes"`` (a score and a Q head that predicts
the latent codes, infoGAN). Other values are allowed: they are compared as plain strings."""


@dataclass(frozen=True)
class Accepts:
    """What data an architecture's networks accept (``Architecture.accepts``)."""

    kinds: tuple[DataKind, ...] = ("images", "points")
    square: bool = False
    """Images must be square."""
    min_side: int = 1
    """Images must be at least this many pixels on a side."""
    max_side: Optional[int] = None
    """Images must be at most this many pixels on a side; None for any size."""
    side_multiple: int = 1
    """An image's side must divide by this."""
    point_dims: Optional[tuple[int, ...]] = None
    """The point dimensions accepted; None for any."""
    labels: bool = False
    """The networks need class labels (a class-conditional architecture)."""
    conditions: tuple[Optional[ConditionKind], ...] = (None, "labels")
    """The conditions the networks can take as their second argument (None: unconditioned
    data). Image-to-image architectures list ``"images"``."""


@dataclass(frozen=True)
class ParameterGroup:
    """Parameters of one network whose optimiser settings differ from the recipe's
    (``Architecture.parameter_groups``): StyleGAN's mapping network learns at 0.01 times the
    rate of the rest of G.

    The core builds the network's optimiser over one torch parameter group per declared
    group (and one for the parameters no group takes), then multiplies each group's
    learning rate by its ``lr_scale``; a schedule started afterwards moves every group's
    rate from there, and checkpoints keep the groups."""

    prefix: str
    """The group takes the parameters whose name (``module.named_parameters()``) starts with
    this, e.g. ``"mapping."``; a parameter goes to the first group that matches it."""
    lr_scale: float = 1.0
    """Multiplies the optimiser's learning rate for these parameters."""

    def __post_init__(self) -> None:
        if not self.prefix:
            raise ValueError("a parameter group needs a non-empty prefix")
        if not (self.lr_scale > 0 and self.lr_scale < float("inf")):
            raise ValueError(f"a parameter group's lr_scale must be positive and finite, got {self.lr_scale}")


class LatentSource(Protocol):
    """The part of an architecture a callback uses: drawing latent vectors."""

    def sample_latent(
        self, n: int, *, device: torch.device, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor: ...


class Architecture(Component):
    """A generator, a discriminator and the latent distribution that feeds the generator.

    Contract for the networks: ``generator(z, labels=None)`` returns samples shaped like the
    data (in the model range, [-1, 1] for images); ``discriminator(x, labels=None)`` returns
    whatever the paired loss expects (a score per sample, or a tuple with auxiliary heads).
    The second argument carries the data's condition (``Data.condition``): class labels, or
    condition images for paired data; its name ``labels`` stays from the label case.
    Unconditional models simply ignore it.
    """

    conditional: ClassVar[bool] = False
    """True when the generator honours ``labels``: ``ganzoo sample --class`` needs it, and
    evaluation then draws labels with the data's class frequencies."""

    SamplingOptions: ClassVar[type[Options]] = Options
    """Keyword options the generator takes when samples are drawn from it (``ganzoo sample
    --truncation PSI`` gives ``truncation``): a pydantic model of its own, whose field names
    are keywords of G's ``forward``. Only the options a user gives are passed, so G is
    called as ``G(z, labels)`` otherwise, as in training. The default declares none."""

    def build_generator(self, data: DataInfo) -> torch.nn.Module:
        raise NotImplementedError

    def build_discriminator(self, data: DataInfo) -> torch.nn.Module:
        raise NotImplementedError

    def sample_latent(
        self, n: int, *, device: torch.device, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """Draw ``n`` latent vectors. ``generator`` is given for fixed-noise sample grids,
        which must not disturb the training random stream."""
        raise NotImplementedError

    def latent_codes(self) -> dict[str, str]:
        """Named parts of the latent that control one factor each (infoGAN's codes), as
        ``{name: description}``; ``ganzoo sample --vary NAME`` walks along one of them."""
        return {}

    def vary_code(self, latents: torch.Tensor, code: str, steps: int) -> torch.Tensor:
        """For each of ``latents``, copies with code ``code`` set to successive values, in
        order: ``(len(latents) * K, ...)``. A categorical code takes each of its K values
        (``steps`` is ignored); a continuous one takes K = ``steps`` values over its range."""
        raise NotImplementedError

    # ------------------------------------------------------------------ declarations

    def accepts(self) -> Optional[Accepts]:
        """What data the networks accept; None (the default) declares nothing."""
        return None

    def discriminator_output(self) -> Optional[DOutput]:
        """What D returns (see :data:`DOutput`), given the options; None (the default) declares nothing."""
        return None

    def parameter_groups(self, network: Network) -> tuple[ParameterGroup, ...]:
        """Parameters of ``network`` (``"generator"`` or ``"discriminator"``) that the
        optimiser treats apart (see :class:`ParameterGroup`); none by default."""
        return ()
