"""``ganzoo report --wandb``: the W&B Report's specification, read back from its JSON and
checked against what the runs themselves logged; the zoo's report; the one-line failures
(no login, no network, an unknown run); and ``wandb.group/tags/notes`` from the command line.

No test reaches W&B: there is no network here. Saving is tested up to its failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from wandb_reader import logged_config, logged_history, read_records

from conftest import REPO, run_folder, write_recipe
from ganzoo.cli import main
from ganzoo.viz.report import flatten
from ganzoo.viz.wandb_report import build_zoo_spec, load_wandb_run, report_zoo, to_wandb_report

TARGET = "my-team/ganzoo-tests"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    """Two toy runs logged offline to wandb, that differ in one recipe key; both evaluated
    while training, in one group, each with a tag of its own and one they share."""
    root = tmp_path_factory.mktemp("wandb_report")
    recipe = write_recipe(
        root / "toy.yaml",
        {
            "extends": str(REPO / "recipes" / "toy_ring.yaml"),
            "data": {"name": "ring", "size": 256},
            "model": {"name": "vanilla_mlp", "hidden_dim": 16, "latent_dim": 4, "output": "linear"},
            "train": {"epochs": 1, "batch_size": 64, "log_every": 2, "sample_every": 2, "num_samples": 64},
            "eval": {"every": 1, "n": 100, "metrics": [{"name": "modes"}]},
            "video": {"seconds": 1, "fps": 2},
            "run": {"dir": str(root / "runs")},
        },
    )
    folders = []
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("WANDB_MODE", raising=False)
        patch.setenv("WANDB_SILENT", "true")
        patch.setenv("WANDB_DIR", str(root))
        for name, saturating, tag in (("first", "true", "a"), ("second", "false", "b")):
            args = [
                "run",
                str(recipe),
                f"run.name={name}",
                f"loss.non_saturating={saturating}",
                "wandb.mode=offline",
                "wandb.group=compare",
                f"wandb.tags=[{tag}, both]",
                f"wandb.notes=the {name} run",
                "--no-progress",
            ]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):  # a module fixture has no capsys
                assert main(args) == 0
            folders.append(run_folder(out.getvalue()))
    return folders


@pytest.fixture
def offline(monkeypatch, tmp_path) -> None:
    """No W&B credentials anywhere wandb looks (environment, netrc, settings)."""
    for name in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))


def wandb_file(folder: Path) -> Path:
    (path,) = folder.glob("wandb/offline-run-*/run-*.wandb")
    return path


def offline_run_id(folder: Path) -> str:
    """The wandb run id, as wandb itself names the offline run's folder."""
    return wandb_file(folder).parent.name.rsplit("-", 1)[1]


