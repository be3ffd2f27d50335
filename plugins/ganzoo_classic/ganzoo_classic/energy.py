"""Energy-based GANs, whose discriminator is an autoencoder: EBGAN (Zhao et al., 2017)
and BEGAN (Berthelot et al., 2017). D(x) is the reconstruction of x; the losses turn the
reconstruction error into an energy (low for real images)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt
from torch import nn

import ganzoo
from ganzoo_classic.dcgan import Discriminator, Generator, dcgan_init, upsamplings


class AutoencoderD(nn.Module):
    """x -> DCGAN encoder (no batch norm) -> code -> DCGAN decoder -> reconstruction of x."""

    def __init__(self, width: int, code_dim: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        encoder = Discriminator(width, shape, "none", "logit").net
        encoder[-1] = nn.Linear(encoder[-1].in_features, code_dim)  # the code instead of a score
        self.encoder = encoder
        self.decoder = Generator(code_dim, width, shape)

    def forward(self, x, labels=None, code: bool = False):
        """The reconstruction of ``x``; with ``code``, ``(reconstruction, code)`` (EBGAN's
        pull-away term works on the codes)."""
        h = self.encoder(x)
        return (self.decoder(h), h) if code else self.decoder(h)


def energy(discriminator: nn.Module, x: torch.Tensor, labels, p: int) -> torch.Tensor:
    """Per-sample reconstruction error: mean |D(x) - x|^p over the pixels."""
    return (discriminator(x, labels) - x).abs().pow(p).flatten(1).mean(1)


class Autoencoder(ganzoo.Architecture):
    """DCGAN's generator and an autoencoder discriminator (D(x) reconstructs x), for the `ebgan` and `began` losses."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "autoencoder"

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(64, le=100_000, description="size of the noise vector z")
        width: PositiveInt = Field(
            64, le=4096, description="channels of the first (last) hidden layer; doubled per level"
        )
        code_dim: PositiveInt = Field(64, le=100_000, description="size of D's bottleneck code")

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(kinds=("images",), square=True, min_side=8)  # DCGAN's G and D as encoder

    def discriminator_output(self) -> str:
        return "reconstruction"

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        network = Generator(self.options.latent_dim, self.options.width, tuple(data.shape))
        dcgan_init(network)
        return network

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        if len(data.shape) != 3 or data.shape[1] != data.shape[2]:
            raise ganzoo.GanzooError(f"autoencoder needs square images, got samples of shape {data.shape}")
        network = AutoencoderD(self.options.width, self.options.code_dim, data.shape)
        dcgan_init(network)
        return network

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)


def pull_away(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's pulling-away term: the mean over ordered pairs i != j of the squared cosine
    similarity of the codes, 1/(N(N-1)) sum (S_i.S_j / |S_i||S_j|)^2; 0 for orthogonal codes,
    1 when all point the same way."""
    unit = F.normalize(codes.flatten(1), dim=1)
    n = len(unit)
    similarity = (unit @ unit.T) ** 2
    return (similarity.sum() - similarity.diagonal().sum()) / (n * (n - 1))


def _elu_convs(channels: int) -> list[nn.Module]:
    """Two 3x3 convolutions with ELUs: the unit both BEGAN networks repeat at every scale."""
    return [
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.ELU(),
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.ELU(),
    ]


class ELUDecoder(nn.Module):
    """BEGAN's decoder, also its generator: Linear(h, n·s·s), then per scale two 3x3 convs
    with ELU and a nearest-neighbour doubling, then two more and a 3x3 conv to the image.
    No batch norm, no output activation (as the paper)."""

    def __init__(self, latent_dim: int, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, side, _ = shape
        count, self.base = upsamplings(side)
        self.width = width
        self.project = nn.Linear(latent_dim, width * self.base * self.base)
        layers: list[nn.Module] = []
        for _ in range(count):
            layers += [*_elu_convs(width), nn.Upsample(scale_factor=2, mode="nearest")]
        self.net = nn.Sequential(*layers, *_elu_convs(width), nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.project(z).view(-1, self.width, self.base, self.base))


class ELUAutoencoderD(nn.Module):
    """BEGAN's discriminator: an encoder (a 3x3 conv, then per scale two 3x3 convs with ELU
    and a stride-2 conv adding ``width`` channels, then Linear to the code) and an ELUDecoder."""

    def __init__(self, width: int, code_dim: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, side, _ = shape
        count, base = upsamplings(side)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ELU()]
        for level in range(1, count + 1):
            layers += [
                *_elu_convs(width * level),
                nn.Conv2d(width * level, width * (level + 1), 3, stride=2, padding=1),
                nn.ELU(),
            ]
        last = width * (count + 1)
        self.encoder = nn.Sequential(*layers, *_elu_convs(last), nn.Flatten(), nn.Linear(last * base * base, code_dim))
        self.decoder = ELUDecoder(code_dim, width, shape)

    def forward(self, x, labels=None, code: bool = False):
        h = self.encoder(x)
        return (self.decoder(h), h) if code else self.decoder(h)


class ELUAutoencoder(ganzoo.Architecture):
    """BEGAN's networks (Berthelot et al., 2017): an ELU autoencoder D without batch norm, and a G shaped like its decoder; square images."""

    name = "elu_autoencoder"
    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(64, le=100_000, description="size of the noise vector z (the paper's h = 64)")
        width: PositiveInt = Field(
            32, le=4096, description="n: channels of every conv of the decoders; the encoder adds n per scale"
        )
        code_dim: PositiveInt = Field(64, le=100_000, description="size of D's bottleneck code (the paper's h = 64)")

    options: Options

    def _shape(self, data: ganzoo.DataInfo) -> tuple[int, int, int]:
        if len(data.shape) != 3 or data.shape[1] != data.shape[2]:
            raise ganzoo.GanzooError(f"elu_autoencoder needs square images, got samples of shape {data.shape}")
        return data.shape

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        return ELUDecoder(self.options.latent_dim, self.options.width, self._shape(data))

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        return ELUAutoencoderD(self.options.width, self.options.code_dim, self._shape(data))

    def sample_latent(self, n, *, device, generator=None):
        return torch.rand((n, self.options.latent_dim), device=device, generator=generator) * 2 - 1  # U(-1, 1)

    def discriminator_output(self):
        return "reconstruction"


