"""Augmentations: differentiable transforms of every image the discriminator sees.

With a few hundred training images, D memorises them and G collapses. Augmenting only the
real images would teach G to produce augmented images; augmenting everything D sees, real
and generated, in both updates, and differentiably so that G learns through the transform,
does not (DiffAugment, Zhao et al. 2020; ADA, Karras et al. 2020). The core applies a
recipe's augmentation (``augment:``) to D's input, so neither the loss nor the architecture
knows about it: gradient penalties differentiate through it, class conditions pass
unchanged, an image condition (paired data) takes the same transform as its image, and a
packing D (PacGAN) receives augmented samples to pack.

The step runs without host synchronisation and may be captured as one CUDA graph, so an
augmentation draws its random numbers on the device, keeps what changes over training
(ADA's probability ``p``) in device tensors updated in place, and never branches on a value.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

import torch

from ganzoo.api.architecture import Accepts
from ganzoo.api.component import Component
from ganzoo.api.scalars import ScalarInfo


class Augment(Component, torch.nn.Module):
    """A differentiable augmentation of D's input images.

    ``forward(images, condition)`` returns both transformed with the same random draw per
    sample (``condition`` is an image condition of paired data, or None). Images arrive in
    the model range, ``(B, C, H, W)``; the result has the same shape.

    An augmentation is an ``nn.Module``: its buffers (ADA's ``p``) move to the device and
    are saved in every checkpoint, so a resumed run continues bit for bit.
    """

    identity: ClassVar[bool] = False
    """True for ``none``: the step then calls D directly (no wrapper, no cost)."""

    scalars: ClassVar[dict[str, ScalarInfo]] = {}
    """How the tensors of :meth:`logs` are named in curves, reports and the progress bar."""

    def __init__(self, **options: Any) -> None:
        torch.nn.Module.__init__(self)
        Component.__init__(self, **options)
        self.shard: tuple[int, int] = (0, 1)
        """``(rank, world size)``, set by the core: see :meth:`uniform`."""

    @property
    def adaptive(self) -> bool:
        """Whether it adapts to D's verdict on the real images (ADA): the core then calls
        :meth:`observe` after every discriminator update, and ``ganzoo check`` refuses a loss
        that does not report ``LossOutput.real_scores``."""
        return False

    def forward(
        self, images: torch.Tensor, condition: Optional[torch.Tensor] = None
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        raise NotImplementedError

    def observe(self, real_sign: torch.Tensor, images: int) -> None:
        """After a discriminator update (adaptive augmentations only): ``real_sign`` is the
        mean sign of D's scores of that update's real images, a 0-d device tensor (in a
        data-parallel run, averaged over the ranks); ``images`` is how many real images
        (the global batch) it came from. Device work only."""

    def logs(self) -> dict[str, torch.Tensor]:
        """Device tensors to log after every discriminator update (ADA's ``p``), named in
        :attr:`scalars`; read on the host only once per logged window."""
        return {}

    def accepts(self) -> Optional[Accepts]:
        """The data it can augment (``ganzoo check`` compares it with the recipe's data):
        images, with any condition, by default."""
        return Accepts(kinds=("images",), conditions=(None, "labels", "images"))

    def uniform(self, n: int, *shape: int, device: torch.device) -> torch.Tensor:
        """``U[0, 1)`` numbers for ``n`` samples, ``(n, *shape)``, from the device's random
        stream. Draw every per-sample random number through here (or :meth:`normal`): in a
        data-parallel run each rank holds ``n`` samples of the global batch and the same
        random stream as the others, so the numbers are drawn for the whole global batch
        and each rank keeps its own share (as ``StepContext.latent`` does); drawn per
        rank, every rank would augment its samples exactly as the others do theirs."""
        rank, size = self.shard
        if size == 1:
            return torch.rand((n, *shape), device=device)
        return torch.rand((n * size, *shape), device=device)[rank * n : (rank + 1) * n]

    def normal(self, n: int, *shape: int, device: torch.device) -> torch.Tensor:
        """``N(0, 1)`` numbers for ``n`` samples, drawn like :meth:`uniform`."""
        rank, size = self.shard
        if size == 1:
            return torch.randn((n, *shape), device=device)
        return torch.randn((n * size, *shape), device=device)[rank * n : (rank + 1) * n]
