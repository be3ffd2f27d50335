"""Optimisers a recipe can name under ``optim.generator`` and ``optim.discriminator``.

These are torch's own optimisers with validated options; the table is small on purpose
(Adam for most GANs, RMSprop for WGAN, SGD and AdamW for experiments).
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import torch
from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from ganzoo.components import Options


class ImplementationOptions(Options):
    """How torch runs the update. None keeps torch's own choice (a for-loop on the CPU,
    foreach on a GPU), which is what reproduces a plain PyTorch script bit for bit."""

    foreach: Optional[bool] = Field(None, description="update all tensors in one foreach call (None: torch's choice)")


class FusedOptions(ImplementationOptions):
    fused: Optional[bool] = Field(None, description="one fused kernel for the whole update (None: torch's choice)")


class AdamOptions(FusedOptions):
    """torch.optim.Adam. The vanilla GAN of the article uses lr 2e-4 with default betas."""

    lr: PositiveFloat = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    eps: PositiveFloat = 1e-8
    weight_decay: NonNegativeFloat = 0.0


class AdamWOptions(AdamOptions):
    """torch.optim.AdamW (decoupled weight decay)."""

    weight_decay: NonNegativeFloat = 0.01


class RMSpropOptions(ImplementationOptions):
    """torch.optim.RMSprop, as used by WGAN (lr 5e-5)."""

    lr: PositiveFloat = 5e-5
    alpha: PositiveFloat = 0.99
    eps: PositiveFloat = 1e-8
    momentum: NonNegativeFloat = 0.0
    weight_decay: NonNegativeFloat = 0.0


class SGDOptions(FusedOptions):
    """torch.optim.SGD."""

    lr: PositiveFloat = 1e-2
    momentum: NonNegativeFloat = 0.0
    nesterov: bool = False
    weight_decay: NonNegativeFloat = 0.0

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> "SGDOptions":
        if self.nesterov and self.momentum <= 0:
            raise ValueError("nesterov: true needs momentum > 0")
        return self


OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], type[Options]]] = {
    "adam": (torch.optim.Adam, AdamOptions),
    "adamw": (torch.optim.AdamW, AdamWOptions),
    "rmsprop": (torch.optim.RMSprop, RMSpropOptions),
    "sgd": (torch.optim.SGD, SGDOptions),
}


CAPTURABLE = {"adam", "adamw", "rmsprop"}
"""Optimisers with a step counter, which a CUDA graph captures only with ``capturable=True``
(the counter then lives on the device); SGD keeps no counter and needs no such flag."""


def build_optimizer(name: str, options: dict[str, Any], params: Iterable[torch.nn.Parameter], *,
                    capturable: bool = False) -> torch.optim.Optimizer:
    """An optimiser from a validated recipe entry (``name`` plus its options);
    ``capturable`` for a step captured as a CUDA graph (:mod:`ganzoo.cuda_graph`)."""
    optimizer_cls, options_cls = OPTIMIZERS[name]
    extra: dict[str, Any] = {"capturable": True} if capturable and name in CAPTURABLE else {}
    return optimizer_cls(params, **options_cls(**options).model_dump(exclude_none=True), **extra)
