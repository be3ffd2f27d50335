"""The Pix2Pix networks (Isola et al., 2017): a U-Net generator and a PatchGAN discriminator.

The U-Net is an encoder-decoder whose i-th decoder layer also receives the i-th encoder
layer's output (a skip connection), so the low-level structure shared by input and output
(edges, layout) need not squeeze through the bottleneck. It has no noise input: as in the
paper, dropout in the first decoder layers is the source of randomness.

The PatchGAN classifies each overlapping N x N patch of a (condition, image) pair as real
or fake and returns the map of logits; N, its receptive field, is set by how many strided
layers it stacks (70 px for the paper's 256-px images).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

RECEPTIVE_FIELDS = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}
"""PatchGAN receptive field in pixels -> strided layers (1 is the paper's PixelGAN)."""


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.InstanceNorm2d(channels, affine=True)


class UNetGenerator(nn.Module):
    """Encoder C(w)-C(2w)-...-C(8w) of 4x4 stride-2 convolutions (LeakyReLU 0.2, no norm on
    the first and the innermost), decoder of 4x4 stride-2 transposed convolutions (ReLU,
    dropout 0.5 on the first three), each decoder layer fed the matching encoder output.

    Images whose side is not a multiple of ``2**depth`` are padded (reflected) to one and
    the output is cropped back, so that 28-px MNIST works as well as 256-px photographs."""

    def __init__(
        self, in_channels: int, out_channels: int, depth: int, width: int, norm: str = "batch", dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.depth = depth
        self.in_channels = in_channels
        widths = [min(width * 2**i, width * 8) for i in range(depth)]
        self.down = nn.ModuleList()
        previous = in_channels
        for i, channels in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(previous, channels, 4, 2, 1, bias=not (0 < i < depth - 1 and norm == "batch")))
            if 0 < i < depth - 1:
                layers.append(_norm(norm, channels))
            self.down.append(nn.Sequential(*layers))
            previous = channels
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):  # up[k] undoes down[depth - 1 - k]
            inner = widths[i] if i == depth - 1 else widths[i] * 2  # the skip doubles the input
            target = out_channels if i == 0 else widths[i - 1]
            layers = [nn.ReLU(), nn.ConvTranspose2d(inner, target, 4, 2, 1, bias=i == 0 or norm != "batch")]
            if i == 0:
                layers.append(nn.Tanh())
            else:
                layers.append(_norm(norm, target))
                if depth - 1 - i < 3 and dropout > 0:  # the first three decoder layers
                    layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``labels`` is the condition image ``(B, C, H, W)`` in [-1, 1]; ``z`` is unused
        (dropout is the noise)."""
        if labels is None or labels.dim() != 4:
            raise ValueError(
                "the unet generator translates a condition image (B, C, H, W); got "
                f"{'none' if labels is None else tuple(labels.shape)}"
            )
        x = labels
        height, width = x.shape[-2:]
        if min(height, width) < 2 ** (self.depth - 1):
            raise ValueError(
                f"this {self.depth}-level U-Net takes images of at least {2 ** (self.depth - 1)} px a side, "
                f"got {width}x{height}"
            )
        side = 2**self.depth
        pad_h, pad_w = -height % side, -width % side
        if pad_h or pad_w:
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = self.up[0](skips[-1])
        for layer, skip in zip(self.up[1:], reversed(skips[:-1]), strict=True):
            x = layer(torch.cat([x, skip], dim=1))
        return x[..., :height, :width]


class PatchDiscriminator(nn.Module):
    """C(w)-C(2w)-C(4w)-... 4x4 convolutions (the last two of stride 1) over the condition
    and the image stacked on channels; one logit per patch. ``layers`` strided layers give
    a receptive field of 16, 34, 70, 142 or 286 px for 1 to 5; 0 gives the 1x1 PixelGAN."""

    def __init__(self, channels: int, layers: int, width: int, norm: str = "batch") -> None:
        super().__init__()
        if layers == 0:  # PixelGAN: 1x1 convolutions
            self.net = nn.Sequential(
                nn.Conv2d(channels, width, 1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(width, width * 2, 1, bias=norm != "batch"),
                _norm(norm, width * 2),
                nn.LeakyReLU(0.2),
                nn.Conv2d(width * 2, 1, 1),
            )
            return
        modules: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        previous = width
        for i in range(1, layers + 1):
            current = width * min(2**i, 8)
            stride = 2 if i < layers else 1
            modules += [
                nn.Conv2d(previous, current, 4, stride, 1, bias=norm != "batch"),
                _norm(norm, current),
                nn.LeakyReLU(0.2),
            ]
            previous = current
        modules.append(nn.Conv2d(previous, 1, 4, 1, 1))
        self.net = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``labels`` is the condition image the pair is judged with; returns ``(B, 1, h, w)`` logits."""
        if labels is None or labels.dim() != 4:
            raise ValueError("the PatchGAN discriminator judges (condition, image) pairs: it needs the condition image")
        return self.net(torch.cat([labels, x], dim=1))


def auto_depth(side: int) -> int:
    """Levels that take an image of ``side`` pixels down to 1x1 (after padding), at most 8."""
    return max(1, min(8, math.ceil(math.log2(side))))
