"""The DCGAN architecture (Radford, Metz and Chintala, 2016), sized from the data.

The paper's rules: no pooling (strided convolutions in D, transposed convolutions in G),
batch norm in both networks except G's output and D's input, ReLU in G with a Tanh output,
LeakyReLU(0.2) in D, weights drawn from N(0, 0.02). For 28x28 MNIST, G projects z to
128x7x7 and doubles twice; for 64x64 images it starts at 4x4 and doubles four times.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

import torch
from pydantic import Field, PositiveInt
from torch import nn

import ganzoo


def upsamplings(side: int) -> tuple[int, int]:
    """``(doublings, base side)``: halve ``side`` while it is even and above 7."""
    count = 0
    while side % 2 == 0 and side > 7:
        side //= 2
        count += 1
    return count, side


class Generator(nn.Module):
    def __init__(self, latent_dim: int, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, side, _ = shape
        count, base = upsamplings(side)
        widths = [width * 2 ** (count - 1 - i) for i in range(count)] + [channels]
        self.shape = (widths[0], base, base)
        self.project = nn.Sequential(
            nn.Linear(latent_dim, math.prod(self.shape), bias=False), nn.BatchNorm1d(math.prod(self.shape)), nn.ReLU()
        )
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            last = i == count - 1
            layers += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1, bias=last)]
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(b), nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(self.project(z).view(-1, *self.shape))


class Discriminator(nn.Module):
    def __init__(self, width: int, shape: tuple[int, int, int], norm: str, output: str) -> None:
        super().__init__()
        channels, side, _ = shape
        count, base = upsamplings(side)
        widths = [channels] + [width * 2**i for i in range(count)]
        wrap = nn.utils.parametrizations.spectral_norm if norm == "spectral" else (lambda layer: layer)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers.append(wrap(nn.Conv2d(a, b, 4, stride=2, padding=1, bias=norm != "batch" or i == 0)))
            if norm == "batch" and i > 0:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Flatten(), wrap(nn.Linear(widths[-1] * base * base, 1))]
        if output == "probability":
            layers.append(ganzoo.Float32Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(x)


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: N(0, 0.02) weights; batch norm scales N(1, 0.02)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = getattr(layer, "parametrizations", None)
            target = weight.weight.original if weight is not None else layer.weight
            nn.init.normal_(target, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class DCGAN(ganzoo.Architecture):
    """The convolutional G and D of DCGAN (Radford et al., 2016), with batch norm; square images.

    ``d_norm: none`` is WGAN-GP's critic (a gradient penalty is per sample, which batch norm
    breaks); ``d_norm: spectral`` is SNGAN's (spectral norm on every layer of D, no batch
    norm). ``output: probability`` ends D with a sigmoid, for the ``bce`` loss; the other
    losses take D's raw score."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "dcgan"

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(100, le=100_000, description="size of the noise vector z (the paper's 100)")
        width: PositiveInt = Field(
            64, le=4096, description="channels of G's last and D's first hidden layer; doubled per level"
        )
        d_norm: Literal["batch", "none", "spectral"] = Field("batch", description="normalisation in D")
        output: Literal["logit", "probability"] = Field(
            "logit", description="D's output: a raw score, or a sigmoid probability (for bce)"
        )

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(kinds=("images",), square=True, min_side=8)

    def discriminator_output(self) -> str:
        return self.options.output

    def _shape(self, data: ganzoo.DataInfo) -> tuple[int, int, int]:
        if len(data.shape) != 3 or data.shape[1] != data.shape[2] or data.shape[1] < 8:
            raise ganzoo.GanzooError(f"dcgan needs square images of at least 8x8, got samples of shape {data.shape}")
        return data.shape

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        network = Generator(self.options.latent_dim, self.options.width, self._shape(data))
        dcgan_init(network)
        return network

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        network = Discriminator(self.options.width, self._shape(data), self.options.d_norm, self.options.output)
        dcgan_init(network)
        return network

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)
