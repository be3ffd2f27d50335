"""The conditional architectures. Both give ``labels=None`` a meaning (the classes in turn),
so that code calling ``G(z)`` without labels still gets every class."""

from __future__ import annotations

import math
from typing import Literal, Optional

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveInt
from torch import nn

import ganzoo
from ganzoo_classic.dcgan import Discriminator as DCGANDiscriminator
from ganzoo_classic.dcgan import Generator as DCGANGenerator
from ganzoo_classic.dcgan import dcgan_init


def labels_or_cycle(labels: Optional[torch.Tensor], n: int, classes: int, device: torch.device) -> torch.Tensor:
    """The given labels, or 0, 1, ..., K-1, 0, 1, ... when there are none."""
    return labels if labels is not None else torch.arange(n, device=device) % classes


def _classes(data: ganzoo.DataInfo) -> int:
    if not data.num_classes:
        raise ganzoo.GanzooError("a conditional architecture needs labelled data (a dataset with num_classes)")
    return data.num_classes


def _image_shape(data: ganzoo.DataInfo) -> tuple[int, int, int]:
    """``(C, H, W)``: the convolutional networks take images only."""
    if len(data.shape) != 3:
        raise ganzoo.GanzooError(f"acgan needs images, got samples of shape {data.shape}")
    return data.shape


class CGANGenerator(nn.Module):
    """[z, one-hot(y)] -> Linear, ReLU, Linear, ReLU, Linear, Tanh."""

    def __init__(self, latent_dim: int, hidden_dim: int, classes: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.classes, self.shape = classes, tuple(shape)
        self.net = nn.Sequential(
            nn.Linear(latent_dim + classes, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, math.prod(shape)),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        y = F.one_hot(labels_or_cycle(labels, len(z), self.classes, z.device), self.classes).to(z.dtype)
        return self.net(torch.cat([z, y], dim=1)).view(-1, *self.shape)


class CGANDiscriminator(nn.Module):
    """[flatten(x), one-hot(y)] -> Linear, LeakyReLU(0.2), Linear, LeakyReLU(0.2), Linear, Sigmoid."""

    def __init__(self, features: int, hidden_dim: int, classes: int) -> None:
        super().__init__()
        self.classes = classes
        self.net = nn.Sequential(
            nn.Linear(features + classes, hidden_dim),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, hidden_dim),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, 1),
            ganzoo.Float32Sigmoid(),
        )

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        y = F.one_hot(labels_or_cycle(labels, len(x), self.classes, x.device), self.classes).to(x.dtype)
        return self.net(torch.cat([x.flatten(1), y], dim=1))


class CGAN(ganzoo.Architecture):
    """Conditional GAN (Mirza & Osindero, 2014): the vanilla MLPs with a one-hot label joined to z and to x; pair with `bce`."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "cgan"
    conditional = True

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(64, le=100_000, description="size of the noise vector z")
        hidden_dim: PositiveInt = Field(256, le=100_000, description="width of the hidden layers of G and D")

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(labels=True, conditions=("labels",))  # any images or points, with labels

    def discriminator_output(self) -> str:
        return "probability"

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        return CGANGenerator(self.options.latent_dim, self.options.hidden_dim, _classes(data), data.shape)

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        return CGANDiscriminator(math.prod(data.shape), self.options.hidden_dim, _classes(data))

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)


class ACGANGenerator(nn.Module):
    """DCGAN's generator fed with z * embedding(y)."""

    def __init__(self, latent_dim: int, width: int, classes: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.classes = classes
        self.embed = nn.Embedding(classes, latent_dim)
        self.body = DCGANGenerator(latent_dim, width, shape)

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.body(z * self.embed(labels_or_cycle(labels, len(z), self.classes, z.device)))


class ACGANDiscriminator(nn.Module):
    """DCGAN's discriminator body with two heads: ``(real/fake logit, class logits)``; it
    ignores the labels it is given (it predicts them)."""

    def __init__(self, width: int, classes: int, shape: tuple[int, int, int], d_norm: str) -> None:
        super().__init__()
        self.body = DCGANDiscriminator(width, shape, d_norm, "logit").net[:-1]  # up to the flattened features
        features = self.body(torch.zeros(2, *shape)).shape[1]
        self.source = nn.Linear(features, 1)
        self.classes = nn.Linear(features, classes)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return self.source(features), self.classes(features)


class ACGAN(ganzoo.Architecture):
    """Auxiliary classifier GAN (Odena et al., 2017): a conditional DCGAN generator, and a D that also classifies; pair with `acgan`."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "acgan"
    conditional = True

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(100, le=100_000, description="size of the noise vector z")
        width: PositiveInt = Field(
            64, le=4096, description="channels of G's last and D's first hidden layer; doubled per level"
        )
        d_norm: Literal["batch", "none", "spectral"] = Field("batch", description="normalisation in D")

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(kinds=("images",), square=True, min_side=8, labels=True, conditions=("labels",))

    def discriminator_output(self) -> str:
        return "logit+classes"

    classes: int = 0
    """The class count, known once the networks are built (the ``acgan`` loss draws labels from it)."""

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        self.classes = _classes(data)
        network = ACGANGenerator(self.options.latent_dim, self.options.width, _classes(data), _image_shape(data))
        dcgan_init(network.body)
        return network

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        network = ACGANDiscriminator(self.options.width, _classes(data), _image_shape(data), self.options.d_norm)
        dcgan_init(network)
        return network

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)
