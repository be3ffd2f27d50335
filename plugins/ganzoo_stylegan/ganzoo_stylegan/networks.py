"""StyleGAN2's networks (Karras et al., 2020, config F): the style-based generator with skip
connections to its output, and the residual discriminator.

The generator maps a latent z through an MLP (the mapping network) to an intermediate
latent w, which styles every convolution of the synthesis network; the synthesis network
starts from a learned 4x4 constant and doubles its side until the resolution, adding its
RGB output at each resolution to the upsampled one before (the skip architecture). A w is
given per layer (``num_ws`` of them), which is what style mixing and truncation act on.

Sides that are not a power of two (MNIST's 28) are handled at the edges: the networks work at
the next power of two (at least 32), G's output is cropped to the data's side and D's input
padded with the model range's black (-1), so that samples, metrics and grids keep the data's
shape.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo_stylegan.layers import EqualConv2d, EqualLinear, MinibatchStd, ModulatedConv2d, NoiseInput, Resample, lrelu


def working_resolution(side: int) -> int:
    """The power of two the networks work at: the data's side rounded up, at least 32."""
    return max(32, 1 << (side - 1).bit_length())


def channels_at(resolution: int, base: int, maximum: int) -> int:
    """Feature maps at a resolution: ``base / resolution``, at most ``maximum`` (config F:
    base 32768, maximum 512, so 512 up to 64x64 and halving above)."""
    return max(1, min(base // resolution, maximum))


def edges(side: int, resolution: int) -> tuple[int, int]:
    """``(before, after)``: the padding that takes ``side`` to ``resolution``."""
    before = (resolution - side) // 2
    return before, resolution - side - before


class MappingNetwork(nn.Module):
    """z -> w: the latent normalised to unit second moment, then ``layers`` fully connected
    layers with leaky ReLU. It keeps ``w_avg``, the moving average of the w it produces in
    training, which truncation pulls towards."""

    w_avg: torch.Tensor

    def __init__(self, latent_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        sizes = [latent_dim] + [w_dim] * layers
        self.layers = nn.Sequential(*(EqualLinear(a, b, activation=True) for a, b in zip(sizes, sizes[1:])))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        return self.layers(z)


class SynthesisLayer(nn.Module):
    """A modulated 3x3 convolution, per-pixel noise, a bias and leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, side: int, up: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise = NoiseInput(side)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = self.noise(self.conv(x, w))
        return lrelu(x + self.bias.view(1, -1, 1, 1))


class ToRGB(nn.Module):
    """A modulated 1x1 convolution to the image's channels, without demodulation."""

    def __init__(self, in_channels: int, image_channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, image_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(image_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias.view(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution of the synthesis network: two layers (the 4x4 block: the constant and
    one layer), then its RGB output added to the upsampled image so far."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, side: int, image_channels: int) -> None:
        super().__init__()
        self.first = side == 4
        if self.first:
            self.constant = nn.Parameter(torch.randn(out_channels, 4, 4))
            self.layers = nn.ModuleList([SynthesisLayer(out_channels, out_channels, w_dim, side)])
        else:
            self.layers = nn.ModuleList(
                [
                    SynthesisLayer(in_channels, out_channels, w_dim, side, up=True),
                    SynthesisLayer(out_channels, out_channels, w_dim, side),
                ]
            )
            self.upsample = Resample(up=True)
        self.to_rgb = ToRGB(out_channels, image_channels, w_dim)

    def forward(
        self, x: Optional[torch.Tensor], image: Optional[torch.Tensor], ws: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``ws``: one w per layer, then the RGB output's (the next block's first)."""
        if self.first:
            x = self.constant.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        assert x is not None
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i])
        rgb = self.to_rgb(x, ws[:, len(self.layers)])
        return x, rgb if image is None else self.upsample(image) + rgb


class SynthesisNetwork(nn.Module):
    """ws (B, num_ws, w_dim) -> images (B, C, resolution, resolution), the skip generator."""

    def __init__(self, w_dim: int, resolution: int, image_channels: int, channel_base: int, channel_max: int) -> None:
        super().__init__()
        sides = [2**i for i in range(2, int(math.log2(resolution)) + 1)]
        blocks = []
        for side in sides:
            in_channels = channels_at(side // 2, channel_base, channel_max)
            out_channels = channels_at(side, channel_base, channel_max)
            blocks.append(SynthesisBlock(in_channels, out_channels, w_dim, side, image_channels))
        self.blocks = nn.ModuleList(blocks)
        self.layer_counts = [len(block.layers) for block in blocks]
        self.num_ws = 2 * len(sides)  # a w per layer (1 + 2 per doubling) and the last RGB output's

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        x = image = None
        start = 0
        for block, count in zip(self.blocks, self.layer_counts):
            x, image = block(x, image, ws[:, start : start + count + 1])
            start += count
        assert image is not None
        return image


class Generator(nn.Module):
    """z -> w (mapping) -> one w per layer, mixed in training -> images (synthesis).

    In training, every forward pass moves ``w_avg`` towards the batch's mean w (decay
    ``w_avg_decay``) and, with probability ``mixing_probability``, mixes styles: the layers
    from a random crossover on take their w from a second latent (style mixing
    regularisation, section 3.1 of the first StyleGAN paper), all on the device. Called
    with ``truncation`` ψ, the ws are pulled towards ``w_avg``: w_avg + ψ (w - w_avg)."""

    def __init__(
        self,
        *,
        latent_dim: int,
        w_dim: int,
        mapping_layers: int,
        side: int,
        image_channels: int,
        channel_base: int,
        channel_max: int,
        mixing_probability: float,
        w_avg_decay: float,
    ) -> None:
        super().__init__()
        self.resolution = working_resolution(side)
        self.side = side
        self.mapping: MappingNetwork = MappingNetwork(latent_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(w_dim, self.resolution, image_channels, channel_base, channel_max)
        self.num_ws = self.synthesis.num_ws
        self.mixing_probability = mixing_probability
        self.w_avg_decay = w_avg_decay

    def styles(self, z: torch.Tensor) -> torch.Tensor:
        """The ws (B, num_ws, w_dim) of latents ``z``: mixed, and tracked in ``w_avg``, in training."""
        w = self.mapping(z)
        if self.training:
            w_avg = self.mapping.w_avg
            w_avg.copy_(w.detach().mean(dim=0).lerp(w_avg, self.w_avg_decay))
        ws = w.unsqueeze(1).expand(-1, self.num_ws, -1)
        if self.training and self.mixing_probability > 0:
            ws = self.mix(ws, z)
        return ws

    def mix(self, ws: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Style mixing: from a crossover drawn in [1, num_ws) on, the ws of a second latent
        (with probability ``mixing_probability``, else no crossover), one draw per batch."""
        other = self.mapping(torch.randn_like(z)).unsqueeze(1)
        device = ws.device
        crossover = torch.randint(1, self.num_ws, (), device=device)
        crossover = torch.where(torch.rand((), device=device) < self.mixing_probability, crossover, self.num_ws)
        later = torch.arange(self.num_ws, device=device) >= crossover
        return torch.where(later.view(1, -1, 1), other, ws)

    def crop(self, images: torch.Tensor) -> torch.Tensor:
        """The data's side cut from the middle of the working resolution."""
        if self.side == self.resolution:
            return images
        before, _ = edges(self.side, self.resolution)
        return images[:, :, before : before + self.side, before : before + self.side]

    def forward(
        self,
        z: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        *,
        truncation: float = 1.0,
        return_styles: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Images for latents ``z`` (labels are ignored: the model is unconditional); with
        ``return_styles``, ``(images, ws)``, for the path-length penalty's gradient."""
        ws = self.styles(z)
        if truncation != 1.0:
            ws = self.mapping.w_avg.lerp(ws, truncation)
        images = self.crop(self.synthesis(ws))
        return (images, ws) if return_styles else images


class DiscriminatorBlock(nn.Module):
    """Two 3x3 convolutions, the second halving the side, beside a 1x1 halving shortcut;
    their sum scaled by 1/sqrt(2) (the residual discriminator)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation=True)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation=True, down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.skip(x) + self.conv1(self.conv0(x))) * (1 / math.sqrt(2))


class Discriminator(nn.Module):
    """images -> one logit each: from RGB, residual blocks down to 4x4, minibatch standard
    deviation, a 3x3 convolution and two fully connected layers."""

    def __init__(
        self,
        *,
        side: int,
        image_channels: int,
        channel_base: int,
        channel_max: int,
        mbstd_group: int,
        mbstd_channels: int,
    ) -> None:
        super().__init__()
        self.resolution = working_resolution(side)
        self.padding = edges(side, self.resolution)
        sides = [2**i for i in range(int(math.log2(self.resolution)), 2, -1)]
        top = channels_at(self.resolution, channel_base, channel_max)
        self.from_rgb = EqualConv2d(image_channels, top, 1, activation=True)
        self.blocks = nn.Sequential(
            *(
                DiscriminatorBlock(
                    channels_at(s, channel_base, channel_max), channels_at(s // 2, channel_base, channel_max)
                )
                for s in sides
            )
        )
        last = channels_at(4, channel_base, channel_max)
        self.mbstd = MinibatchStd(mbstd_group, mbstd_channels)
        self.conv = EqualConv2d(last + mbstd_channels, last, 3, activation=True)
        self.fc = EqualLinear(last * 16, last, activation=True)
        self.out = EqualLinear(last, 1)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.padding != (0, 0):
            before, after = self.padding
            x = F.pad(x, (before, after, before, after), value=-1.0)  # the model range's black
        x = self.blocks(self.from_rgb(x))
        x = self.conv(self.mbstd(x))
        return self.out(self.fc(x.flatten(1)))
