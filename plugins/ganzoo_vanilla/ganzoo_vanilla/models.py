"""The MLP generator and discriminator of the source article."""

from __future__ import annotations

import math
from typing import Literal, Optional

import torch
from pydantic import Field, PositiveInt
from torch import nn

import ganzoo


class MLPGenerator(nn.Module):
    """z -> Linear, ReLU, Linear, ReLU, Linear, Tanh -> a sample shaped like the data."""

    def __init__(self, latent_dim: int, hidden_dim: int, out_shape: tuple[int, ...], output: str) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, math.prod(out_shape)),
            *([nn.Tanh()] if output == "tanh" else []),
        )

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(z).view(-1, *self.out_shape)


class MLPDiscriminator(nn.Module):
    """x -> flatten, Linear, LeakyReLU(0.2), Linear, LeakyReLU(0.2), Linear, Sigmoid -> D(x)."""

    def __init__(self, in_features: int, hidden_dim: int, slope: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden_dim),
            nn.LeakyReLU(slope),
            nn.Linear(hidden_dim, hidden_dim),
            nn.LeakyReLU(slope),
            nn.Linear(hidden_dim, 1),
            ganzoo.Float32Sigmoid(),
        )

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(x.flatten(1))


class VanillaMLP(ganzoo.Architecture):
    """The fully connected G and D of the source article (Goodfellow et al., 2014, on MNIST).

    G: Linear(latent_dim, 256), ReLU, Linear(256, 256), ReLU, Linear(256, 784), Tanh.
    D: Linear(784, 256), LeakyReLU(0.2), Linear(256, 256), LeakyReLU(0.2), Linear(256, 1),
    Sigmoid. The sizes follow the data, so the same model trains on the 2-D toy sets
    (there with ``output: linear``, since the toy modes lie outside [-1, 1]).
    """

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    stackable = True  # plain layers: no buffers, no random draws inside the networks

    name = "vanilla_mlp"

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(64, le=100_000, description="size of the noise vector z")
        hidden_dim: PositiveInt = Field(256, le=100_000, description="width of both hidden layers, in G and in D")
        noise: Literal["normal", "uniform"] = Field("normal", description="z ~ N(0, 1), or uniform in [-1, 1]")
        output: Literal["tanh", "linear"] = Field("tanh", description="G's last activation: tanh for images in [-1, 1]")
        leaky_slope: float = Field(0.2, ge=0, description="negative slope of D's LeakyReLU")

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts()  # any images or points: the layers are sized from the data

    def discriminator_output(self) -> str:
        return "probability"

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        o = self.options
        return MLPGenerator(o.latent_dim, o.hidden_dim, data.shape, o.output)

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        return MLPDiscriminator(math.prod(data.shape), self.options.hidden_dim, self.options.leaky_slope)

    def sample_latent(self, n, *, device, generator=None):
        shape = (n, self.options.latent_dim)
        if self.options.noise == "uniform":
            return torch.rand(shape, device=device, generator=generator).mul(2).sub(1)
        return torch.randn(shape, device=device, generator=generator)
