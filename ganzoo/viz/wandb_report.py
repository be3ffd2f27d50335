"""``ganzoo report --wandb ENTITY/PROJECT``: a W&B Report built from run folders.

The report is made in two steps, so that each can be checked on its own:

1. :func:`build_spec` reads run folders and writes the report's *specification*: plain,
   JSON-able data (title, description, the runs, and blocks of headings, text and panel
   grids). Nothing here needs wandb or a network; the spec is written next to the HTML
   report, versioned, tested, and saved later with ``--from-spec``.
2. :func:`to_wandb_report` turns a spec into a ``wandb_workspaces.reports.v2.Report``, and
   :func:`save_report` saves it. Saving needs a login and the network; without them it
   fails within seconds, with one line that says which is missing.

A run folder is known to W&B by the run id ganzoo keeps in ``wandb/ganzoo-run-id`` (the
wandb run of a ganzoo run keeps that id across resumes and ``wandb sync``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from ganzoo.api.errors import GanzooError
from ganzoo.api.scalars import CORE, Infos, label
from ganzoo.files.downloads import unreachable
from ganzoo.files.safe import atomic_write_text, read_text
from ganzoo.runfolder.jsonl import read_rows
from ganzoo.runfolder.layout import RunFolder
from ganzoo.viz.curves import CURVES
from ganzoo.viz.report import build_report, differing_keys, flatten, load_run

SPEC_FORMAT = "ganzoo-wandb-report"
SPEC_VERSION = 1
TITLE_LIMIT = 128  # W&B's limit on a report title
# Recipe keys that differ between any two runs without saying anything about them.
BOOKKEEPING = ("run.", "wandb.")
# Logged scalars that are not the loss's own: the step, the epoch, and evaluation sample counts.
NOT_LOSS_SCALARS = {"step", "epoch", "d_loss", "g_loss", "eval_n"}


class ReportUsageError(GanzooError):
    """A command line the report cannot use (an unknown run, a bad ``--wandb``); exit 2."""


class SaveError(GanzooError):
    """The report could not be saved to W&B (no login, no network, refused); exit 1."""


def scalar_label(key: str, infos: Infos = CORE) -> str:
    """How a report names a logged scalar: by :mod:`ganzoo.scalars`, the one lookup."""
    return label(key, infos)


def parse_target(text: str) -> tuple[str, str]:
    """``ENTITY/PROJECT`` -> ``(entity, project)``, or :class:`ReportUsageError`."""
    parts = text.split("/")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise ReportUsageError(f"--wandb: expected ENTITY/PROJECT (e.g. my-team/ganzoo), got {text!r}")
    return parts[0].strip(), parts[1].strip()


def wandb_target(text: str) -> str:
    """An argparse ``type`` for ``--wandb ENTITY/PROJECT``: a malformed one is a usage error."""
    import argparse

    try:
        parse_target(text)
    except ReportUsageError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--wandb: ")) from None
    return text


# --------------------------------------------------------------------------- runs


@dataclass
class WandbRun:
    """What a report needs of one run folder: its wandb run id, recipe, scalars and evaluations."""

    folder: Path
    id: str
    recipe: dict[str, Any]
    scalars: list[str]
    evaluations: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def group(self) -> Optional[str]:
        return (self.recipe.get("wandb") or {}).get("group")

    @property
    def tags(self) -> list[str]:
        return list((self.recipe.get("wandb") or {}).get("tags") or [])


def load_wandb_run(folder: Path) -> WandbRun:
    """Read a run folder for a W&B report; :class:`ReportUsageError` (an unknown run) if
    it is not a run folder or never logged to wandb."""
    try:
        view = load_run(folder)
    except GanzooError as error:
        raise ReportUsageError(f"unknown run: {error}") from None
    id_file = RunFolder(folder).wandb_run_id
    run_id = read_text(id_file, limit=1000, what="wandb run id").strip() if id_file.is_file() else ""
    if not run_id:
        raise ReportUsageError(
            f"unknown run: {folder} has no wandb run (it ran with wandb.mode=disabled); "
            f"a W&B report shows runs logged with wandb.mode=offline or online"
        )
    scalars: list[str] = []
    for row in view.rows:
        scalars += [key for key in row if key not in scalars]
    return WandbRun(folder, run_id, view.recipe, scalars, read_rows(RunFolder(folder).evaluations))


def select_runs(runs: Sequence[WandbRun], group: Optional[str], tags: Sequence[str]) -> list[WandbRun]:
    """The runs in ``group`` (when given) that carry every tag of ``tags``."""
    return [run for run in runs if (group is None or run.group == group) and set(tags) <= set(run.tags)]


# --------------------------------------------------------------------------- the specification


def runset(
    name: str, *, ids: Sequence[str] = (), group: Optional[str] = None, tags: Sequence[str] = ()
) -> dict[str, Any]:
    """The runs a panel grid shows: by wandb run id, group and tags (all that are given)."""
    return {"name": name, "ids": list(ids), "group": group, "tags": list(tags)}


def line(title: str, y: list[str], x: str = "Step") -> dict[str, Any]:
    return {"type": "line", "title": title, "x": x, "y": y}


def media(title: str, key: str) -> dict[str, Any]:
    """A media browser with a step slider over one media key."""
    return {"type": "media", "title": title, "keys": [key], "axis": "step"}


def evaluation_panels(runs: Sequence[WandbRun]) -> tuple[list[dict[str, Any]], list[str]]:
    """A line plot per evaluation value, titled with its sample counts and extractors, and
    the summary keys that hold the last values. During training (``eval.every``) a value is
    logged at the training step under its own key; ``ganzoo eval`` logs it as ``eval/KEY``
    against ``eval/trained_step``."""
    seen: dict[tuple[str, bool], dict[str, set[str]]] = {}
    for run in runs:
        for entry in run.evaluations:
            by_command = entry.get("source") != "training"
            for result in entry.get("results", []):
                about = seen.setdefault((result["key"], by_command), {"n": set(), "extractor": set()})
                about["n"].add(str(result.get("n_fake")))
                extractor = result.get("extractor")
                about["extractor"].add(extractor.split(":", 1)[0] if extractor else "none")
    panels, summary = [], []
    for (key, by_command), about in sorted(seen.items()):
        n = "/".join(sorted(about["n"], key=lambda v: (len(v), v)))
        title = f"{key} (n={n}; extractor {', '.join(sorted(about['extractor']))}"
        if by_command:
            panels.append(line(title + "; ganzoo eval)", [f"eval/{key}"], x="eval/trained_step"))
            summary.append(f"eval/{key}")
        else:
            panels.append(line(title + ")", [key]))
            summary.append(key)
    return panels, summary


def training_panels(runs: Sequence[WandbRun], evaluated: Iterable[str]) -> list[dict[str, Any]]:
    """The losses, the loss's own scalars (grouped as the curves group them), the sample
    grids and the progress videos."""
    logged = [key for run in runs for key in run.scalars]
    own = [key for key in dict.fromkeys(logged) if key not in NOT_LOSS_SCALARS and key not in set(evaluated)]
    panels = [line("d_loss and g_loss", ["d_loss", "g_loss"])]
    for group in CURVES.values():
        keys = [key for key in group if key in own]
        if keys:
            panels.append(line(" and ".join(scalar_label(key) for key in keys), keys))
    grouped = {key for group in CURVES.values() for key in group}
    panels += [line(scalar_label(key), [key]) for key in own if key not in grouped]
    panels += [
        media("samples: the fixed-noise grid at each step", "samples"),
        media("progress video", "progress_video"),
    ]
    return panels


def comparison_panels(keys: Sequence[str], summary: Sequence[str]) -> list[dict[str, Any]]:
    """A run comparer (differences only), and parallel coordinates over the recipe keys that
    differ, then the final losses and evaluation values."""
    columns = [{"config": key} for key in keys] + [{"summary": key} for key in ("d_loss", "g_loss", *summary)]
    return [
        {"type": "run_comparer", "diff_only": True},
        {"type": "parallel_coordinates", "title": "recipe keys that differ, and the final values", "columns": columns},
    ]


def describe(runs: Sequence[WandbRun], keys: Sequence[str]) -> tuple[str, str]:
    """A title and a short description, from the runs' recipes and what differs between them."""
    flats = [flatten(run.recipe) for run in runs]
    setups = dict.fromkeys(
        f"{f.get('model.name', '?')} + {f.get('loss.name', '?')} on {f.get('data.name', '?')}" for f in flats
    )
    title = " / ".join(setups)
    if keys:
        title += f": {', '.join(keys)}"
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 3] + "..."
    text = f"{len(runs)} ganzoo run(s): {', '.join(run.name for run in runs)}."
    if keys:
        values = "; ".join(
            f"{key} = " + " / ".join(json.dumps(flat.get(key), default=str) for flat in flats) for key in keys
        )
        text += f" They differ in {values}."
    elif len(runs) > 1:
        text += " Their recipes are identical (apart from where the runs are written)."
    return title, text


