"""ADA, adaptive discriminator augmentation (Karras et al., NeurIPS 2020): the transforms
of StyleGAN2-ADA's ``bgc`` pipeline, each applied with probability ``p``, and ``p`` adjusted
as training goes so that D stays unsure of the real images.

The transforms, in the paper's order and with its distributions (``augment.py`` of
StyleGAN2-ADA): x-flip; rotation by a multiple of 90°; integer translation up to 1/8 of the
side; isotropic scaling by ``2^N(0, 0.2²)``; arbitrary rotation (before and after the
anisotropic scaling, each with the probability that makes either happen with ``p``);
anisotropic scaling by ``2^N(0, 0.2²)``; fractional translation by ``N(0, 0.125²)`` of the
side; brightness ``+N(0, 0.2²)``; contrast ``×2^N(0, 0.5²)``; luma flip; hue rotation by
``U(-π, π)``; saturation ``×2^N(0, 1)``. Hue and saturation act on RGB images only. The
geometric ones are composed into one matrix per image and applied in one bilinear
resampling that reflects the image at its borders; StyleGAN2-ADA resamples at twice the
resolution through a wavelet low-pass filter, which at 28x28 pixels costs more than the
step it serves, and is left out (docs/augment.md).

The overfitting heuristic: ``r_t = E[sign D(x)]`` over the real images of the last
``interval`` discriminator updates (1 when D is sure of every real image, 0 when it is
guessing). Every ``interval`` updates ``p`` moves by ``sign(r_t - target)`` times the images
seen over ``speed`` images: from 0 to 1 in ``speed`` images at most. All of it is device
work on buffers changed in place: no host read, and a captured step keeps them.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

import torch
from pydantic import Field, NonNegativeFloat, PositiveInt

import ganzoo
from ganzoo_augment.matrices import (
    apply_colour,
    luma_outer,
    resample,
    rotate2d,
    rotate3d_about_luma,
    scale2d,
    scale3d,
    translate2d,
    translate3d,
)

Transform = Literal[
    "xflip",
    "rotate90",
    "xint",
    "scale",
    "rotate",
    "aniso",
    "xfrac",
    "brightness",
    "contrast",
    "lumaflip",
    "hue",
    "saturation",
]
GEOMETRIC = ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac")
COLOUR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
ALL: list[Transform] = [*GEOMETRIC, *COLOUR]  # type: ignore[list-item]


class ADA(ganzoo.Augment):
    """ADA (Karras et al., 2020): StyleGAN2-ADA's geometric and colour transforms, each with probability p, which adapts so that D's verdict on the real images stays at a target."""

    name = "ada"
    capturable = True  # device work on buffers changed in place (docs/augment.md)
    stackable = "a population's batched step does not augment D's input (p is one run's buffer, changed in place)"
    scalars = {
        "ada_p": ganzoo.ScalarInfo(
            "ADA p", "the probability with which each transform is applied", group="augmentation"
        ),
        "ada_rt": ganzoo.ScalarInfo(
            "ADA r_t",
            "E[sign D(x)] over the real images of the last adjustment: 1 when D is sure of all of them",
            group="augmentation",
        ),
    }

    class Options(ganzoo.Options):
        transforms: list[Transform] = Field(
            ALL, min_length=1, description="the transforms applied, each with probability p (default: all twelve)"
        )
        p: float = Field(0.0, ge=0, le=1, description="the probability at the start")
        adapt: bool = Field(True, description="adjust p to the target (false: p stays as given, ADA's fixed p)")
        target: float = Field(0.6, gt=0, lt=1, description="the r_t that p is adjusted to hold")
        interval: PositiveInt = Field(4, description="discriminator updates between two adjustments of p")
        speed: PositiveInt = Field(500_000, description="images over which p can move from 0 to 1 (the paper's 500k)")
        strength: NonNegativeFloat = Field(
            1.0, le=1, description="each transform's probability is strength times p (the paper's multipliers, all 1)"
        )

    options: Options
    p: torch.Tensor
    rt: torch.Tensor
    signs: torch.Tensor
    seen: torch.Tensor
    updates: torch.Tensor

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.register_buffer("p", torch.tensor(float(self.options.p)))
        self.register_buffer("rt", torch.tensor(0.0))
        self.register_buffer("signs", torch.tensor(0.0))  # sign sum, weighted by images, since the last adjustment
        self.register_buffer("seen", torch.tensor(0.0))  # real images since the last adjustment
        self.register_buffer("updates", torch.tensor(0.0))  # discriminator updates since the last adjustment
        self.chosen = set(self.options.transforms)

    @property
    def adaptive(self) -> bool:
        return self.options.adapt

    def logs(self) -> dict[str, torch.Tensor]:
        return {"ada_p": self.p, "ada_rt": self.rt} if self.adaptive else {"ada_p": self.p}

    def observe(self, real_sign: torch.Tensor, images: int) -> None:
        self.signs.add_(real_sign * images)
        self.seen.add_(images)
        self.updates.add_(1)
        due = self.updates >= self.options.interval
        rt = self.signs / self.seen.clamp(min=1)
        moved = (self.p + torch.sign(rt - self.options.target) * self.seen / self.options.speed).clamp(0, 1)
        self.p.copy_(torch.where(due, moved, self.p))
        self.rt.copy_(torch.where(due, rt, self.rt))
        kept = (~due).to(self.seen.dtype)
        for counter in (self.signs, self.seen, self.updates):
            counter.mul_(kept)

    def forward(
        self, images: torch.Tensor, condition: Optional[torch.Tensor] = None
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        tensors = [images] if condition is None else [images, condition]
        if self.chosen & set(GEOMETRIC):
            inverse = self.geometry(*images.shape[:1], *images.shape[2:], device=images.device)
            tensors = [resample(x, inverse) for x in tensors]
        if self.chosen & set(COLOUR):
            colour = self.colour(images.shape[0], rgb=images.shape[1] == 3, device=images.device)
            tensors = [apply_colour(x, colour) for x in tensors]
        return tensors[0], (tensors[1] if condition is not None else None)

    def _gate(self, n: int, device: torch.device, probability: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Per sample: whether a transform applies (probability ``strength * p`` by default)."""
        chance = self.options.strength * self.p if probability is None else probability
        return self.uniform(n, device=device) < chance

    def geometry(self, n: int, height: int, width: int, *, device: torch.device) -> torch.Tensor:
        """The inverse geometric matrices ``(n, 3, 3)`` of one draw: from output pixels to input."""
        one, zero = torch.ones(n, device=device), torch.zeros(n, device=device)
        inverse = torch.eye(3, device=device).expand(n, 3, 3)
        if "xflip" in self.chosen:
            flip = torch.where(self._gate(n, device), (self.uniform(n, device=device) * 2).floor(), zero)
            inverse = inverse @ scale2d(1 - 2 * flip, one)
        if "rotate90" in self.chosen:
            quarter = torch.where(self._gate(n, device), (self.uniform(n, device=device) * 4).floor(), zero)
            inverse = inverse @ rotate2d(math.pi / 2 * quarter)
        if "xint" in self.chosen:
            t = (self.uniform(n, 2, device=device) * 2 - 1) * 0.125
            t = torch.where(self._gate(n, device).view(n, 1), t, torch.zeros_like(t))
            inverse = inverse @ translate2d(-torch.round(t[:, 0] * width), -torch.round(t[:, 1] * height))
        if "scale" in self.chosen:
            s = torch.where(self._gate(n, device), torch.exp2(self.normal(n, device=device) * 0.2), one)
            inverse = inverse @ scale2d(1 / s, 1 / s)
        rotation = 1 - torch.sqrt((1 - self.options.strength * self.p).clamp(0, 1))  # either of the two: p
        inverse = self._rotate(inverse, n, rotation, device)
        if "aniso" in self.chosen:
            s = torch.where(self._gate(n, device), torch.exp2(self.normal(n, device=device) * 0.2), one)
            inverse = inverse @ scale2d(1 / s, s)
        inverse = self._rotate(inverse, n, rotation, device)
        if "xfrac" in self.chosen:
            t = self.normal(n, 2, device=device) * 0.125
            t = torch.where(self._gate(n, device).view(n, 1), t, torch.zeros_like(t))
            inverse = inverse @ translate2d(-t[:, 0] * width, -t[:, 1] * height)
        return inverse

    def _rotate(self, inverse: torch.Tensor, n: int, probability: torch.Tensor, device: torch.device) -> torch.Tensor:
        if "rotate" not in self.chosen:
            return inverse
        theta = (self.uniform(n, device=device) * 2 - 1) * math.pi
        theta = torch.where(self._gate(n, device, probability), theta, torch.zeros_like(theta))
        return inverse @ rotate2d(theta)

    def colour(self, n: int, *, rgb: bool, device: torch.device) -> torch.Tensor:
        """The colour matrices ``(n, 4, 4)`` of one draw; hue and saturation for RGB only."""
        one, zero = torch.ones(n, device=device), torch.zeros(n, device=device)
        identity = torch.eye(4, device=device)
        matrix = identity.expand(n, 4, 4)
        if "brightness" in self.chosen:
            b = torch.where(self._gate(n, device), self.normal(n, device=device) * 0.2, zero)
            matrix = translate3d(b) @ matrix
        if "contrast" in self.chosen:
            c = torch.where(self._gate(n, device), torch.exp2(self.normal(n, device=device) * 0.5), one)
            matrix = scale3d(c) @ matrix
        luma = luma_outer(device)
        if "lumaflip" in self.chosen:
            flip = torch.where(self._gate(n, device), (self.uniform(n, device=device) * 2).floor(), zero)
            matrix = (identity - 2 * luma * flip.view(n, 1, 1)) @ matrix  # a Householder reflection
        if "hue" in self.chosen and rgb:
            theta = torch.where(self._gate(n, device), (self.uniform(n, device=device) * 2 - 1) * math.pi, zero)
            matrix = rotate3d_about_luma(theta) @ matrix
        if "saturation" in self.chosen and rgb:
            s = torch.where(self._gate(n, device), torch.exp2(self.normal(n, device=device)), one)
            matrix = (luma + (identity - luma) * s.view(n, 1, 1)) @ matrix
        return matrix
