"""How the step applies a recipe's augmentation: D behind a module that augments its input.

Every loss calls D through :class:`StepContext`, so wrapping the D the loss is handed (the
plain, compiled or data-parallel one) augments every image D sees, real and generated, in
both updates, whatever the loss does with it: a gradient penalty differentiates through the
augmentation, as StyleGAN2-ADA's R1 does. Only the condition changes in kind: an image
condition (paired data) is transformed with its image, class labels pass unchanged.

An adaptive augmentation (ADA) then hears D's verdict on the real images of every
discriminator update (:func:`observe`), averaged over the ranks of a data-parallel run, so
that every rank keeps the same ``p``.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from ganzoo.api import Augment, GanzooError, LossOutput
from ganzoo.train.distributed import World


class AugmentedDiscriminator(torch.nn.Module):
    """``discriminator`` called on ``augment``-ed input: ``D(augment(x), condition)``."""

    def __init__(self, discriminator: torch.nn.Module, augment: Augment) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.augment = augment

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None, **more: Any) -> Any:
        """Further keywords (``code`` of an autoencoder D) pass through to D."""
        if labels is not None and labels.dim() == x.dim():  # an image condition: the same transform
            x, labels = self.augment(x, labels)
        else:
            x, _ = self.augment(x, None)
        return self.discriminator(x, labels, **more)


def observe(augment: Augment, out: LossOutput, batch_size: int, world: World, step: int) -> dict[str, torch.Tensor]:
    """After a discriminator update: an adaptive augmentation hears D's verdict on the
    update's real images (``out.real_scores``); the augmentation's logged tensors come back."""
    if augment.adaptive:
        if out.real_scores is None:
            raise GanzooError(
                f"the augmentation {augment.name!r} adapts to D's verdict on the real images, and the loss "
                "returned no LossOutput.real_scores; declare reports_real_scores only on a loss that fills it"
            )
        sign = out.real_scores.detach().float().sign().mean()
        augment.observe(world.mean(sign, f"averaging D's verdict on the real images at step {step}"), batch_size)
    return augment.logs()
