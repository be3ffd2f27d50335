"""Training curves as PNG files: the losses, and D's scores on real and generated samples.

People read a GAN's health off these two plots faster than off its logs: the losses show
whether D and G are still fighting, the scores whether D(x) and D(G(z)) drift towards the
0.5 of the equilibrium or D wins outright. Scalars that name a ``group`` (D on training and
held-out images, an augmentation's probability) get a plot per group beside them. The plots are redrawn while training runs, so
each file is written atomically (:func:`ganzoo.files.safe.atomic_write`): a viewer that
refreshes never sees half a PNG.

matplotlib's object API is used without pyplot: no global figure state and no GUI
backend, whatever ``MPLBACKEND`` says.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

from ganzoo.api.scalars import CORE, Infos, label
from ganzoo.files.safe import atomic_write_bytes

# One PNG per group; a group is drawn when at least one of its scalars was logged.
CURVES = {
    "losses": ("d_loss", "g_loss"),
    "scores": ("d_real", "d_fake"),
}
STANDARD = [key for keys in CURVES.values() for key in keys]
"""The scalars most runs log, in the order tables show them."""


def curve_groups(infos: Infos = CORE) -> dict[str, tuple[str, ...]]:
    """The plots, by file stem, and the scalars each draws: :data:`CURVES`, then every
    ``group`` that ``infos`` names."""
    groups = {name: list(keys) for name, keys in CURVES.items()}
    for key, info in infos.items():
        if info.group and key not in STANDARD:
            groups.setdefault(info.group, []).append(key)
    return {name: tuple(keys) for name, keys in groups.items()}


def draw_curves(rows: Iterable[dict[str, float]], folder: Path, infos: Infos = CORE) -> list[Path]:
    """Draw ``folder/losses.png``, ``folder/scores.png`` and a plot per group of
    :func:`curve_groups` from logged rows (each with a ``step``, as in ``metrics.jsonl``),
    each when one of its scalars was logged, and return the paths written. ``infos`` names
    the scalars (see :mod:`ganzoo.api.scalars`): the loss's own labels."""
    rows = list(rows)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, keys in curve_groups(infos).items():
        series = {key: [(row["step"], row[key]) for row in rows if key in row] for key in keys}
        series = {key: points for key, points in series.items() if points}
        if series:
            path = folder / f"{name}.png"
            title = " and ".join(label(key, infos) for key in keys)
            _plot(series, path, title, infos, scores=name == "scores" and _probabilities(infos))
            written.append(path)
    return written


def _probabilities(infos: Infos) -> bool:
    """Whether the scores are probabilities, to be drawn in [0, 1] with the 0.5 of the equilibrium."""
    return all(key in infos and infos[key].probability for key in CURVES["scores"])


def _plot(series: dict[str, list[tuple[float, float]]], path: Path, title: str, infos: Infos, scores: bool) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.2), dpi=100)
    figure.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.15)
    axes = figure.add_subplot()
    for key, points in series.items():
        steps, values = zip(*points)
        axes.plot(steps, values, label=label(key, infos), linewidth=1.2, marker="." if len(steps) < 20 else None)
    if scores:
        axes.axhline(0.5, color="0.6", linewidth=0.8, linestyle="--", label="equilibrium (0.5)")
        axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("step")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