def report_keys(runs: Sequence[WandbRun]) -> list[str]:
    """The recipe keys that differ between the runs, bookkeeping (``run.*``, ``wandb.*``) aside."""
    return [key for key in differing_keys([run.recipe for run in runs]) if not key.startswith(BOOKKEEPING)]


def build_spec(
    runs: Sequence[WandbRun], entity: str, project: str, *, group: Optional[str] = None, tags: Sequence[str] = ()
) -> dict[str, Any]:
    """The specification of a comparison report on ``runs``. With ``group`` or ``tags``,
    the panel grids show every run of W&B's project in that group or with those tags;
    otherwise the runs given, by id. Without runs (a group or tags only), the panels are
    the ones every ganzoo run has."""
    keys = report_keys(runs)
    evaluations, summary = evaluation_panels(runs)
    if runs:
        title, description = describe(runs, keys)
    else:
        title = "ganzoo runs" + (f" in group {group}" if group else "") + (f" tagged {', '.join(tags)}" if tags else "")
        description = "Every ganzoo run of the project" + title.removeprefix("ganzoo runs") + "."
    selected = runset(title[:60], ids=[] if group or tags else [run.id for run in runs], group=group, tags=tags)
    blocks: list[dict[str, Any]] = [
        {"type": "heading", "text": "Training"},
        {"type": "panels", "runset": selected, "panels": training_panels(runs, summary)},
    ]
    if evaluations:
        blocks += [
            {"type": "heading", "text": "Evaluation"},
            {"type": "panels", "runset": selected, "panels": evaluations},
        ]
    blocks += [
        {"type": "heading", "text": "What differs"},
        {"type": "panels", "runset": selected, "panels": comparison_panels(keys, summary)},
    ]
    return _spec(entity, project, title, description, runs, blocks)


