"""The objectives of the classic unconditional variants. Each takes D's raw score (pair it
with ``dcgan``'s default ``output: logit``) and logs the mean scores ``d_real`` and
``d_fake``; the Wasserstein losses also log ``wasserstein``, the critic's estimate of the
distance, and the penalised ones their ``penalty``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveFloat

import ganzoo


def _scores(ctx: ganzoo.StepContext) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(D(x), D(G(z)), G(z))`` for a discriminator step (G's output detached)."""
    fake = ctx.generator(ctx.latent(), ctx.labels).detach()
    return ctx.discriminator(ctx.real, ctx.labels), ctx.discriminator(fake, ctx.labels), fake


def _fake_score(ctx: ganzoo.StepContext) -> torch.Tensor:
    """D(G(z')) with a fresh z', for a generator step."""
    return ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)


def _logs(d_real: torch.Tensor, d_fake: torch.Tensor, **more: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "d_real": d_real.detach().mean(),
        "d_fake": d_fake.detach().mean(),
        **{k: v.detach() for k, v in more.items()},
    }


def gradient_penalty(ctx: ganzoo.StepContext, points: torch.Tensor) -> torch.Tensor:
    """mean over samples of (||grad_x D(x)|| at ``points`` - 1)^2, differentiable (for D's update)."""
    points = points.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(ctx.discriminator(points, ctx.labels).sum(), points, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def per_sample(batch: torch.Tensor) -> torch.Tensor:
    """One U[0, 1) coefficient per sample, shaped to broadcast over the sample's dimensions."""
    return torch.rand(batch.shape[0], *[1] * (batch.dim() - 1), device=batch.device)


class ScoreLoss(ganzoo.Loss):
    """Base of the losses on D's raw score: a sigmoid D (``output: probability``) is refused."""

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("logit",))


class CriticLoss(ScoreLoss):
    """Base of the losses whose G minimises -D(G(z')) (WGAN, WGAN-GP, hinge)."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    def generator_loss(self, ctx):
        return ganzoo.LossOutput(-_fake_score(ctx).mean())


class LSGANLoss(ScoreLoss):
    """Least squares GAN (Mao et al., 2017) with a-b-c = 0-1-1: D: ½(D(x)-1)² + ½D(G(z))²; G: ½(D(G(z))-1)²."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    reports_real_scores = True  # halfway between the targets: D's decision boundary

    name = "lsgan"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean least-squares score D gives real samples (target 1)"),
        "d_fake": ganzoo.ScalarInfo("D(G(z))", "mean least-squares score D gives generated samples (target 0)"),
    }

    def discriminator_loss(self, ctx):
        d_real, d_fake, _ = _scores(ctx)
        loss = 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake**2).mean()
        return ganzoo.LossOutput(loss, _logs(d_real, d_fake), real_scores=d_real.detach() - 0.5)  # targets 0 and 1

    def generator_loss(self, ctx):
        return ganzoo.LossOutput(0.5 * ((_fake_score(ctx) - 1) ** 2).mean())


class WGANLoss(CriticLoss):
    """Wasserstein GAN (Arjovsky et al., 2017): critic D(G(z)) - D(x), weights clipped to ±clip after every critic update; G: -D(G(z))."""

    name = "wgan"
    scalars = {
        "d_real": ganzoo.ScalarInfo("critic(x)", "mean critic score of real samples (unbounded)"),
        "d_fake": ganzoo.ScalarInfo("critic(G(z))", "mean critic score of generated samples (unbounded)"),
        "wasserstein": ganzoo.ScalarInfo(
            "W estimate", "critic(x) - critic(G(z)): the critic's estimate of the Wasserstein distance"
        ),
    }

    class Options(ganzoo.Options):
        clip: PositiveFloat = Field(
            0.01, description="the critic's weights are clipped to [-clip, clip] (the paper's c)"
        )

    options: Options

    def discriminator_loss(self, ctx):
        d_real, d_fake, _ = _scores(ctx)
        distance = d_real.mean() - d_fake.mean()
        return ganzoo.LossOutput(-distance, _logs(d_real, d_fake, wasserstein=distance))

    def after_discriminator_step(self, ctx):
        with torch.no_grad():
            for parameter in ctx.discriminator.parameters():
                parameter.clamp_(-self.options.clip, self.options.clip)


