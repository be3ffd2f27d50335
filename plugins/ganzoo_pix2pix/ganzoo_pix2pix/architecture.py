"""The ``unet`` architecture: the Pix2Pix U-Net generator and PatchGAN discriminator,
sized from the data (any square or rectangular image from 28 to 256 px and beyond)."""

from __future__ import annotations

from typing import Literal, Optional

import torch
from pydantic import Field, PositiveInt
from torch import nn

import ganzoo
from ganzoo_pix2pix.networks import RECEPTIVE_FIELDS, PatchDiscriminator, UNetGenerator, auto_depth


def _paired_shapes(data: ganzoo.DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(condition shape, target shape)``, or an error saying what data the model needs."""
    if data.condition_shape is None or len(data.shape) != 3:
        raise ganzoo.GanzooError(
            "model 'unet' translates images: its data must give (condition image, target image) "
            "pairs, such as the mnist_pairs or paired_folder datasets"
        )
    if tuple(data.condition_shape[1:]) != tuple(data.shape[1:]):
        raise ganzoo.GanzooError(
            f"model 'unet' needs condition and target images of one size; the data's are "
            f"{data.condition_shape[1]}x{data.condition_shape[2]} and {data.shape[1]}x{data.shape[2]}"
        )
    return tuple(data.condition_shape), tuple(data.shape)


class UNet(ganzoo.Architecture):
    """Pix2Pix (Isola et al., 2017): a U-Net G with skips and dropout as noise; a PatchGAN D on (condition, image) pairs."""

    capturable = True  # device work only (docs/speed.md); dropout draws from the device generator

    name = "unet"

    class Options(ganzoo.Options):
        depth: Optional[PositiveInt] = Field(
            None, le=8, description="U-Net levels; null: enough to reach 1x1 (8 at 256 px, 5 at 28 px)"
        )
        width: PositiveInt = Field(64, le=4096, description="G's channels at the first level (doubling to 8x)")
        d_width: PositiveInt = Field(64, le=4096, description="D's channels at the first layer (doubling to 8x)")
        norm: Literal["batch", "instance"] = Field("batch", description="normalisation layers of G and D")
        dropout: float = Field(0.5, ge=0, lt=1, description="dropout of G's first three decoder layers: its noise")
        receptive_field: Literal[1, 16, 34, 70, 142, 286] = Field(
            70, description="the PatchGAN's patch size in px (70 in the paper at 256 px; 1: PixelGAN)"
        )

    options: Options

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        condition, target = _paired_shapes(data)
        side = max(target[1:])
        depth = self.options.depth or auto_depth(side)
        if 2**depth > 2 * side:
            raise ganzoo.GanzooError(
                f"model.depth {depth} is too deep for {target[1]}x{target[2]} images: at most {auto_depth(side)}"
            )
        return UNetGenerator(
            condition[0], target[0], depth, self.options.width, self.options.norm, self.options.dropout
        )

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        condition, target = _paired_shapes(data)
        layers = RECEPTIVE_FIELDS[self.options.receptive_field]
        if layers and min(target[1:]) // 2**layers < 3:
            fitting = [rf for rf, n in RECEPTIVE_FIELDS.items() if not n or min(target[1:]) // 2**n >= 3]
            raise ganzoo.GanzooError(
                f"model.receptive_field {self.options.receptive_field} does not fit "
                f"{target[1]}x{target[2]} images; choose one of {fitting}"
            )
        return PatchDiscriminator(condition[0] + target[0], layers, self.options.d_width, self.options.norm)

    def sample_latent(
        self, n: int, *, device: torch.device, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """No latent: the U-Net's noise is its dropout. An empty ``(n, 0)`` tensor keeps the
        trainer's one-latent-per-sample contract (and draws no random number)."""
        return torch.zeros(n, 0, device=device)
