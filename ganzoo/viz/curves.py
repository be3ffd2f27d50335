"""Training curves as PNG files: the losses, D's scores on real and generated samples, the
learning rates, and every other logged scalar (a callback's own, an evaluation's).

People read a GAN's health off these plots faster than off its logs: the losses show
whether D and G are still fighting, the scores whether D(x) and D(G(z)) drift towards the
0.5 of the equilibrium or D wins outright. Scalars that name a ``group`` (D on training and
held-out images, an augmentation's probability) get a plot per group beside them. The plots are redrawn while training runs, so
each file is written atomically (:func:`ganzoo.files.safe.atomic_write`): a viewer that
refreshes never sees half a PNG. :func:`draw_comparison` draws several runs on shared axes.

matplotlib's object API is used without pyplot: no global figure state and no GUI
backend, whatever ``MPLBACKEND`` says.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Optional

from ganzoo.api.scalars import CORE, Infos, label
from ganzoo.files.safe import atomic_write_bytes

# One PNG per group; a group is drawn when at least one of its scalars was logged.
CURVES = {
    "losses": ("d_loss", "g_loss"),
    "scores": ("d_real", "d_fake"),
    "learning_rates": ("lr/generator", "lr/discriminator"),
}
STANDARD = [*CURVES["losses"], *CURVES["scores"]]
"""The scalars most losses log, in the order tables and the progress bar show them."""
OTHER = "other"
"""The PNG of every scalar outside the groups, one small plot each."""
CURVE_FILES = [*CURVES, OTHER]
"""Every PNG :func:`draw_curves` may write, in the order pages show them."""
NOT_CURVES = ("step", "epoch", "eval_n")
"""Logged with the scalars, but no curve of their own."""


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
    other = other_scalars(rows, infos)
    if other:
        path = folder / f"{OTHER}.png"
        _small_multiples({key: {"": _points(rows, key)} for key in other}, path, infos)
        written.append(path)
    return written


def other_scalars(rows: list[dict[str, float]], infos: Infos = CORE) -> list[str]:
    """The logged scalars that no plot of :func:`curve_groups` draws, in the order they were
    first logged."""
    grouped = {key for keys in curve_groups(infos).values() for key in keys}
    seen = dict.fromkeys(key for row in rows for key in row)
    return [key for key in seen if key not in grouped and key not in NOT_CURVES]


def _points(rows: list[dict[str, float]], key: str) -> list[tuple[float, float]]:
    return [(row["step"], row[key]) for row in rows if isinstance(row.get(key), (int, float)) and "step" in row]


def draw_comparison(runs: dict[str, list[dict[str, float]]], path: Path, infos: Infos = CORE) -> Optional[Path]:
    """Several runs on shared axes: one small plot per logged scalar, one line per run (named
    by the keys of ``runs``). None when no run logged anything."""
    keys = [key for group in curve_groups(infos).values() for key in group]
    keys += [key for rows in runs.values() for key in other_scalars(rows, infos)]
    panels = {}
    for key in dict.fromkeys(keys):
        lines = {name: _points(rows, key) for name, rows in runs.items()}
        if any(lines.values()):
            panels[key] = {name: points for name, points in lines.items() if points}
    if not panels:
        return None
    _small_multiples(panels, path, infos)
    return path


def _small_multiples(panels: dict[str, dict[str, list[tuple[float, float]]]], path: Path, infos: Infos) -> None:
    """One small plot per scalar (``{scalar: {line label: points}}``), four to a row."""
    from matplotlib.figure import Figure

    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(3.2 * columns, 2.4 * rows), dpi=100, layout="constrained")
    labelled = False
    for index, (key, lines) in enumerate(panels.items()):
        axes = figure.add_subplot(rows, columns, index + 1)
        for name, points in lines.items():
            steps, values = zip(*points)
            axes.plot(steps, values, label=name or None, linewidth=1.1, marker="." if len(steps) < 20 else None)
        axes.set_title(label(key, infos), fontsize=9)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        if any(lines) and not labelled:  # one legend names the runs for every plot
            axes.legend(fontsize=7, loc="best")
            labelled = True
    figure.supxlabel("step", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())


def _probabilities(infos: Infos) -> bool:
    """Whether the scores are probabilities, to be drawn in [0, 1] with the 0.5 of the equilibrium."""
    return all(key in infos and infos[key].probability for key in CURVES["scores"])


def _plot(series: dict[str, list[tuple[float, float]]], path: Path, title: str, infos: Infos, scores: bool) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.2), dpi=100, layout="constrained")
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
