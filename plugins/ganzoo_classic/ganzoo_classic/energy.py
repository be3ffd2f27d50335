"""Energy-based GANs, whose discriminator is an autoencoder: EBGAN (Zhao et al., 2017)
and BEGAN (Berthelot et al., 2017). D(x) is the reconstruction of x; the losses turn the
reconstruction error into an energy (low for real images)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, confloat
from torch import nn

import ganzoo
from ganzoo_classic.dcgan import Discriminator, Generator, dcgan_init


class AutoencoderD(nn.Module):
    """x -> DCGAN encoder (no batch norm) -> code -> DCGAN decoder -> reconstruction of x."""

    def __init__(self, width: int, code_dim: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        encoder = Discriminator(width, shape, "none", "logit").net
        encoder[-1] = nn.Linear(encoder[-1].in_features, code_dim)  # the code instead of a score
        self.encoder = encoder
        self.decoder = Generator(code_dim, width, shape)

    def forward(self, x, labels=None):
        return self.decoder(self.encoder(x))


def energy(discriminator: nn.Module, x: torch.Tensor, labels, p: int) -> torch.Tensor:
    """Per-sample reconstruction error: mean |D(x) - x|^p over the pixels."""
    return (discriminator(x, labels) - x).abs().pow(p).flatten(1).mean(1)


class Autoencoder(ganzoo.Architecture):
    """DCGAN's generator and an autoencoder discriminator (D(x) reconstructs x), for the `ebgan` and `began` losses."""
    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "autoencoder"

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(64, description="size of the noise vector z")
        width: PositiveInt = Field(64, description="channels of the first (last) hidden layer; doubled per level")
        code_dim: PositiveInt = Field(64, description="size of D's bottleneck code")

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        network = Generator(self.options.latent_dim, self.options.width, tuple(data.shape))
        dcgan_init(network)
        return network

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        if len(data.shape) != 3 or data.shape[1] != data.shape[2]:
            raise ganzoo.GanzooError(f"autoencoder needs square images, got samples of shape {data.shape}")
        network = AutoencoderD(self.options.width, self.options.code_dim, tuple(data.shape))
        dcgan_init(network)
        return network

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)


class EBGANLoss(ganzoo.Loss):
    """EBGAN (Zhao et al., 2017): energy = mean squared reconstruction error; D: E(x) + max(0, m - E(G(z))); G: E(G(z))."""
    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "ebgan"

    class Options(ganzoo.Options):
        margin: PositiveFloat = Field(1.0, description="m: D pushes the energy of fakes up to this margin")

    def discriminator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels).detach()
        e_real, e_fake = energy(ctx.discriminator, ctx.real, ctx.labels, 2), energy(ctx.discriminator, fake, ctx.labels, 2)
        loss = e_real.mean() + F.relu(self.options.margin - e_fake).mean()
        return ganzoo.LossOutput(loss, {"energy_real": e_real.detach().mean(), "energy_fake": e_fake.detach().mean()})

    def generator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels)
        return ganzoo.LossOutput(energy(ctx.discriminator, fake, ctx.labels, 2).mean())


class BEGANLoss(ganzoo.Loss):
    """BEGAN (Berthelot et al., 2017): L = mean |D(v) - v|; D: L(x) - k L(G(z)); G: L(G(z)); k follows gamma L(x) - L(G(z)).

    After every generator update, k <- clamp(k + lambda_k (gamma L(x) - L(G(z))), 0, 1). It
    logs ``k`` and ``convergence``, the paper's M = L(x) + |gamma L(x) - L(G(z))|. ``k`` is
    a buffer: saved in checkpoints and weights, restored on resume."""
    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "began"

    class Options(ganzoo.Options):
        gamma: confloat(gt=0, le=1) = Field(0.5, description="diversity ratio: the equilibrium E[L(G(z))] = gamma E[L(x)]")
        lambda_k: NonNegativeFloat = Field(0.001, description="learning rate of k")

    def __init__(self, **options):
        super().__init__(**options)
        self.register_buffer("k", torch.zeros(()))
        self.register_buffer("balance", torch.zeros(()))  # gamma L(x) - L(G(z)) of the last D update

    def discriminator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels).detach()
        l_real = energy(ctx.discriminator, ctx.real, ctx.labels, 1).mean()
        l_fake = energy(ctx.discriminator, fake, ctx.labels, 1).mean()
        balance = (self.options.gamma * l_real - l_fake).detach()
        self.balance.copy_(balance)
        convergence = l_real.detach() + balance.abs()
        return ganzoo.LossOutput(l_real - self.k * l_fake, {"k": self.k.clone(), "convergence": convergence})

    def generator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels)
        return ganzoo.LossOutput(energy(ctx.discriminator, fake, ctx.labels, 1).mean())

    def after_generator_step(self, ctx):
        self.k.copy_((self.k + self.options.lambda_k * self.balance).clamp(0, 1))