def panels(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, runset) for every panel of every panel grid."""
    for block in spec["blocks"]:
        if block["type"] == "panels":
            for panel in block["panels"]:
                yield panel, block["runset"]


def dry_run(capsys, *args: str) -> dict[str, Any]:
    assert main(["report", *args, "--wandb", TARGET, "--dry-run", "--no-progress"]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("W&B report specification: ")]
    return json.loads(Path(line.split(": ", 1)[1]).read_text(encoding="utf-8"))


def test_the_spec_of_two_runs_that_differ_in_one_key(runs, tmp_path, capsys):
    out = tmp_path / "compare.html"
    spec = dry_run(capsys, *map(str, runs), "--out", str(out))
    assert out.is_file() and (tmp_path / "compare.wandb.json").is_file()  # the spec sits next to the page
    assert (spec["entity"], spec["project"]) == tuple(TARGET.split("/"))
    assert [run["id"] for run in spec["runs"]] == [offline_run_id(folder) for folder in runs]

    # The one recipe key that differs, as the runs' own recipes say, is the one compared.
    recipes = [flatten(load_wandb_run(folder).recipe) for folder in runs]
    differing = [
        key for key in recipes[0] if recipes[0][key] != recipes[1].get(key) and not key.startswith(("run.", "wandb."))
    ]
    assert len(differing) == 1
    (coordinates,) = [panel for panel, _ in panels(spec) if panel["type"] == "parallel_coordinates"]
    assert [column["config"] for column in coordinates["columns"] if "config" in column] == differing
    assert differing[0] in spec["title"] and differing[0] in spec["description"]
    assert any(panel["type"] == "run_comparer" for panel, _ in panels(spec))

    # Every panel grid shows the two runs, by their wandb run ids.
    assert all(runset["ids"] == [run["id"] for run in spec["runs"]] for _, runset in panels(spec))

    # Line plots: d_loss and g_loss together, every other logged scalar somewhere, against the step.
    lines = [panel for panel, _ in panels(spec) if panel["type"] == "line"]
    assert {"x": "Step", "y": ["d_loss", "g_loss"]}.items() <= lines[0].items()
    history = [row for folder in runs for row in logged_history(wandb_file(folder))]
    scalars = {
        key
        for row in history
        for key, value in row.items()
        if isinstance(value, float) and not key.startswith("_") and key not in ("epoch", "eval_n")
    }
    plotted = {key for panel in lines for key in panel["y"]}
    assert scalars and scalars <= plotted

    # Every evaluation value, titled with its sample count and its extractor (none here).
    evaluated = {
        (r["key"], r["n_fake"])
        for folder in runs
        for line in (folder / "eval.jsonl").read_text().splitlines()
        for r in json.loads(line)["results"]
    }
    assert evaluated
    for key, n in evaluated:
        (panel,) = [panel for panel in lines if panel["y"] == [key]]
        assert f"n={n}" in panel["title"] and "extractor none" in panel["title"]

    # Media: the images and the video the runs logged, each with a step slider.
    media = {
        row_key.removesuffix("/_type")
        for row in history
        for row_key, value in row.items()
        if row_key.endswith("/_type") and value in ("image-file", "video-file")
    }
    browsers = [panel for panel, _ in panels(spec) if panel["type"] == "media"]
    assert media == {key for panel in browsers for key in panel["keys"]} and len(media) == 2
    assert all(panel["axis"] == "step" for panel in browsers)


def test_the_spec_becomes_a_wandb_workspaces_report_without_network(runs, tmp_path, capsys, monkeypatch):
    import wandb_workspaces.reports.v2 as wr
    import wandb_workspaces.reports.v2.interface as interface

    spec = dry_run(capsys, *map(str, runs), "--out", str(tmp_path / "r.html"))
    report = to_wandb_report(spec)
    assert isinstance(report, wr.Report) and (report.entity, report.project) == tuple(TARGET.split("/"))
    grids = [block for block in report.blocks if isinstance(block, wr.PanelGrid)]
    assert len(grids) == sum(block["type"] == "panels" for block in spec["blocks"])
    kinds = {type(panel) for grid in grids for panel in grid.panels}
    assert {wr.LinePlot, wr.MediaBrowser, wr.RunComparer, wr.ParallelCoordinatesPlot} <= kinds
    (runset,) = grids[0].runsets
    assert (runset.entity, runset.project) == (report.entity, report.project) and runset.filters

    # What save() would send: the project's id is the one thing looked up on W&B.
    monkeypatch.setattr(interface, "_get_api", lambda: None)
    monkeypatch.setattr(interface, "execute_graphql", lambda api, query, variables: {"project": {"internalId": "p1"}})
    sent = json.loads(report._to_model().spec.model_dump_json(by_alias=True, exclude_none=True))
    grid = next(block for block in sent["blocks"] if block["type"] == "panel-grid")
    (selection,) = grid["metadata"]["runSets"][0]["filters"]["filters"]
    assert selection["op"] == "IN" and selection["value"] == [run["id"] for run in spec["runs"]]
    sent_panels = grid["metadata"]["panelBankSectionConfig"]["panels"]
    assert len(sent_panels) == len(next(block for block in spec["blocks"] if block["type"] == "panels")["panels"])
    assert len({(p["layout"]["x"], p["layout"]["y"]) for p in sent_panels}) == len(sent_panels)  # none on another


def test_group_and_tag_select_runs(runs, tmp_path, capsys):
    spec = dry_run(capsys, *map(str, runs), "--tag", "b", "--out", str(tmp_path / "b.html"))
    assert [run["id"] for run in spec["runs"]] == [offline_run_id(runs[1])]
    assert all(runset["tags"] == ["b"] and runset["ids"] == [] for _, runset in panels(spec))

    # A group alone, with no run folder: W&B's runs of that group, the panels every run has.
    spec = dry_run(capsys, "--group", "compare", "--out", str(tmp_path / "group.html"))
    assert spec["runs"] == [] and not (tmp_path / "group.html").exists()
    assert all(runset["group"] == "compare" for _, runset in panels(spec))
    assert {key for panel, _ in panels(spec) if panel["type"] == "line" for key in panel["y"]} == {"d_loss", "g_loss"}

    assert main(["report", *map(str, runs), "--wandb", TARGET, "--group", "other", "--dry-run"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_wandb_run_holds_what_the_report_selects_and_compares_by(runs, tmp_path, capsys):
    """Group, tags and notes from the command line are in the offline run (``wandb sync``
    uploads that record as it is), and every config key the report compares is in its
    config at the dotted path the report names it by."""
    spec = dry_run(capsys, *map(str, runs), "--out", str(tmp_path / "r.html"))
    compared = [
        column["config"]
        for panel, _ in panels(spec)
        if panel["type"] == "parallel_coordinates"
        for column in panel["columns"]
        if "config" in column
    ]
    assert compared
    for folder, tag, name in zip(runs, "ab", ("first", "second"), strict=True):
        (record,) = [r.run for r in read_records(wandb_file(folder)) if r.WhichOneof("record_type") == "run"]
        assert record.run_group == "compare" and list(record.tags) == [tag, "both"]
        assert record.notes == f"the {name} run"
        config, recipe = logged_config(wandb_file(folder)), flatten(load_wandb_run(folder).recipe)
        for key in compared:
            value = config
            for part in key.split("."):
                value = value[part]
            assert value == recipe[key]


def one_line_failure(capsys, args: list[str], status: int) -> str:
    start = time.monotonic()
    assert main(args) == status
    assert time.monotonic() - start < 20  # seconds, never a hang
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    return captured.err


def test_without_a_login_the_spec_is_kept_and_the_error_is_one_line(runs, tmp_path, capsys, offline):
    out = tmp_path / "r.html"
    args = ["report", *map(str, runs), "--wandb", TARGET, "--out", str(out), "--no-progress"]
    err = one_line_failure(capsys, args, 1)
    spec = tmp_path / "r.wandb.json"
    assert "not logged in to W&B" in err and f"--from-spec {spec}" in err
    assert out.is_file() and json.loads(spec.read_text())["runs"]
    err = one_line_failure(capsys, ["report", "--wandb", "other/project", "--from-spec", str(spec)], 1)
    assert "not logged in to W&B" in err and "other/project" in err


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_without_network_the_error_is_one_line_and_fast(runs, tmp_path, capsys, offline, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    assert (
        main(
            [
                "report",
                *map(str, runs),
                "--wandb",
                TARGET,
                "--out",
                str(tmp_path / "r.html"),
                "--dry-run",
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    err = one_line_failure(capsys, ["report", "--wandb", TARGET, "--from-spec", str(tmp_path / "r.wandb.json")], 1)
    assert "no network: cannot reach W&B" in err


@pytest.mark.parametrize("kind", ["not a run", "no wandb run"])
def test_an_unknown_run_is_one_line_and_exit_2(runs, tmp_path, capsys, kind):
    if kind == "not a run":
        folder = tmp_path / "nothing"
        folder.mkdir()
    else:  # a run that never logged to wandb (wandb.mode=disabled) has no wandb run id
        folder = tmp_path / "disabled"
        shutil.copytree(runs[0], folder, ignore=shutil.ignore_patterns("wandb"))
    err = one_line_failure(capsys, ["report", str(runs[0]), str(folder), "--wandb", TARGET, "--dry-run"], 2)
    assert "unknown run" in err and folder.name in err


def test_a_bad_spec_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    err = one_line_failure(capsys, ["report", "--wandb", TARGET, "--from-spec", str(bad)], 1)
    assert "not a ganzoo report specification" in err


def test_the_zoo_report_has_a_section_per_variant_and_a_table(runs, tmp_path, capsys, offline):
    variants = [("vanilla", runs[0]), ("minimax", runs[1])]
    assert report_zoo(TARGET, variants, tmp_path / "zoo.html") == 1  # not saved: no login here
    assert "not logged in" in capsys.readouterr().err
    spec = json.loads((tmp_path / "zoo.wandb.json").read_text())
    assert spec == build_zoo_spec([(v, load_wandb_run(f)) for v, f in variants], *TARGET.split("/"))
    sections = [(index, block["variant"]) for index, block in enumerate(spec["blocks"]) if "variant" in block]
    assert [variant for _, variant in sections] == [variant for variant, _ in variants]
    for (index, _), folder in zip(sections, runs, strict=True):
        grid = spec["blocks"][index + 1]
        assert grid["type"] == "panels" and grid["runset"]["ids"] == [offline_run_id(folder)]
    (table,) = [block["text"] for block in spec["blocks"] if block["type"] == "markdown"]
    rows = table.splitlines()[2:]
    assert [row.split("|")[1].strip() for row in rows] == [variant for variant, _ in variants]
    assert (tmp_path / "zoo.html").is_file()
