"""Architectures: a generator, a discriminator and the latent distribution that feeds G.

An architecture may declare what data its networks accept (:class:`Accepts`) and what its
D returns (:data:`DOutput`), so that ``ganzoo check`` reports a mismatch with the data or
the loss before training instead of at the first step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional, Protocol

import torch

from ganzoo.api.component import Component
from ganzoo.api.data import ConditionKind, DataInfo, DataKind

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
    side_multiple: int = 1
    """An image's side must divide by this."""
    point_dims: Optional[tuple[int, ...]] = None
    """The point dimensions accepted; None for any."""
    labels: bool = False
    """The networks need class labels (a class-conditional architecture)."""
    conditions: tuple[Optional[ConditionKind], ...] = (None, "labels")
    """The conditions the networks can take as their second argument (None: unconditioned
    data). Image-to-image architectures list ``"images"``."""


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
