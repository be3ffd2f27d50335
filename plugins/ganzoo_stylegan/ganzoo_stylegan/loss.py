"""StyleGAN2's objectives: the non-saturating logistic loss, with lazy R1 regularisation of
D and lazy path-length regularisation of G (Karras et al., 2020, sections 3.1 and 3.2).

Lazy regularisation computes each penalty on a minibatch of its own every few updates (R1
every 16 D updates, path length every 4 G updates), multiplied by the interval so that it
weighs what it would weigh in every update; the passes are ``ganzoo.ExtraPass`` es, which the
trainer runs as optimiser steps of their own, correcting Adam for them as the paper does.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveInt

import ganzoo


def r1_penalties(discriminator: torch.nn.Module, real: torch.Tensor, condition: Optional[torch.Tensor]) -> torch.Tensor:
    """R1 (Mescheder et al., 2018): ||grad_x D(x)||^2 per real sample, differentiable for
    D's update. The gradient is that of the batch's summed logits, as in the reference
    implementations (minibatch standard deviation couples the samples)."""
    real = real.detach().requires_grad_(True)
    logits = discriminator(real, condition)
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.square().flatten(1).sum(dim=1)


def path_lengths(images: torch.Tensor, styles: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """||J_w^T y|| per sample (section 3.2): the gradient of sum(images * noise) with respect
    to the styles, squared and summed over w's dimensions, averaged over the layers' ws,
    square-rooted. ``noise`` is y ~ N(0, 1) / sqrt(H W), which makes the length independent
    of the resolution."""
    (grad,) = torch.autograd.grad((images * noise).sum(), styles, create_graph=True)
    return grad.square().sum(dim=2).mean(dim=1).sqrt()


class StyleGAN2Loss(ganzoo.Loss):
    """StyleGAN2's loss (Karras et al., 2020): the non-saturating logistic loss, lazy R1 on D (gamma, every 16 D updates) and lazy path-length regularisation of G (every 4 G updates, decay 0.01).

    D: softplus(D(G(z))) + softplus(-D(x)); G: softplus(-D(G(z))). Every ``r1_every``-th D
    update is followed by an optimiser step of D on ``r1_gamma`` / 2 * E||grad D(x)||^2 *
    ``r1_every``; every ``pl_every``-th G update by one of G on ``pl_weight`` * E(||J^T y|| -
    a)^2 * ``pl_every``, on ``batch / pl_batch_shrink`` fresh latents, a the moving average
    of the lengths (decay ``pl_decay``). The optimisers of both networks are corrected for
    these steps (learning rate times c, Adam's betas to the power c, c = k / (k + 1)). The
    path-length penalty needs a style-based generator (``stylegan2``); with
    ``pl_weight: 0`` the loss trains any architecture whose D outputs a logit."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    reports_real_scores = True  # D's logit on the real batch: ADA's r_t reads its sign
    stackable = "a population's batched step runs no lazy R1 or path-length passes (extra passes on some updates)"

    name = "stylegan2"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean logit D gives real samples"),
        "d_fake": ganzoo.ScalarInfo("D(G(z))", "mean logit D gives generated samples"),
        "r1": ganzoo.ScalarInfo("R1", "the R1 penalty: mean squared gradient norm of D's logit at real samples"),
        "path_length": ganzoo.ScalarInfo(
            "path length", "mean ||J_w^T y||: how far the image moves per unit step in w (lazy passes only)"
        ),
    }

    class Options(ganzoo.Options):
        r1_gamma: NonNegativeFloat = Field(10.0, description="weight gamma of the R1 penalty gamma/2 E||grad D(x)||²")
        r1_every: PositiveInt = Field(16, le=10_000, description="the R1 pass follows every this many D updates")
        pl_weight: NonNegativeFloat = Field(2.0, description="weight of the path-length penalty (0: none)")
        pl_every: PositiveInt = Field(
            4, le=10_000, description="the path-length pass follows every this many G updates"
        )
        pl_decay: float = Field(0.01, gt=0, le=1, description="decay of the moving average of path lengths")
        pl_batch_shrink: PositiveInt = Field(
            2, le=64, description="the path-length pass draws batch / pl_batch_shrink latents"
        )

    options: Options
    pl_mean: torch.Tensor
    """The moving average of path lengths, a: a buffer, saved with the loss."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.register_buffer("pl_mean", torch.zeros(()))

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("logit",))

    def extra_passes(self) -> tuple[ganzoo.ExtraPass, ...]:
        passes = []
        if self.options.r1_gamma > 0:
            passes.append(ganzoo.ExtraPass("r1", "discriminator", self.options.r1_every, adjust_optimizer=True))
        if self.options.pl_weight > 0:
            passes.append(ganzoo.ExtraPass("path_length", "generator", self.options.pl_every, adjust_optimizer=True))
        return tuple(passes)

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        with torch.no_grad():  # D's update needs no graph of G
            fake = ctx.generator(ctx.latent(), ctx.labels)
        d_fake = ctx.discriminator(fake, ctx.labels)
        d_real = ctx.discriminator(ctx.real, ctx.labels)
        loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        logs = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        return ganzoo.LossOutput(loss, logs, real_scores=d_real.detach())

    def generator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)
        return ganzoo.LossOutput(F.softplus(-d_fake).mean())

    def extra_loss(self, name: str, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        if name == "r1":
            penalty = r1_penalties(ctx.discriminator, ctx.real, ctx.labels).mean()
            loss = penalty * (self.options.r1_gamma / 2) * self.options.r1_every
            return ganzoo.LossOutput(loss, {"r1": penalty.detach()})
        if name == "path_length":
            return self._path_length(ctx)
        raise ValueError(f"stylegan2 has no extra pass {name!r}")

    def _path_length(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        if not getattr(ctx.architecture, "style_based", False):
            raise ganzoo.GanzooError(
                f"loss stylegan2's path-length penalty needs a style-based generator (model stylegan2), not "
                f"{ctx.architecture.name!r}; set loss.pl_weight: 0 to train it without"
            )
        n = max(1, ctx.batch_size // self.options.pl_batch_shrink)
        condition = ctx.labels[:n] if ctx.labels is not None else None
        images, styles = ctx.generator(ctx.latent(n), condition, return_styles=True)
        noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        lengths = path_lengths(images, styles, noise)
        self.pl_mean.copy_(self.pl_mean.lerp(lengths.detach().mean(), self.options.pl_decay))
        penalty = (lengths - self.pl_mean).square().mean()
        loss = penalty * self.options.pl_weight * self.options.pl_every
        return ganzoo.LossOutput(loss, {"path_length": lengths.detach().mean()})
