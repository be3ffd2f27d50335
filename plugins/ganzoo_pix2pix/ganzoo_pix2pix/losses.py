"""The ``pix2pix`` loss: the conditional GAN objective plus lambda * L1 to the target.

D judges (condition, image) pairs, patch by patch; G fools it and stays close to the
target in L1, which carries the low frequencies while the GAN term sharpens the high ones
(the paper's eq. 4). ``gan_weight: 0`` turns it into the paper's L1-only ablation.
"""

from __future__ import annotations

from typing import Literal, Optional

import torch
from pydantic import Field
from torch.nn import functional as F

import ganzoo


class Pix2PixLoss(ganzoo.Loss):
    """cGAN + lambda * L1 (Isola et al., 2017); the GAN part as BCE on logits or least squares."""

    name = "pix2pix"
    capturable = True  # device work only (docs/speed.md); G's output passes from the D to the G update in one step
    reports_real_scores = True  # each patch's logit (bce) or least-squares score less 0.5 (lsgan)

    scalars = {
        "d_real": ganzoo.ScalarInfo(
            "D(x, y)",
            "D's mean patch score of real (condition, target) pairs: a probability "
            "under gan: bce, a least-squares score under lsgan (target 1)",
        ),
        "d_fake": ganzoo.ScalarInfo(
            "D(x, G(x))",
            "D's mean patch score of (condition, output) pairs: a probability "
            "under gan: bce, a least-squares score under lsgan (target 0)",
        ),
        "l1": ganzoo.ScalarInfo("L1", "mean absolute difference between G's output and the target, in the model range"),
        "g_gan": ganzoo.ScalarInfo("G's GAN term", "the GAN part of G's loss, before gan_weight"),
    }

    class Options(ganzoo.Options):
        l1_weight: float = Field(100.0, ge=0, description="lambda, the weight of the L1 distance to the target")
        gan: Literal["bce", "lsgan"] = Field("bce", description="the GAN part: bce on D's logits, or least squares")
        gan_weight: float = Field(1.0, ge=0, description="weight of G's GAN term; 0: the L1-only ablation")

    options: Options

    def _gan(self, scores: torch.Tensor, real: bool) -> torch.Tensor:
        target = torch.ones_like(scores) if real else torch.zeros_like(scores)
        if self.options.gan == "bce":
            return F.binary_cross_entropy_with_logits(scores, target)
        return F.mse_loss(scores, target)

    def _score(self, scores: torch.Tensor) -> torch.Tensor:
        """D's mean opinion, as a probability for bce (comparable with the other losses)."""
        return (torch.sigmoid(scores) if self.options.gan == "bce" else scores).detach().mean()

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self._last: Optional[tuple[ganzoo.StepContext, torch.Tensor]] = None
        """The discriminator update's context and G's output for it: as in the paper's own
        code, the generator update that follows on the same batch reuses that output (and
        its graph) instead of running G again."""

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        fake = ctx.generator(ctx.latent(), ctx.condition)
        self._last = (ctx, fake)
        fake = fake.detach()
        d_real = ctx.discriminator(ctx.real, ctx.condition)
        d_fake = ctx.discriminator(fake, ctx.condition)
        # Halved, as in the paper, to slow D relative to G.
        loss = 0.5 * (self._gan(d_real, True) + self._gan(d_fake, False))
        verdict = d_real.detach() if self.options.gan == "bce" else d_real.detach() - 0.5
        return ganzoo.LossOutput(
            loss, {"d_real": self._score(d_real), "d_fake": self._score(d_fake)}, real_scores=verdict
        )

    def generator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        last, self._last = self._last, None
        fake = last[1] if last is not None and last[0] is ctx else ctx.generator(ctx.latent(), ctx.condition)
        l1 = F.l1_loss(fake, ctx.real)
        loss = self.options.l1_weight * l1
        logs = {"l1": l1.detach()}
        if self.options.gan_weight:
            gan = self._gan(ctx.discriminator(fake, ctx.condition), True)
            loss = loss + self.options.gan_weight * gan
            logs["g_gan"] = gan.detach()
        return ganzoo.LossOutput(loss, logs)
