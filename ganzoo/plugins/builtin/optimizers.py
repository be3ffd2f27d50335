"""The bundled optimisers a recipe can name under ``optim.generator`` and ``optim.discriminator``.

These are torch's own optimisers with validated options, registered by the core through the
``register_optimizers`` hook like any plugin's (see :mod:`ganzoo.plugins.builtin`); the list is
small on purpose (Adam for most GANs, RMSprop for WGAN, SGD and AdamW for experiments).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Optional

import torch
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, model_validator

from ganzoo.api import Optimizer, Options
from ganzoo.api.optim import Parameters

Beta = Annotated[float, Field(ge=0, lt=1)]
"""A moving-average coefficient of Adam: from 0 up to, not including, 1."""


class ImplementationOptions(Options):
    """How torch runs the update. None keeps torch's own choice (a for-loop on the CPU,
    foreach on a GPU), which is what reproduces a plain PyTorch script bit for bit.
    No option of an optimiser may be NaN or infinite."""

    model_config = ConfigDict(allow_inf_nan=False)

    foreach: Optional[bool] = Field(None, description="update all tensors in one foreach call (None: torch's choice)")


class FusedOptions(ImplementationOptions):
    fused: Optional[bool] = Field(None, description="one fused kernel for the whole update (None: torch's choice)")


class AdamOptions(FusedOptions):
    """torch.optim.Adam. The vanilla GAN of the article uses lr 2e-4 with default betas."""

    lr: PositiveFloat = 2e-4
    betas: tuple[Beta, Beta] = (0.9, 0.999)
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


class TorchOptimizer(Optimizer):
    """One of torch's optimisers, with these options passed as its keyword arguments."""

    torch_class: ClassVar[type[torch.optim.Optimizer]]

    def build(self, params: Parameters) -> torch.optim.Optimizer:
        return self.torch_class(params, **self.options.model_dump(exclude_none=True))


class Adam(TorchOptimizer):
    """Adam (torch.optim.Adam): lr 2e-4 with default betas, as the vanilla GAN of the article."""

    name = "adam"
    Options = AdamOptions
    torch_class = torch.optim.Adam


class AdamW(TorchOptimizer):
    """AdamW (torch.optim.AdamW): Adam with decoupled weight decay."""

    name = "adamw"
    Options = AdamWOptions
    torch_class = torch.optim.AdamW


class RMSprop(TorchOptimizer):
    """RMSprop (torch.optim.RMSprop), as WGAN uses it."""

    name = "rmsprop"
    Options = RMSpropOptions
    torch_class = torch.optim.RMSprop


class SGD(TorchOptimizer):
    """Stochastic gradient descent (torch.optim.SGD), with optional momentum."""

    name = "sgd"
    Options = SGDOptions
    torch_class = torch.optim.SGD


BUNDLED: list[type[TorchOptimizer]] = [Adam, AdamW, RMSprop, SGD]

OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], type[BaseModel]]] = {
    cls.name: (cls.torch_class, cls.Options) for cls in BUNDLED
}
"""The bundled optimisers by name: torch class and options (for the docs test)."""
