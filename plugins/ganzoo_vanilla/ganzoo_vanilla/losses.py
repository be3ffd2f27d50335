"""The binary cross-entropy objectives of the original GAN."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat

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


def r1_penalty(real: torch.Tensor, d_real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al., 2018): mean over samples of ||grad_x logit D(x)||² at the real
    samples, differentiable (for D's update). D returns probabilities here, so its logit is
    recovered as log p - log(1 - p), with p clamped to [1e-7, 1 - 1e-7]: a sample D is
    that sure about adds no penalty."""
    (grad,) = torch.autograd.grad(torch.logit(d_real.float(), eps=1e-7).sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


class BCELoss(ganzoo.Loss):
    """The original GAN objective with a discriminator that outputs probabilities.

    D: BCE(D(x), 1) + BCE(D(G(z)), 0). G, non-saturating (default): BCE(D(G(z')), 1) with a
    fresh z'. G, minimax (``non_saturating: false``): minimise log(1 - D(G(z'))), the form
    of the paper's value function, whose gradient vanishes while D easily rejects fakes.

    Two stabilisers, off by default: one-sided label smoothing (Salimans et al., 2016), D's
    real target 1 - ``label_smoothing`` while the fake target stays 0; and the R1 penalty,
    ``r1_gamma`` / 2 times the squared gradient norm of D's logit at real samples, added to
    D's loss and logged as ``r1``.
    """

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    stackable: bool | str = True  # no state; its one random draw per update is ctx.latent()
    reports_real_scores = True  # D's logit on the real batch (adaptive augmentation reads its sign)

    name = "bce"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean probability D gives real samples", probability=True),
        "d_fake": ganzoo.ScalarInfo("D(G(z))", "mean probability D gives generated samples", probability=True),
        "r1": ganzoo.ScalarInfo("R1", "the R1 penalty: mean squared gradient norm of D's logit at real samples"),
    }

    class Options(ganzoo.Options):
        non_saturating: bool = Field(True, description="G maximises log D(G(z)) instead of minimising log(1 - D(G(z)))")
        label_smoothing: float = Field(
            0.0, ge=0, lt=0.5, description="one-sided: D's target for real samples is 1 minus this"
        )
        r1_gamma: NonNegativeFloat = Field(
            0.0, description="weight gamma of the R1 penalty gamma/2 E||grad D(x)||² on real data"
        )

    options: Options

    def __init__(self, **options) -> None:
        super().__init__(**options)
        if self.options.r1_gamma > 0:  # torch.func.vmap does not batch a gradient taken inside it
            self.stackable = "its R1 penalty (r1_gamma > 0) takes a gradient inside the update"

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("probability",))

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        r1 = self.options.r1_gamma > 0
        real = ctx.real.detach().requires_grad_(True) if r1 else ctx.real
        d_real = ctx.discriminator(real, ctx.labels)
        fake = ctx.generator(ctx.latent(), ctx.labels).detach()
        d_fake = ctx.discriminator(fake, ctx.labels)
        loss = bce(d_real, 1.0 - self.options.label_smoothing) + bce(d_fake, 0.0)
        logs = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        if r1:
            penalty = r1_penalty(real, d_real)
            loss = loss + 0.5 * self.options.r1_gamma * penalty
            logs["r1"] = penalty.detach()
        return ganzoo.LossOutput(loss, logs, real_scores=torch.logit(d_real.detach().float(), eps=1e-7))

    def generator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)
        if self.options.non_saturating:
            loss = bce(d_fake, 1.0)
        else:
            # log(1 - D) written as -BCE(D, 0), so that it is clamped the same way.
            loss = -bce(d_fake, 0.0)
        return ganzoo.LossOutput(loss)
