"""``ganzoo report``: one HTML page that shows one or more runs side by side.

The page holds the recipes (and, for several runs, the keys where they differ), a table
of the last value of every logged scalar (a callback's own included), what ``ganzoo eval``
measured, the curves (for several runs, also on shared axes), the last sample grid and the
progress video of every run. Every picture and video is embedded in the page as a ``data:`` URI:
the report is one file that opens from disk, in any browser, with no server and no
network, and that can be mailed or attached as it is.

Only what a run folder holds is read; nothing is trained or evaluated. A run that is
still going, or that stopped early, is shown with what it has so far.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml
from tqdm import tqdm

from ganzoo import __version__
from ganzoo.api.errors import GanzooError
from ganzoo.api.scalars import ScalarInfo, label, scalar_infos
from ganzoo.files.safe import UnsafeFile, atomic_write_text, output_problem, read_bytes, write_target
from ganzoo.recipe import bounded_yaml
from ganzoo.runfolder.jsonl import read_rows
from ganzoo.runfolder.layout import RunFolder
from ganzoo.viz.curves import CURVE_FILES, NOT_CURVES, OTHER, STANDARD, draw_comparison, draw_curves


@dataclass
class RunView:
    """What the report shows of one run folder."""

    folder: Path
    recipe_text: str
    recipe: dict[str, Any]
    rows: list[dict[str, Any]]
    status: str
    grids: list[tuple[int, Path]]
    video: Optional[Path]
    curves: list[Path] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    """The records of ``eval.jsonl``: what ``ganzoo eval`` (and ``eval.every``) measured."""
    html: dict[str, str] = field(default_factory=dict)
    """Each section's cell, with the files embedded (filled in by :func:`build_report`)."""

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def scalars(self) -> dict[str, ScalarInfo]:
        """How this run's loss names its scalars (see :mod:`ganzoo.api.scalars`)."""
        return infos_for_recipe(self.recipe)

    @property
    def last(self) -> dict[str, Any]:
        """The last logged value of every scalar (a callback logs its own in rows of their
        own), with the step and epoch of the last row the loop logged."""
        merged: dict[str, Any] = {}
        for row in self.rows:
            merged.update(row)
        loop_rows = [row for row in self.rows if "d_loss" in row]
        if loop_rows:
            merged.update({key: loop_rows[-1][key] for key in ("step", "epoch") if key in loop_rows[-1]})
        return merged


def infos_for_recipe(recipe: dict[str, Any]) -> dict[str, ScalarInfo]:
    """The names for a run of a resolved recipe (``recipe.yaml`` of a run folder), from the
    installed plugins that provide its loss and its augmentation; the core's alone for one
    that is not installed."""
    from ganzoo.plugins import Registry, make_plugin_manager  # the plugin host, only when a report asks

    registry = Registry.from_plugin_manager(make_plugin_manager())

    def installed(section: str, kind: str) -> Optional[type]:
        spec = recipe.get(section)
        name = spec.get("name") if isinstance(spec, dict) else None
        return registry.get(kind, name) if isinstance(name, str) and name in registry.names(kind) else None

    return scalar_infos(installed("loss", "loss"), installed("augment", "augmentation"))