def build_zoo_spec(variants: Sequence[tuple[str, WandbRun]], entity: str, project: str) -> dict[str, Any]:
    """The zoo's report: a table of the final values, every variant side by side, then one
    section per variant (several runs of a variant, such as seeds, share its section)."""
    runs = [run for _, run in variants]
    by_variant: dict[str, list[WandbRun]] = {}
    for variant, run in variants:
        by_variant.setdefault(variant, []).append(run)
    evaluations, summary = evaluation_panels(runs)
    title = f"The ganzoo zoo: {len(by_variant)} variants"
    description = (
        f"{len(runs)} run(s) of {len(by_variant)} variant(s) ({', '.join(by_variant)}), "
        "trained and evaluated by bench/zoo_results.py."
    )
    everyone = runset("the zoo", ids=[run.id for run in runs])
    blocks: list[dict[str, Any]] = [
        {"type": "heading", "text": "Final values"},
        {"type": "markdown", "text": final_values_table(variants, summary)},
        {"type": "heading", "text": "All variants"},
        {
            "type": "panels",
            "runset": everyone,
            "panels": [*evaluations, *comparison_panels(report_keys(runs), summary)],
        },
    ]
    for variant, members in by_variant.items():
        own_evaluations, own_summary = evaluation_panels(members)
        blocks += [
            {"type": "heading", "text": variant, "variant": variant},
            {
                "type": "panels",
                "runset": runset(variant, ids=[run.id for run in members]),
                "panels": [*training_panels(members, own_summary), *own_evaluations],
            },
        ]
    return _spec(entity, project, title, description, runs, blocks)