class WGANGPLoss(CriticLoss):
    """WGAN-GP (Gulrajani et al., 2017): critic D(G(z)) - D(x) + λ(||∇D(x̂)|| - 1)², x̂ = εx + (1-ε)G(z), one ε per sample."""

    name = "wgan_gp"
    scalars = {
        "d_real": ganzoo.ScalarInfo("critic(x)", "mean critic score of real samples (unbounded)"),
        "d_fake": ganzoo.ScalarInfo("critic(G(z))", "mean critic score of generated samples (unbounded)"),
        "wasserstein": ganzoo.ScalarInfo(
            "W estimate", "critic(x) - critic(G(z)): the critic's estimate of the Wasserstein distance"
        ),
        "penalty": ganzoo.ScalarInfo(
            "gradient penalty", "mean (||grad critic|| - 1)^2 at points between real and generated samples"
        ),
    }

    class Options(ganzoo.Options):
        weight: NonNegativeFloat = Field(10.0, description="the penalty's λ (the paper's 10)")

    options: Options

    def discriminator_loss(self, ctx):
        d_real, d_fake, fake = _scores(ctx)
        epsilon = per_sample(ctx.real)
        penalty = gradient_penalty(ctx, epsilon * ctx.real + (1 - epsilon) * fake)
        distance = d_real.mean() - d_fake.mean()
        return ganzoo.LossOutput(
            -distance + self.options.weight * penalty, _logs(d_real, d_fake, wasserstein=distance, penalty=penalty)
        )


class DRAGANLoss(ScoreLoss):
    """DRAGAN (Kodali et al., 2017): the GAN loss on logits plus λ(||∇D(x̂)|| - 1)² around the data, x̂ = x + α·δ, δ ~ c·std(x)·U[0,1), one α per sample."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    reports_real_scores = True  # D's logit

    name = "dragan"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean probability D gives real samples", probability=True),
        "d_fake": ganzoo.ScalarInfo("D(G(z))", "mean probability D gives generated samples", probability=True),
        "penalty": ganzoo.ScalarInfo(
            "gradient penalty", "DRAGAN's penalty on D's gradient norm around the real samples"
        ),
    }

    class Options(ganzoo.Options):
        weight: NonNegativeFloat = Field(10.0, description="the penalty's λ")
        spread: PositiveFloat = Field(0.5, description="c: perturbations reach c times the batch's standard deviation")

    options: Options

    def discriminator_loss(self, ctx):
        d_real, d_fake, _ = _scores(ctx)
        loss = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy_with_logits(
            d_fake, torch.zeros_like(d_fake)
        )
        perturbation = self.options.spread * ctx.real.std() * torch.rand_like(ctx.real)
        penalty = gradient_penalty(ctx, ctx.real + per_sample(ctx.real) * perturbation)
        return ganzoo.LossOutput(
            loss + self.options.weight * penalty,
            _logs(torch.sigmoid(d_real), torch.sigmoid(d_fake), penalty=penalty),
            real_scores=d_real.detach(),
        )

    def generator_loss(self, ctx):
        d_fake = _fake_score(ctx)
        return ganzoo.LossOutput(F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake)))


class HingeLoss(CriticLoss):
    """Hinge loss (Lim & Ye, 2017; SNGAN, Miyato et al., 2018): D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z))."""

    name = "hinge"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean raw score D gives real samples (the hinge pushes it above 1)"),
        "d_fake": ganzoo.ScalarInfo(
            "D(G(z))", "mean raw score D gives generated samples (the hinge pushes it below -1)"
        ),
    }

    reports_real_scores = True  # the hinge's raw score: positive for real

    def discriminator_loss(self, ctx):
        d_real, d_fake, _ = _scores(ctx)
        loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        return ganzoo.LossOutput(loss, _logs(d_real, d_fake), real_scores=d_real.detach())