def load_run(folder: Path) -> RunView:
    """Read a run folder, or raise :class:`GanzooError` saying why it is not one."""
    if not folder.exists():
        raise GanzooError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise GanzooError(f"{folder} is not a run folder: give the folder `ganzoo run` printed")
    layout = RunFolder(folder)
    recipe_path = layout.recipe
    if not recipe_path.is_file():
        inside = sorted(child.name for child in folder.iterdir() if RunFolder(child).recipe.is_file())
        if inside:
            raise GanzooError(
                f"{folder} is not a run folder, but holds {len(inside)} run folder(s) "
                f"({', '.join(inside[:3])}{', ...' if len(inside) > 3 else ''}); name them, "
                f"e.g. ganzoo report {folder / inside[0]}"
            )
        raise GanzooError(f"{folder} is not a run folder: it has no recipe.yaml (give the folder `ganzoo run` printed)")
    try:
        recipe_text = bounded_yaml.read_text(recipe_path)
        recipe = bounded_yaml.load(recipe_text) or {}
    except bounded_yaml.BoundError as error:
        where = f" at {error.key}" if error.key else ""
        raise GanzooError(f"{recipe_path} cannot be read{where}: {error}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise GanzooError(f"{recipe_path} cannot be read: {' '.join(str(error).split())}") from None
    if not isinstance(recipe, dict):
        raise GanzooError(f"{recipe_path} is not a recipe (not a mapping)")
    video = layout.video()
    drawn = sorted(path for path in layout.curves.glob("*.png") if path.is_file()) if layout.curves.is_dir() else []
    curves = sorted(drawn, key=_curve_order)
    rows = read_rows(layout.metrics)
    evaluations = read_rows(layout.evaluations)
    return RunView(folder, recipe_text, recipe, rows, _status(layout), layout.grids(), video, curves, evaluations)


def _curve_order(path: Path) -> tuple[int, str]:
    """The standard plots first, then a loss's or an augmentation's own groups, then the rest."""
    stem = path.stem
    return (CURVE_FILES.index(stem) if stem in CURVE_FILES[:-1] else len(CURVE_FILES) + (stem == OTHER), stem)


def _status(layout: RunFolder) -> str:
    if layout.weights.is_file():
        return "finished"
    checkpoints = layout.step_checkpoints()
    if checkpoints:
        return f"stopped early, checkpoint at step {checkpoints[-1][0]} (ganzoo run --resume to continue)"
    return "no weights yet (running, or killed)"


def build_report(folders: Sequence[Path], out: Path, *, progress: bool = True) -> Path:
    """Write the report on ``folders`` to ``out`` and return its path. Every folder and
    ``out`` are checked before anything is written; a symlink ``out`` is written through."""
    problem = output_problem(Path(out))
    if problem:
        raise GanzooError(problem)
    runs = [load_run(Path(folder)) for folder in folders]
    with (
        tempfile.TemporaryDirectory(prefix="ganzoo-report-") as scratch,
        tqdm(total=len(runs), desc="report", unit="run", disable=not progress, dynamic_ncols=True) as bar,
    ):
        for index, run in enumerate(runs):
            if not run.curves and run.rows:  # a run folder without curves (they were not drawn): draw them here
                run.curves = draw_curves(run.rows, Path(scratch) / str(index), run.scalars)
            bar.set_postfix_str(run.name, refresh=False)
            run.html = _run_cells(run)  # embeds the files: the slow part
            bar.update(1)
        shared = None
        if len(runs) > 1:
            shared = draw_comparison(
                {run.name: run.rows for run in runs}, Path(scratch) / "shared.png", runs[0].scalars
            )
        page = _page(runs, _data_uri(shared) if shared is not None else None)
    try:
        atomic_write_text(write_target(out), page)
    except OSError as error:
        raise GanzooError(f"cannot write {out}: {error.strerror or error}") from None
    return out


# --------------------------------------------------------------------------- HTML


MAX_EMBEDDED_BYTES = 256 * 2**20
"""Largest file embedded in a page (a progress video of a long run is a few megabytes)."""


def _data_uri(path: Path) -> str:
    """The file as a ``data:`` URI; a file that is not a regular one, or is too large to
    embed, is one line of :class:`GanzooError`."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    try:
        data = read_bytes(path, limit=MAX_EMBEDDED_BYTES, what="picture or video to embed")
    except (UnsafeFile, OSError) as error:
        raise GanzooError(f"cannot embed {path}: {getattr(error, 'reason', None) or error}") from None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else _e(value)


def _run_cells(run: RunView) -> dict[str, str]:
    """The HTML of each section's cell for one run."""
    cells = {}
    cells["curves"] = (
        "".join(
            f'<img class="plot" src="{_data_uri(path)}" alt="{_e(path.stem)} of {_e(run.name)}">' for path in run.curves
        )
        or '<p class="none">no logged scalars yet</p>'
    )
    if run.grids:
        step, path = run.grids[-1]
        cells["grid"] = (
            f'<figure><img class="grid" src="{_data_uri(path)}" alt="last sample grid of {_e(run.name)}">'
            f"<figcaption>step {step:,} (grid {len(run.grids)} of {len(run.grids)})</figcaption></figure>"
        )
    else:
        cells["grid"] = '<p class="none">no sample grid yet</p>'
    if run.video is None:
        cells["video"] = '<p class="none">no progress video (it is made when a run finishes)</p>'
    elif run.video.suffix == ".gif":
        cells["video"] = f'<img class="video" src="{_data_uri(run.video)}" alt="progress video of {_e(run.name)}">'
    else:
        cells["video"] = (
            f'<video class="video" src="{_data_uri(run.video)}" controls loop muted autoplay playsinline '
            f'preload="auto" title="progress video of {_e(run.name)}"></video>'
        )
    cells["recipe"] = f"<pre>{_e(run.recipe_text)}</pre>"
    return cells


def _metrics_table(runs: list[RunView]) -> str:
    keys = [key for key in STANDARD if any(key in run.last for run in runs)]
    keys += sorted({key for run in runs for key in run.last} - set(keys) - set(NOT_CURVES))
    infos = [run.scalars for run in runs]
    head = "".join(f"<th>{_e(key)}</th>" for key in ["run", "status", "step", "epoch"])
    for key in keys:  # the loss's label when every run's loss gives the same one, with its meaning on hover
        labels = {label(key, i) for i in infos}
        meanings = {i[key].description for i in infos if key in i and i[key].description}
        title = f' title="{_e(" / ".join(sorted(meanings)))}"' if meanings else ""
        head += f"<th{title}>{_e(labels.pop() if len(labels) == 1 else key)}</th>"
    body = ""
    for run in runs:
        values = [run.last.get(key, "") for key in ["step", "epoch", *keys]]
        body += (
            f"<tr><th>{_e(run.name)}</th><td>{_e(run.status)}</td>"
            + "".join(f"<td>{_number(value)}</td>" for value in values)
            + "</tr>"
        )
    return (
        f'<table class="metrics"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        '<p class="note">The last logged value of every scalar of each run: the loop\'s are means over '
        "<code>train.log_every</code> steps; a callback's and an evaluation's are as they logged them. "
        "Step and epoch are those of the loop's last row.</p>"
    )


def _evaluations_table(runs: list[RunView]) -> str:
    """One row per evaluation of each run (``eval.jsonl``): its step, what it sampled from,
    the sample counts, and every value; each value's extractor on hover."""
    records = [(run, record) for run in runs for record in run.evaluations if isinstance(record.get("results"), list)]
    results = [(run, record, r) for run, record in records for r in record["results"] if isinstance(r, dict)]
    keys = list(dict.fromkeys(str(r.get("key")) for _, _, r in results))
    if not keys:
        return '<p class="none">no evaluation yet (<code>ganzoo eval RUN</code> measures one)</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in ["run", "step", "source", "samples"])
    head += "".join(f"<th>{_e(key)}</th>" for key in keys)
    body = ""
    for run, record in records:
        values = {str(r.get("key")): r for r in record["results"] if isinstance(r, dict)}
        counts = sorted({f"{r.get('n_fake')} vs {r.get('n_real')}" for r in values.values()})
        cells = "".join(
            f'<td title="{_e(values[key].get("extractor") or values[key].get("metric") or "")}">'
            f"{_number(values[key].get('value'))}</td>"
            if key in values
            else "<td></td>"
            for key in keys
        )
        body += (
            f"<tr><th>{_e(run.name)}</th><td>{_number(record.get('step', ''))}</td>"
            f"<td>{_e(record.get('source', ''))}</td><td>{_e(', '.join(counts))}</td>{cells}</tr>"
        )
    return (
        f'<table class="metrics"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        '<p class="note">Every evaluation recorded in each run\'s <code>eval.jsonl</code>; samples are '
        "generated vs real, and each value's feature extractor shows on hover. Values compare only "
        "at the same sample counts and extractor.</p>"
    )


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """A nested recipe as dotted keys: ``{"loss": {"name": "bce"}}`` -> ``{"loss.name": "bce"}``."""
    if isinstance(tree, dict) and tree:
        flat = {}
        for key, value in tree.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: tree}