def final_values_table(variants: Sequence[tuple[str, WandbRun]], keys: Sequence[str]) -> str:
    """A markdown table: one row per run, its step and the last value of every key."""

    def last(run: WandbRun, key: str) -> str:
        bare = key.removeprefix("eval/")
        for entry in reversed(run.evaluations):
            for result in entry.get("results", []):
                if result["key"] == bare and (entry.get("source") != "training") == key.startswith("eval/"):
                    return f"{result['value']:.4g}"
        return ""

    head = ["variant", "run", "step", *keys]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for variant, run in variants:
        step = max((row.get("step", 0) for row in read_rows(RunFolder(run.folder).metrics)), default=0)
        rows.append("| " + " | ".join([variant, run.name, str(step), *(last(run, key) for key in keys)]) + " |")
    return "\n".join(rows)


def _spec(
    entity: str, project: str, title: str, description: str, runs: Sequence[WandbRun], blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "entity": entity,
        "project": project,
        "title": title,
        "description": description,
        "runs": [
            {"name": run.name, "id": run.id, "folder": str(run.folder), "group": run.group, "tags": run.tags}
            for run in runs
        ],
        "blocks": blocks,
    }


def spec_path(html: Path) -> Path:
    """Where the specification goes: next to the HTML report, ``report.html`` ->
    ``report.wandb.json``."""
    return html.with_name(f"{html.stem}.wandb.json")


def write_spec(spec: dict[str, Any], path: Path) -> Path:
    atomic_write_text(path, json.dumps(spec, indent=1) + "\n")
    return path