class EBGANLoss(ganzoo.Loss):
    """EBGAN (Zhao et al., 2017): energy = mean squared reconstruction error; D: E(x) + max(0, m - E(G(z))); G: E(G(z)) + pt_weight PT.

    PT is the paper's pulling-away term on D's codes of the generated batch (EBGAN-PT, whose
    experiments weigh it 0.1); it needs D to give its code (the ``autoencoder`` architecture
    does), and is off at ``pt_weight: 0``."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "ebgan"
    scalars = {
        "energy_real": ganzoo.ScalarInfo("E(x)", "mean reconstruction error of D's autoencoder on real samples"),
        "energy_fake": ganzoo.ScalarInfo(
            "E(G(z))", "mean reconstruction error of D's autoencoder on generated samples"
        ),
    }

    class Options(ganzoo.Options):
        margin: PositiveFloat = Field(1.0, description="m: D pushes the energy of fakes up to this margin")
        pt_weight: NonNegativeFloat = Field(
            0.0, description="weight of the pulling-away term in G's loss (EBGAN-PT: 0.1)"
        )

    options: Options

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("reconstruction",))

    def discriminator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels).detach()
        e_real, e_fake = (
            energy(ctx.discriminator, ctx.real, ctx.labels, 2),
            energy(ctx.discriminator, fake, ctx.labels, 2),
        )
        loss = e_real.mean() + F.relu(self.options.margin - e_fake).mean()
        return ganzoo.LossOutput(loss, {"energy_real": e_real.detach().mean(), "energy_fake": e_fake.detach().mean()})

    def generator_loss(self, ctx):
        fake = ctx.generator(ctx.latent(), ctx.labels)
        if not self.options.pt_weight:
            return ganzoo.LossOutput(energy(ctx.discriminator, fake, ctx.labels, 2).mean())
        reconstruction, codes = ctx.discriminator(fake, ctx.labels, code=True)
        e_fake = (reconstruction - fake).pow(2).flatten(1).mean(1).mean()
        pt = pull_away(codes)
        return ganzoo.LossOutput(e_fake + self.options.pt_weight * pt, {"pull_away": pt.detach()})


class BEGANLoss(ganzoo.Loss):
    """BEGAN (Berthelot et al., 2017): L = mean |D(v) - v|; D: L(x) - k L(G(z)); G: L(G(z)); k follows gamma L(x) - L(G(z)).

    After every generator update, k <- clamp(k + lambda_k (gamma L(x) - L(G(z))), 0, 1). It
    logs ``k`` and ``convergence``, the paper's M = L(x) + |gamma L(x) - L(G(z))|. ``k`` is
    a buffer: saved in checkpoints and weights, restored on resume."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "began"
    scalars = {
        "k": ganzoo.ScalarInfo("k", "the weight of L(G(z)) in D's loss, steered towards the equilibrium"),
        "convergence": ganzoo.ScalarInfo("convergence M", "L(x) + |gamma L(x) - L(G(z))|: falls as training converges"),
    }

    class Options(ganzoo.Options):
        gamma: float = Field(0.5, gt=0, le=1, description="diversity ratio: the equilibrium E[L(G(z))] = gamma E[L(x)]")
        lambda_k: NonNegativeFloat = Field(0.001, description="learning rate of k")

    options: Options

    def __init__(self, **options):
        super().__init__(**options)
        self.register_buffer("k", torch.zeros(()))
        self.register_buffer("balance", torch.zeros(()))  # gamma L(x) - L(G(z)) of the last D update

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("reconstruction",))

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
