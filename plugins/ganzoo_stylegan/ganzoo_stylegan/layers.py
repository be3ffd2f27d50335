"""The layers StyleGAN2 is built from, in pure PyTorch (no compiled extension).

Equalised learning rate (Karras et al., 2018): weights are stored as N(0, 1) and scaled at
run time by He's constant 1/sqrt(fan_in), so that Adam, which normalises each parameter's
step, moves every layer at the same relative speed whatever its fan-in.

Modulated convolution (Karras et al., 2020, section 2.2): a style s, an affine function of
w, scales the input channels of the weights (w'_ijk = s_i w_ijk); demodulation divides each
output channel by sqrt(sum_ik w'_ijk^2 + 1e-8), which restores unit output variance without
the instance normalisation (and its droplet artefacts) of the first StyleGAN. Scaling the
input by s and the output by the demodulation coefficients is the same arithmetic as a
convolution with the per-sample weights, and stays one ordinary convolution for the batch.

Resampling is the [1, 3, 3, 1] binomial filter of both papers ("bilinear"), applied as a
depthwise convolution: zero insertion and the filter to double, the filter and a stride of
2 to halve.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_GAIN = math.sqrt(2)
"""Leaky ReLU (slope 0.2) outputs are scaled by sqrt(2) to keep unit variance (He)."""


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def binomial_filter() -> torch.Tensor:
    """The 4x4 separable [1, 3, 3, 1] filter, normalised to sum 1."""
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = torch.outer(taps, taps)
    return kernel / kernel.sum()


class Resample(nn.Module):
    """Doubling (``up``) or halving an image's side with the binomial filter, per channel.

    ``pad`` only matters for halving: the padding before the filter, 1 for a plain halving,
    2 for the filter that precedes a stride-2 3x3 convolution."""

    kernel: torch.Tensor

    def __init__(self, up: bool, pad: int = 1) -> None:
        super().__init__()
        self.up, self.pad = up, pad
        # Zero insertion keeps a quarter of the pixels, so doubling multiplies the filter by 4.
        self.register_buffer("kernel", binomial_filter() * (4 if up else 1), persistent=False)

    def forward(self, x: torch.Tensor, stride: int = 2) -> torch.Tensor:
        channels = x.shape[1]
        kernel = self.kernel.to(x.dtype).expand(channels, 1, 4, 4)
        if self.up:  # output 2H: (H - 1) * 2 - 2 * 1 + 4
            return F.conv_transpose2d(x, kernel, stride=2, padding=1, groups=channels)
        return F.conv2d(F.pad(x, [self.pad] * 4), kernel, stride=stride, groups=channels)


class EqualLinear(nn.Module):
    """A fully connected layer with equalised learning rate, leaky ReLU optional."""

    def __init__(self, in_features: int, out_features: int, *, bias_init: float = 0.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.gain = 1 / math.sqrt(in_features)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.gain, self.bias)
        return lrelu(x) if self.activation else x


class EqualConv2d(nn.Module):
    """A convolution with equalised learning rate (same size, or halving with ``down``).

    Halving filters first and then strides (the filter's padding is (k + 1) // 2, so that
    the side halves exactly), as the residual discriminator of StyleGAN2 does."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: bool = False,
        down: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.activation = activation
        self.down = Resample(up=False, pad=(kernel_size + 1) // 2) if down else None
        self.padding = 0 if down else kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stride = 1
        if self.down is not None:
            x = self.down(x, stride=1)
            stride = 2
        x = F.conv2d(x, self.weight * self.gain, self.bias, stride=stride, padding=self.padding)
        return lrelu(x) if self.activation else x


class ModulatedConv2d(nn.Module):
    """A convolution whose input channels a style scales per sample (section 2.2), with
    demodulation; ``up`` doubles the side first (filter, then the 3x3 convolution)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        *,
        demodulate: bool = True,
        up: bool = False,
    ) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)  # styles start at 1: the plain weights
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.demodulate = demodulate
        self.up = Resample(up=True) if up else None
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (B, in)
        weight = self.weight * self.gain
        x = x * styles.unsqueeze(2).unsqueeze(3)  # scaling is per channel: it commutes with the filter
        if self.up is not None:
            x = self.up(x)
        x = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sum_ik (s_i w_jik)^2 = sum_i s_i^2 (sum_k w_jik^2): (B, in) @ (in, out)
            energy = styles.square() @ weight.square().sum(dim=(2, 3)).t()
            x = x * torch.rsqrt(energy + 1e-8).unsqueeze(2).unsqueeze(3)
        return x


class MinibatchStd(nn.Module):
    """Minibatch standard deviation (Karras et al., 2018): the standard deviation of every
    feature over a group of samples, averaged, appended as ``channels`` extra feature maps.

    The group is the largest divisor of the batch up to ``group_size``, so an epoch's short
    last batch works too (a group of 1 appends a constant)."""

    def __init__(self, group_size: int = 4, channels: int = 1) -> None:
        super().__init__()
        self.group_size, self.channels = group_size, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = next(g for g in range(min(self.group_size, n), 0, -1) if n % g == 0)
        y = x.reshape(group, -1, self.channels, c // self.channels, h, w)  # samples n/group apart form a group
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
        y = y.mean(dim=(2, 3, 4)).reshape(-1, self.channels, 1, 1).repeat(group, 1, h, w)
        return torch.cat([x, y], dim=1)


class NoiseInput(nn.Module):
    """Per-pixel Gaussian noise scaled by a learned strength (initially 0), one image per
    sample. In eval mode the noise is a fixed image drawn at construction (saved with the
    weights), so that sampling is a function of the latent alone and never touches the
    random streams."""

    fixed: torch.Tensor

    def __init__(self, side: int) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("fixed", torch.randn(side, side))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        else:
            noise = self.fixed.to(x.dtype)
        return x + noise * self.strength
