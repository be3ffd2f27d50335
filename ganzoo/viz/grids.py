"""Pictures of samples: an image grid for images, a scatter plot for 2-D points. Every
picture is written atomically (:func:`ganzoo.files.safe.atomic_write`): a viewer never sees
half a PNG, and a link planted where it goes is replaced, not followed."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Optional

import torch
from PIL import Image

from ganzoo.api import to_uint8
from ganzoo.files.safe import atomic_write, atomic_write_bytes


def save_samples(
    samples: torch.Tensor,
    stem: Path,
    real: Optional[torch.Tensor] = None,
    title: str = "",
    columns: Optional[int] = None,
) -> Path:
    """Draw samples to ``stem.png`` and return the path written.

    Images ``(N, C, H, W)`` in [-1, 1] become a grid (square unless ``columns`` is given); points ``(N, 2)`` a scatter plot
    over the real points (grey). Samples of any other shape cannot be drawn and are kept as
    they are in ``stem.pt``, so that a plugin with unusual data still trains."""
    path = stem.with_suffix(".png")
    if samples.dim() == 4 and samples.shape[1] in (1, 3):
        import torchvision.utils  # imported here: it costs a second and points need none of it

        grid = torchvision.utils.make_grid(
            to_uint8(samples), nrow=columns or int(math.ceil(math.sqrt(len(samples)))), padding=2
        )
        save_png(grid, path)
    elif samples.dim() == 2 and samples.shape[1] == 2:
        _scatter(samples, path, real, title)
    else:
        path = stem.with_suffix(".pt")
        atomic_write(path, lambda file: torch.save(samples, file))
    return path


def save_png(image: torch.Tensor, path: Path) -> Path:
    """A uint8 ``(C, H, W)`` image as a PNG, written atomically."""
    buffer = io.BytesIO()
    pixels = image.permute(1, 2, 0).numpy()
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_triples(conditions: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor, stem: Path) -> Path:
    """Paired data: one row per sample, (condition, output, target) side by side, to
    ``stem.png``. All three are images in [-1, 1] of the same size; a one-channel
    condition beside colour images is drawn grey."""
    import torchvision.utils

    images = [conditions.cpu(), outputs.cpu(), targets.cpu()]
    channels = max(image.shape[1] for image in images)
    images = [image.expand(-1, channels, -1, -1) if image.shape[1] == 1 else image for image in images]
    rows = torch.stack(images, dim=1).flatten(0, 1)  # c0, o0, t0, c1, o1, t1, ...
    grid = torchvision.utils.make_grid(to_uint8(rows), nrow=3, padding=2)
    return save_png(grid, stem.with_suffix(".png"))


def _scatter(points: torch.Tensor, path: Path, real: Optional[torch.Tensor], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 4), dpi=100)
    if real is not None:
        axes.scatter(real[:, 0], real[:, 1], s=2, c="0.75", label="data")
    axes.scatter(points[:, 0], points[:, 1], s=4, c="tab:red", label="generated")
    axes.set_aspect("equal")
    axes.set_title(title)
    axes.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
