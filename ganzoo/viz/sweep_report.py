"""``ganzoo report SWEEP``: one HTML page about a sweep: every trial in a table (its state, its
value with the spread over seeds, its parameters, its run folders), the metric against each
hyperparameter, and the best trial's last sample grids. Like the run report, everything is
embedded: the page opens from disk with no server."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any, Optional

from ganzoo import __version__
from ganzoo.api.errors import GanzooError
from ganzoo.files.safe import atomic_write_text, read_text, write_target
from ganzoo.recipe import bounded_yaml
from ganzoo.runfolder.layout import RunFolder, SweepFolder
from ganzoo.viz.report import STYLE, _data_uri, _e


def load_trials(folder: SweepFolder, storage: Optional[str] = None) -> tuple[dict[str, Any], list[Any]]:
    """The sweep's settings (its sweep.yaml) and every trial of its study."""
    try:
        import optuna
    except ImportError:
        raise GanzooError("a sweep's report reads its Optuna study: pip install optuna") from None
    settings = bounded_yaml.load(read_text(folder.settings, limit=1_000_000, what="sweep file")) or {}
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.load_study(study_name=folder.name, storage=folder.storage_url(storage))
    except KeyError:
        raise GanzooError(f"{folder.path} holds no study named {folder.name!r} (no trial has started yet?)") from None
    return settings, study.get_trials(deepcopy=False)


def value_of(trial: Any, key: str, space: dict[str, Any]) -> Any:
    """A trial's value of ``key``: a choice or a grid value is stored as its JSON text."""
    value = trial.params.get(key)
    categorical = isinstance(space.get(key), dict) and ("choice" in space[key] or "grid" in space[key])
    return json.loads(value) if categorical and isinstance(value, str) else value


def _trial_rows(trials: list[Any], keys: list[str], space: dict[str, Any]) -> str:
    head = "".join(f"<th><code>{_e(key)}</code></th>" for key in keys)
    body = ""
    for trial in trials:
        value = "" if trial.value is None else f"{trial.value:.4g}"
        if "std" in trial.user_attrs:
            value += f" ± {trial.user_attrs['std']:.3g}"
        params = "".join(f"<td>{_e(json.dumps(value_of(trial, key, space)))}</td>" for key in keys)
        runs = "<br>".join(_e(Path(run).name) for run in trial.user_attrs.get("runs", []))
        body += f"<tr><th>{trial.number}</th><td>{_e(trial.state.name.lower())}</td><td>{value}</td>{params}<td>{runs}</td></tr>"
    return (
        f'<table class="metrics"><thead><tr><th>trial</th><th>state</th><th>value</th>{head}<th>runs</th></tr>'
        f"</thead><tbody>{body}</tbody></table>"
    )


def _against(trials: list[Any], key: str, metric: str, space: dict[str, Any]) -> str:
    """The metric of every finished trial against one hyperparameter, as an embedded PNG."""
    from matplotlib.figure import Figure

    points = [
        (value_of(trial, key, space), trial.value)
        for trial in trials
        if trial.value is not None and key in trial.params
    ]
    figure = Figure(figsize=(4, 3), dpi=100)
    axes = figure.add_subplot()
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _ in points)
    xs = [x if numeric else json.dumps(x) for x, _ in points]
    axes.scatter(xs, [y for _, y in points], s=18)
    if numeric and any(k.startswith("log_") for k in (space.get(key) or {})):
        axes.set_xscale("log")
    axes.set_xlabel(key)
    axes.set_ylabel(metric)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="plot" src="data:image/png;base64,{data}" alt="{_e(metric)} against {_e(key)}">'


def _best(trials: list[Any], direction: str) -> Optional[Any]:
    done = [trial for trial in trials if trial.value is not None]
    if not done:
        return None
    return (min if direction == "minimize" else max)(done, key=lambda trial: trial.value)


def build_sweep_report(folder: SweepFolder, out: Path, storage: Optional[str] = None) -> Path:
    """Write the sweep's page to ``out`` and return its path."""
    settings, trials = load_trials(folder, storage)
    space, metric = settings.get("space") or {}, settings.get("metric", "fid/classifier")
    keys = list(space)
    best = _best(trials, settings.get("direction", "minimize"))
    grids = []
    for run in best.user_attrs.get("runs", []) if best else []:
        found = RunFolder(Path(run)).grids()
        if found:
            grids.append(
                f'<figure><img src="{_data_uri(found[-1][1])}" alt="{_e(Path(run).name)}">'
                f"<figcaption>{_e(Path(run).name)}, step {found[-1][0]:,}</figcaption></figure>"
            )
    plots = "".join(f"<div>{_against(trials, key, metric, space)}</div>" for key in keys)
    summary = (
        f"trial {best.number}: {metric} {best.value:.4g} with "
        + ", ".join(f"<code>{_e(k)}={_e(json.dumps(value_of(best, k, space)))}</code>" for k in best.params)
        if best
        else "no trial has finished yet"
    )
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>ganzoo sweep: {_e(folder.name)}</title>',
            f"<style>{STYLE} .plots {{ display: flex; flex-wrap: wrap; gap: 1rem; }}</style></head><body>",
            f"<h1>ganzoo sweep: {_e(folder.name)}</h1>",
            f'<p class="note">{len(trials)} trial(s) of {_e(settings.get("trials", "?"))}, {_e(metric)} '
            f"({_e(settings.get('direction', 'minimize'))}), written {_e(time.strftime('%Y-%m-%d %H:%M'))} by "
            f"ganzoo {_e(__version__)}. Everything on this page is embedded in it.</p>",
            f'<h2>Best</h2><p>{summary}</p><div class="plots">{"".join(grids)}</div>',
            f'<h2>{_e(metric)} against each hyperparameter</h2><div class="plots">{plots}</div>',
            f'<h2>Every trial</h2><div class="scroll">{_trial_rows(trials, keys, space)}</div>',
            "</body></html>",
        ]
    )
    try:
        atomic_write_text(write_target(out), page + "\n")
    except OSError as error:
        raise GanzooError(f"cannot write {out}: {error.strerror or error}") from None
    return out
