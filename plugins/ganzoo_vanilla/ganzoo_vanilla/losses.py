"""The binary cross-entropy objectives of the original GAN."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

import ganzoo


def bce(probabilities: torch.Tensor, target: float) -> torch.Tensor:
    """Mean binary cross-entropy against a constant target.

    Autocast refuses BCE on probabilities (it is unsafe in half precision), so under
    autocast it is computed in float32 with autocast switched off; outside autocast this is
    exactly ``F.binary_cross_entropy``, as in the source article."""
    device = probabilities.device.type
    if torch.is_autocast_enabled(device):
        with torch.autocast(device_type=device, enabled=False):
            probabilities = probabilities.float()
            return F.binary_cross_entropy(probabilities, torch.full_like(probabilities, target))
    return F.binary_cross_entropy(probabilities, torch.full_like(probabilities, target))


class BCELoss(ganzoo.Loss):
    """The original GAN objective with a discriminator that outputs probabilities.

    D: BCE(D(x), 1) + BCE(D(G(z)), 0). G, non-saturating (default): BCE(D(G(z')), 1) with a
    fresh z'. G, minimax (``non_saturating: false``): minimise log(1 - D(G(z'))), the form
    of the paper's value function, whose gradient vanishes while D easily rejects fakes.
    """

    name = "bce"

    class Options(ganzoo.Options):
        non_saturating: bool = Field(True, description="G maximises log D(G(z)) instead of minimising log(1 - D(G(z)))")

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_real = ctx.discriminator(ctx.real, ctx.labels)
        fake = ctx.generator(ctx.latent(), ctx.labels).detach()
        d_fake = ctx.discriminator(fake, ctx.labels)
        loss = bce(d_real, 1.0) + bce(d_fake, 0.0)
        return ganzoo.LossOutput(loss, {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()})

    def generator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)
        if self.options.non_saturating:
            loss = bce(d_fake, 1.0)
        else:
            # log(1 - D) written as -BCE(D, 0), so that it is clamped the same way.
            loss = -bce(d_fake, 0.0)
        return ganzoo.LossOutput(loss)