def differing_keys(recipes: Sequence[dict[str, Any]]) -> list[str]:
    """The dotted recipe keys whose values differ between the recipes (absent counts as a value)."""
    flats = [flatten(recipe) for recipe in recipes]
    keys = sorted({key for flat in flats for key in flat})
    missing = object()
    return [key for key in keys if len({json.dumps(flat.get(key, missing), default=str) for flat in flats}) > 1]


def _differences(runs: list[RunView]) -> str:
    """The recipe keys whose values differ between the runs."""
    flats = [flatten(run.recipe) for run in runs]
    differing = differing_keys([run.recipe for run in runs])
    if not differing:
        return '<p class="note">The runs\' recipes are identical.</p>'
    head = "".join(f"<th>{_e(run.name)}</th>" for run in runs)
    body = "".join(
        f"<tr><th><code>{_e(key)}</code></th>"
        + "".join(f"<td>{_e(json.dumps(flat[key], default=str)) if key in flat else '(absent)'}</td>" for flat in flats)
        + "</tr>"
        for key in differing
    )
    return f'<table class="diff"><thead><tr><th>recipe key</th>{head}</tr></thead><tbody>{body}</tbody></table>'


SECTIONS = [
    (
        "curves",
        "Curves",
        "d_loss and g_loss; d_real and d_fake, the loss's measure on real and generated samples, under the labels the loss gives them (D(x) and D(G(z)) for the probability losses); each network's learning rate; every other logged scalar (a callback's, an evaluation's), one small plot each.",
    ),
    ("grid", "Last sample grid", "Samples from the run's fixed noise at its last grid."),
    ("video", "Progress video", "Every sample grid of the run, in order."),
    ("recipe", "Recipe", "The fully resolved recipe.yaml of the run: <code>ganzoo run</code> accepts it as it is."),
]

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin: 1.8rem 0 0.4rem; }
.note, .none { color: #666; } .none { font-style: italic; }
table { border-collapse: collapse; margin: 0.4rem 0; } th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; }
thead th { background: #f4f4f4; } tbody th { text-align: left; }
td { font-variant-numeric: tabular-nums; text-align: right; }
table.diff td { text-align: left; font-family: ui-monospace, monospace; }
.scroll { overflow-x: auto; }
.runs { display: grid; grid-template-columns: repeat(var(--runs), minmax(320px, 1fr)); gap: 1rem; }
.runs > div { min-width: 0; } .runs > .full { grid-column: 1 / -1; margin-bottom: 0; }
.runs h3 { font-size: 1rem; margin: 0 0 0.3rem; word-break: break-all; }
img, video { display: block; max-width: 100%; margin-bottom: 0.5rem; }
img.grid, img.video, video.video { image-rendering: pixelated; }
img.grid { width: auto; }  /* at its own pixels: a small grid is not blown up to the column */
figure { margin: 0; } figcaption { color: #666; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 0.6rem; overflow: auto; max-height: 28rem; font-size: 12px; }
"""


def _page(runs: list[RunView], shared: Optional[str] = None) -> str:
    """The page; ``shared`` is the data URI of the runs' curves on shared axes (several runs)."""
    names = ", ".join(run.name for run in runs)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>ganzoo report: {_e(names)}</title>',
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>',
        f'<body style="--runs: {len(runs)}"><h1>ganzoo report</h1>',
        f'<p class="note">{len(runs)} run(s), written {_e(time.strftime("%Y-%m-%d %H:%M"))} by ganzoo {_e(__version__)}. '
        "Everything on this page is embedded in it.</p>",
        "<h2>Final metrics</h2>",
        f'<div class="scroll">{_metrics_table(runs)}</div>',
    ]
    parts += ["<h2>Evaluations</h2>", f'<div class="scroll">{_evaluations_table(runs)}</div>']
    if len(runs) > 1:
        parts += ["<h2>Recipe differences</h2>", f'<div class="scroll">{_differences(runs)}</div>']
    if shared is not None:
        parts += [
            '<h2 id="shared-curves">Curves on shared axes</h2>',
            '<p class="note">Every logged scalar, one plot each, with one line per run.</p>',
            f'<img class="plot" src="{shared}" alt="the runs\' curves on shared axes">',
        ]
    # One grid for every section, so that each run keeps its column all the way down.
    grid = ["<h2>Runs side by side</h2>", '<div class="scroll"><div class="runs">']
    grid += [f'<div><h3>{_e(run.name)}</h3><span class="note">{_e(run.folder)}</span></div>' for run in runs]
    for key, title, note in SECTIONS:
        grid.append(f'<h2 class="full" id="{key}">{title}</h2><p class="note full">{note}</p>')
        grid += [f"<div>{run.html[key]}</div>" for run in runs]
    parts += [*grid, "</div></div>", "</body></html>"]
    return "\n".join(parts) + "\n"
