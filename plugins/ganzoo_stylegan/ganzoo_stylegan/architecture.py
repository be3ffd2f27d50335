"""The ``stylegan2`` architecture: StyleGAN2's networks sized from the data and the options."""

from __future__ import annotations

import torch
from pydantic import Field, PositiveInt
from torch import nn

import ganzoo
from ganzoo_stylegan.networks import Discriminator, Generator, channels_at

MAX_SIDE = 256


class StyleGAN2(ganzoo.Architecture):
    """StyleGAN2 (Karras et al., 2020, config F scaled by options): a mapping network, modulated and demodulated convolutions with noise, the skip generator and the residual discriminator; square images up to 256x256.

    The networks work at the data's side rounded up to a power of two, at least 32 (MNIST's
    28 is padded to 32 in D and cropped from G's output). Equalised learning rate throughout;
    the mapping network learns at ``mapping_lr_scale`` times the optimiser's rate (a
    parameter group the optimiser builds). In training, G mixes styles with probability
    ``mixing_probability`` and tracks the average w; ``ganzoo sample --truncation PSI``
    pulls the styles towards it. Pair it with the ``stylegan2`` loss (lazy R1, path length)
    and the ``ema`` callback; D outputs a logit, so the other logit losses train it too."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    stackable = (
        "its generator draws noise and style-mixing numbers inside the networks and moves w_avg in place, "
        "which a population's batched step (torch.func.vmap) cannot do"
    )
    style_based = True
    """G takes ``return_styles=True`` and returns ``(images, ws)``: the path-length penalty needs it."""

    name = "stylegan2"

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(512, le=4096, description="size of the latent z (the paper's 512)")
        w_dim: PositiveInt = Field(512, le=4096, description="size of the intermediate latent w (the paper's 512)")
        mapping_layers: PositiveInt = Field(8, le=32, description="fully connected layers of the mapping network")
        mapping_lr_scale: float = Field(
            0.01, gt=0, le=1, description="the mapping network's learning rate relative to the optimiser's"
        )
        channel_base: PositiveInt = Field(
            32768, le=1 << 20, description="feature maps at resolution r: channel_base / r (config F: 32768)"
        )
        channel_max: PositiveInt = Field(512, le=4096, description="at most this many feature maps per layer")
        mixing_probability: float = Field(
            0.9, ge=0, le=1, description="style mixing regularisation: chance that a batch mixes two latents"
        )
        w_avg_decay: float = Field(
            0.995, ge=0, lt=1, description="decay of the moving average of w that truncation pulls towards"
        )
        mbstd_group: PositiveInt = Field(4, le=64, description="minibatch standard deviation: samples per group")
        mbstd_channels: PositiveInt = Field(1, le=64, description="minibatch standard deviation: feature maps added")

    options: Options

    class SamplingOptions(ganzoo.Options):
        truncation: float = Field(
            1.0, ge=0, le=1, description="ψ: styles w_avg + ψ (w - w_avg); 0 gives the average sample, 1 none"
        )

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(kinds=("images",), square=True, min_side=16, max_side=MAX_SIDE)

    def discriminator_output(self) -> str:
        return "logit"

    def parameter_groups(self, network):
        if network == "generator" and self.options.mapping_lr_scale != 1:
            return (ganzoo.ParameterGroup("mapping.", self.options.mapping_lr_scale),)
        return ()

    def _sizes(self, data: ganzoo.DataInfo) -> dict[str, int]:
        """What both networks are sized by: the data's side and channels and the widths,
        once the data is checked (refused in one line when the networks cannot take it)."""
        shape = data.shape
        if len(shape) != 3 or shape[1] != shape[2] or not 16 <= shape[1] <= MAX_SIDE:
            raise ganzoo.GanzooError(
                f"stylegan2 needs square images from 16x16 to {MAX_SIDE}x{MAX_SIDE}, got samples of shape {shape}"
            )
        o = self.options
        last = channels_at(4, o.channel_base, o.channel_max)
        if last % o.mbstd_channels:
            raise ganzoo.GanzooError(
                f"stylegan2: mbstd_channels {o.mbstd_channels} must divide D's {last} feature maps at 4x4"
            )
        return {
            "side": shape[1],
            "image_channels": shape[0],
            "channel_base": o.channel_base,
            "channel_max": o.channel_max,
        }

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        o = self.options
        return Generator(
            **self._sizes(data),
            latent_dim=o.latent_dim,
            w_dim=o.w_dim,
            mapping_layers=o.mapping_layers,
            mixing_probability=o.mixing_probability,
            w_avg_decay=o.w_avg_decay,
        )

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        o = self.options
        return Discriminator(**self._sizes(data), mbstd_group=o.mbstd_group, mbstd_channels=o.mbstd_channels)

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)