def read_spec(path: Path, entity: Optional[str] = None, project: Optional[str] = None) -> dict[str, Any]:
    """A specification written by ``ganzoo report --wandb``, placed in ``entity/project``
    when they are given; :class:`GanzooError` if the file is not one."""
    try:
        spec = json.loads(read_text(path, limit=MAX_SPEC_BYTES, what="report specification"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, GanzooError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else _one_line(error)
        raise GanzooError(f"{path}: cannot read the report specification: {reason}") from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise GanzooError(f'{path} is not a ganzoo report specification (no "format": "{SPEC_FORMAT}")')
    if spec.get("version") != SPEC_VERSION:
        raise GanzooError(
            f"{path}: specification version {_one_line(spec.get('version'))[:40]!r}; this ganzoo reads version "
            f"{SPEC_VERSION}"
        )
    problem = spec_problem(spec)
    if problem:
        raise GanzooError(f"{path} is not a report specification ganzoo can build: {problem}")
    if entity and project:
        spec = {**spec, "entity": entity, "project": project}
    return spec


MAX_SPEC_BYTES = 10 * 2**20
"""Largest specification read (one written for a hundred runs is well under 1 MiB)."""

PANEL_FIELDS: dict[str, tuple[str, ...]] = {
    "line": ("title", "x", "y"),
    "media": ("title", "keys", "axis"),
    "run_comparer": (),
    "parallel_coordinates": ("title", "columns"),
}
BLOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "heading": ("text",),
    "text": ("text",),
    "markdown": ("text",),
    "panels": ("runset", "panels"),
}


def spec_problem(spec: dict[str, Any]) -> Optional[str]:
    """What keeps a specification from being built (its first fault), or None."""
    for key in ("entity", "project", "title"):
        if not isinstance(spec.get(key), str):
            return f"{key!r} is not a string"
    if not isinstance(spec.get("blocks"), list):
        return "'blocks' is not a list"
    for index, block in enumerate(spec["blocks"]):
        where = f"blocks[{index}]"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_FIELDS:
            return f"{where} is not a block of a known type ({', '.join(BLOCK_FIELDS)})"
        missing = [field for field in BLOCK_FIELDS[block["type"]] if field not in block]
        if missing:
            return f"{where} has no {missing[0]!r}"
        if block["type"] == "panels":
            problem = _panels_problem(block, where)
            if problem:
                return problem
    return None


def _panels_problem(block: dict[str, Any], where: str) -> Optional[str]:
    if not isinstance(block["runset"], dict) or not isinstance(block["panels"], list):
        return f"{where}: 'runset' must be an object and 'panels' a list"
    for index, panel in enumerate(block["panels"]):
        if not isinstance(panel, dict) or panel.get("type") not in PANEL_FIELDS:
            return f"{where}.panels[{index}] is not a panel of a known type ({', '.join(PANEL_FIELDS)})"
        missing = [field for field in PANEL_FIELDS[panel["type"]] if field not in panel]
        if missing:
            return f"{where}.panels[{index}] has no {missing[0]!r}"
    return None


# --------------------------------------------------------------------------- wandb-workspaces


def to_wandb_report(spec: dict[str, Any]) -> Any:
    """The ``wandb_workspaces.reports.v2.Report`` a specification describes. Building it
    needs no network; saving it does."""
    try:
        import wandb_workspaces.reports.v2 as wr
        from wandb_workspaces import expr
    except ImportError:
        raise GanzooError("W&B reports need wandb-workspaces: pip install wandb-workspaces") from None
    entity, project = spec["entity"], spec["project"]

    def make_runset(about: dict[str, Any]) -> Any:
        filters = []
        if about.get("ids"):
            filters.append(expr.Metric("ID").isin(list(about["ids"])))
        if about.get("group"):
            filters.append(expr.Metric("Group") == about["group"])
        if about.get("tags"):
            filters += [expr.Tags().isin([tag]) for tag in about["tags"]]
        return wr.Runset(entity=entity, project=project, name=about.get("name") or "runs", filters=filters)

    def column(about: dict[str, str]) -> Any:
        metric = wr.Config(about["config"]) if "config" in about else wr.SummaryMetric(about["summary"])
        return wr.ParallelCoordinatesPlotColumn(metric=metric)

    panel_makers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "line": lambda p: wr.LinePlot(title=p["title"], x=p["x"], y=list(p["y"])),
        "media": lambda p: wr.MediaBrowser(title=p["title"], media_keys=list(p["keys"]), gallery_axis=p["axis"]),
        "run_comparer": lambda p: wr.RunComparer(diff_only="split" if p.get("diff_only") else None),
        "parallel_coordinates": lambda p: wr.ParallelCoordinatesPlot(
            title=p["title"], columns=[column(c) for c in p["columns"]]
        ),
    }
    block_makers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "heading": lambda b: wr.H2(b["text"]),
        "text": lambda b: wr.P(b["text"]),
        "markdown": lambda b: wr.MarkdownBlock(text=b["text"]),
        "panels": lambda b: wr.PanelGrid(
            runsets=[make_runset(b["runset"])], panels=[panel_makers[p["type"]](p) for p in b["panels"]]
        ),
    }
    try:
        blocks = [block_makers[block["type"]](block) for block in spec["blocks"]]
        return wr.Report(
            entity=entity,
            project=project,
            title=spec["title"][:TITLE_LIMIT],
            description=spec.get("description", ""),
            blocks=blocks,
        )
    except Exception as error:  # noqa: BLE001 - pydantic's, wandb-workspaces' or ours: one line whatever it is
        raise GanzooError(
            f"the report specification is not one ganzoo can build: {type(error).__name__}: {_one_line(error)[:200]}"
        ) from None


def wandb_host() -> str:
    """The W&B server's API URL, found as ``wandb.Api`` finds it: ``WANDB_BASE_URL``, else
    wandb's settings (``wandb login --host`` writes them), else wandb's default."""
    try:
        from wandb import env
        from wandb.sdk import wandb_setup

        return str(env.get_base_url(wandb_setup.singleton().settings.base_url)).rstrip("/")
    except (ImportError, AttributeError):  # another wandb
        import wandb

        return (os.environ.get("WANDB_BASE_URL") or str(wandb.Settings().base_url)).rstrip("/")


