"""What ``ganzoo sample`` writes: ``.npz`` arrays of samples (or of a translator's pairs),
and the limits that keep a request from filling memory or disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import torch

from ganzoo.api import DataInfo, to_model_range, to_uint8
from ganzoo.files.safe import atomic_write
from ganzoo.inference.data import held_out
from ganzoo.inference.draw import generate
from ganzoo.plugins.registry import Registry
from ganzoo.viz.grids import save_triples

if TYPE_CHECKING:  # pragma: no cover
    import numpy

    from ganzoo.inference.models import TrainedModel


MAX_PNG_IMAGES = 10_000
"""Most images ``ganzoo sample`` draws into one PNG (``--grid``, ``--interpolate``, ``--vary``):
a 100x100 grid, 6,600 pixels square for 64x64 images."""
MAX_NPZ_BYTES = 2**30
"""Most bytes of samples ``ganzoo sample --n`` keeps in memory and writes (uint8 images or
float32 points): 1 GiB, e.g. 1,369,568 MNIST digits or 87,381 RGB images of 64x64."""


def check_png_request(images: int, what: str) -> None:
    """Refuse (``ValueError``) a picture of more than :data:`MAX_PNG_IMAGES` images, before any is drawn."""
    if images > MAX_PNG_IMAGES:
        raise ValueError(f"{what} asks for {images:,} images in one PNG; the limit is {MAX_PNG_IMAGES:,}")


def check_npz_request(n: int, info: DataInfo) -> None:
    """Refuse (``ValueError``) ``n`` samples of ``info``'s shape over :data:`MAX_NPZ_BYTES`, before any is drawn."""
    values = n
    for size in info.shape:
        values *= size
    size = values * (1 if len(info.shape) == 3 else 4)
    if size > MAX_NPZ_BYTES:
        most = MAX_NPZ_BYTES // max(1, size // n)
        raise ValueError(
            f"--n {n:,} samples of shape {tuple(info.shape)} take {size / 2**30:,.1f} GiB; the limit "
            f"is {MAX_NPZ_BYTES // 2**30} GiB ({most:,} samples of this model); draw several files "
            f"with different --seed"
        )


def save_npz(samples: torch.Tensor, info: DataInfo, path: Path, labels: Optional[torch.Tensor] = None) -> Path:
    """``images`` as uint8 ``(N, H, W)`` for one channel, ``(N, H, W, C)`` otherwise (or
    float ``points``), plus ``labels`` when the samples were conditioned on classes;
    written through a temporary file, so a failure leaves no half file. Images may come in
    the model range or already as uint8 (:func:`to_data_format`)."""
    arrays = {"images": _pixels(samples)} if len(info.shape) == 3 else {"points": samples.float().numpy()}
    if labels is not None:
        arrays["labels"] = labels.numpy()
    return _save_arrays(path, arrays)


def _pixels(images: torch.Tensor) -> "numpy.ndarray":
    """Images (model range, or uint8 already) as uint8 ``(N, H, W)`` for one channel,
    ``(N, H, W, C)`` otherwise: how an ``.npz`` of ``ganzoo sample`` holds them."""
    pixels = (images if images.dtype == torch.uint8 else to_uint8(images)).permute(0, 2, 3, 1)
    return (pixels[..., 0] if pixels.shape[-1] == 1 else pixels).numpy()


def _save_arrays(path: Path, arrays: dict[str, "numpy.ndarray"]) -> Path:
    """``numpy.savez`` through a temporary file, so a failure leaves no half file."""
    import numpy

    atomic_write(path, lambda file: numpy.savez(file, allow_pickle=True, **arrays))  # the default, named: not an array
    return path


def grid_shape(text: str) -> tuple[int, int]:
    """``"8x8"`` -> ``(8, 8)`` (rows, columns)."""
    rows, sep, cols = text.lower().partition("x")
    if not (sep and rows.isdigit() and cols.isdigit() and int(rows) > 0 and int(cols) > 0):
        raise ValueError(f"expected ROWSxCOLUMNS such as 8x8, got {text!r}")
    return int(rows), int(cols)


def sample_pairs(
    model: TrainedModel, registry: Registry, out: Path, n: int, *, seed: int, grid: bool
) -> tuple[Path, int]:
    """A translator's outputs for the first ``n`` held-out pairs: a PNG of (condition,
    output, target) rows when ``grid``, else an .npz of uint8 ``images`` (the outputs),
    ``conditions`` and ``targets``. Returns the path written and the pair count."""
    pairs = held_out(model.recipe, registry)
    conditions = to_model_range(torch.as_tensor(pairs.condition)[:n])
    targets = to_model_range(pairs.samples[:n])
    outputs = generate(
        model.generator, model.architecture, len(conditions), device=model.device, seed=seed, labels=conditions
    )
    if grid:
        return save_triples(conditions, outputs, targets, out.with_suffix("")), len(conditions)
    arrays = {"images": _pixels(outputs), "conditions": _pixels(conditions), "targets": _pixels(targets)}
    return _save_arrays(out, arrays), len(conditions)
