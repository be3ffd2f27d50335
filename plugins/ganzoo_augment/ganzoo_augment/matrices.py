"""Batched homogeneous matrices: 3x3 for the geometry of an image, 4x4 for its colours.

ADA composes every geometric transform of a sample into one 3x3 matrix (which maps output
pixels to the input pixels they are read from, in pixel units around the image's centre)
and every colour transform into one 4x4 matrix acting on (r, g, b, 1), so that an image is
resampled once and recoloured once, whatever the number of transforms.
"""

from __future__ import annotations

import math

import torch


def _matrices(rows: list[list[torch.Tensor | float]], like: torch.Tensor) -> torch.Tensor:
    """``(B, n, n)`` from a square of per-sample ``(B,)`` tensors or numbers."""
    entries = [
        entry if isinstance(entry, torch.Tensor) else torch.full_like(like, entry) for row in rows for entry in row
    ]
    size = len(rows)
    return torch.stack(entries, dim=-1).view(-1, size, size)


def translate2d(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    return _matrices([[1, 0, tx], [0, 1, ty], [0, 0, 1]], tx)


def scale2d(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    return _matrices([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], sx)


def rotate2d(theta: torch.Tensor) -> torch.Tensor:
    cos, sin = torch.cos(theta), torch.sin(theta)
    return _matrices([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], theta)


def translate3d(t: torch.Tensor) -> torch.Tensor:
    """The same offset ``t`` added to r, g and b."""
    return _matrices([[1, 0, 0, t], [0, 1, 0, t], [0, 0, 1, t], [0, 0, 0, 1]], t)


def scale3d(s: torch.Tensor) -> torch.Tensor:
    """r, g and b multiplied by ``s``."""
    return _matrices([[s, 0, 0, 0], [0, s, 0, 0], [0, 0, s, 0], [0, 0, 0, 1]], s)


LUMA_AXIS = (1 / math.sqrt(3), 1 / math.sqrt(3), 1 / math.sqrt(3), 0.0)
"""The grey axis r = g = b, as ADA takes it."""


def luma_outer(device: torch.device) -> torch.Tensor:
    """``v vᵀ`` for the luma axis ``v``: the projection onto it, ``(4, 4)``."""
    v = torch.tensor(LUMA_AXIS, device=device)
    return torch.outer(v, v)


def rotate3d_about_luma(theta: torch.Tensor) -> torch.Tensor:
    """A rotation by ``theta`` about the luma axis (a hue rotation), Rodrigues' formula."""
    c = 1 / math.sqrt(3)
    cos, sin = torch.cos(theta), torch.sin(theta)
    k = (1 - cos) * c * c  # (1 - cos θ) v_i v_j, the same for every i, j on this axis
    return _matrices(
        [
            [cos + k, k - c * sin, k + c * sin, 0],
            [k + c * sin, cos + k, k - c * sin, 0],
            [k - c * sin, k + c * sin, cos + k, 0],
            [0, 0, 0, 1],
        ],
        theta,
    )


def apply_colour(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """``images`` ``(B, C, H, W)`` recoloured by ``(B, 4, 4)`` matrices: an RGB image as
    (r, g, b, 1); any other channel count as ADA treats greyscale, every channel mapped by
    the mean of the matrix's r, g and b rows applied to a grey pixel."""
    batch, channels, height, width = images.shape
    flat = images.reshape(batch, channels, height * width)
    if channels == 3:
        flat = matrices[:, :3, :3] @ flat + matrices[:, :3, 3:]
    else:
        grey = matrices[:, :3, :].mean(dim=1, keepdim=True)  # (B, 1, 4)
        flat = flat * grey[:, :, :3].sum(dim=2, keepdim=True) + grey[:, :, 3:]
    return flat.reshape(batch, channels, height, width)


def resample(images: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """``images`` resampled by ``inverse`` ``(B, 3, 3)``, which maps each output pixel's
    centred coordinates to the input point it is read from: bilinear, reflecting the image
    at its borders, differentiable in the images (twice: gradient penalties)."""
    batch, channels, height, width = images.shape
    one = torch.ones(batch, device=images.device)
    to_pixels = scale2d(one * (width / 2), one * (height / 2))  # grid_sample's [-1, 1] to centred pixels
    to_grid = scale2d(one * (2 / width), one * (2 / height))
    theta = (to_grid @ inverse @ to_pixels)[:, :2, :]
    grid = torch.nn.functional.affine_grid(
        theta.to(images.dtype), [batch, channels, height, width], align_corners=False
    )
    return torch.nn.functional.grid_sample(
        images, grid, mode="bilinear", padding_mode="reflection", align_corners=False
    )