def check_login(host: str) -> None:
    """:class:`SaveError` unless wandb has an API key for ``host``. Looked up without a
    prompt (wandb would otherwise ask on a terminal) and without the network."""
    try:
        from wandb.sdk.lib import wbauth

        credentials = wbauth.authenticate_session(
            host=host, source="ganzoo report", prompt=False, verify=False, update_session=False
        )
    except (ImportError, TypeError, AttributeError):  # another wandb: leave the check to wandb itself
        return
    except Exception as error:  # noqa: BLE001 - a malformed key, whatever wandb raises for it
        raise SaveError(f"W&B login for {host} is not usable: {_one_line(error)} (run `wandb login`)") from None
    if credentials is None:
        raise SaveError(f"not logged in to W&B ({host}): run `wandb login`, or set WANDB_API_KEY")


def check_network(host: str, timeout: float) -> None:
    """:class:`SaveError` unless a TCP connection to ``host`` opens within ``timeout`` s."""
    problem = unreachable(host, timeout, what="W&B")
    if problem:
        raise SaveError(f"no network: {problem}")


def save_report(spec: dict[str, Any], *, timeout: float = 30.0) -> str:
    """Save the report a specification describes and return its URL. Fails with
    :class:`SaveError` (one line) without a login, without the network, or when the whole
    save takes more than ``timeout`` seconds."""
    report = to_wandb_report(spec)
    host = wandb_host()
    check_login(host)
    check_network(host, timeout=min(5.0, timeout))
    outcome: dict[str, Any] = {}

    def save() -> None:
        try:
            report.save()
            outcome["url"] = report.url
        except BaseException as error:  # noqa: BLE001 - reported to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=save, name="ganzoo-report-save", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SaveError(f"saving the report to W&B ({host}) took more than {timeout:g} s; gave up")
    if "error" in outcome:
        raise SaveError(f"W&B did not save the report: {_one_line(outcome['error'])}")
    return str(outcome["url"])


def save_later_command(spec: dict[str, Any], written: Path) -> str:
    return f"ganzoo report --wandb {spec['entity']}/{spec['project']} --from-spec {written}"


def publish(spec: dict[str, Any], written: Path, *, timeout: float = 30.0) -> str:
    """:func:`save_report`, for a specification already written to ``written``: a failure
    says where the specification is and the command that saves it later."""
    try:
        return save_report(spec, timeout=timeout)
    except GanzooError as error:
        raise SaveError(
            f"{error}. The report's specification is in {written}; save it later with: "
            f"{save_later_command(spec, written)}"
        ) from None


# --------------------------------------------------------------------------- the zoo


def zoo_wandb_override(target: Optional[str], group: str) -> str:
    """The ``wandb=...`` override of a zoo run: disabled, or (``--wandb ENTITY/PROJECT``)
    offline in that project and ``group``, so that its report can find it."""
    if not target:
        return "wandb.mode=disabled"
    entity, project = parse_target(target)
    settings = {"mode": "offline", "entity": entity, "project": project, "group": group, "tags": ["zoo"]}
    return f"wandb={json.dumps(settings)}"


def report_zoo(target: str, variants: Sequence[tuple[str, Path]], html: Path, *, timeout: float = 30.0) -> int:
    """``bench/zoo_results.py --wandb``: the zoo's HTML page, its W&B Report's specification
    next to it, and the save. Prints what it wrote; a failed save is one line on standard
    error and exit status 1 (the bench's table is written by then)."""
    entity, project = parse_target(target)
    runs = [(variant, load_wandb_run(folder)) for variant, folder in variants]
    spec = build_zoo_spec(runs, entity, project)
    print(f"report: {build_report([folder for _, folder in variants], html, progress=False)}", file=sys.stderr)
    written = write_spec(spec, spec_path(html))
    print(f"W&B report specification: {written}", file=sys.stderr)
    try:
        print(f"W&B report: {publish(spec, written, timeout=timeout)}", file=sys.stderr)
    except GanzooError as error:
        print(f"zoo report: {error}", file=sys.stderr)
        return 1
    return 0


def _one_line(error: object) -> str:
    text = " ".join(str(error).split())
    return text[:300] + ("..." if len(text) > 300 else "")
