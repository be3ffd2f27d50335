"""The run context callbacks see (issue 16, item 1): folder, rank, recipe, run.log and StepLog."""

from __future__ import annotations

import json
import types
from pathlib import Path

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import REPO, plugin_module
from ganzoo import testing


class Ratio(ganzoo.Callback):
    """Logs d_loss / g_loss from on_log, and records what the run context says."""

    name = "ratio"
    seen: dict = {}

    def on_train_start(self, run: ganzoo.TrainingRun) -> None:
        Ratio.seen = {"folder": run.folder, "rank": run.rank, "is_main": run.is_main, "seed": run.recipe["seed"]}

    def on_log(self, run: ganzoo.TrainingRun, scalars: dict[str, float]) -> None:
        if "d_loss" in scalars:  # not in answer to its own row
            run.log({"ratio": scalars["d_loss"] / scalars["g_loss"]})


def test_log_from_on_log_follows_the_row_and_the_context_is_set(tmp_path: Path) -> None:
    registry = testing.registry(
        {
            "vanilla": ganzoo_vanilla,
            "datasets": ganzoo_datasets,
            "ratio": plugin_module("ratio_plugin", callbacks=[Ratio]),
        }
    )
    run = testing.short_run(
        REPO / "recipes" / "toy_ring.yaml",
        registry,
        tmp_path,
        ["data.size=512", "callbacks=[{name: ratio}]", "seed=7"],
        steps=3,
    )
    assert run.folder is not None
    assert Ratio.seen == {"folder": run.folder, "rank": 0, "is_main": True, "seed": 7}
    rows = [json.loads(line) for line in (run.folder / "metrics.jsonl").read_text().splitlines()]
    assert [(row["step"], "ratio" in row) for row in rows] == [
        (1, False),
        (1, True),
        (2, False),
        (2, True),
        (3, False),
        (3, True),
    ]
    for loop, extra in zip(rows[::2], rows[1::2]):
        assert extra["ratio"] == loop["d_loss"] / loop["g_loss"]
        assert sorted(extra) == ["epoch", "ratio", "step"]


def test_step_log_trims_to_the_checkpoint(tmp_path: Path) -> None:
    log = ganzoo.StepLog("mine.jsonl")
    fresh = types.SimpleNamespace(folder=tmp_path, step=0)
    assert log.open(fresh) == tmp_path / "mine.jsonl"
    for step in (10, 20, 30):
        log.write(types.SimpleNamespace(folder=tmp_path, step=step), {"value": step})
    resumed = types.SimpleNamespace(folder=tmp_path, step=20)
    log.open(resumed)
    assert log.rows() == [{"step": 10, "value": 10}, {"step": 20, "value": 20}]
    elsewhere = ganzoo.StepLog("mine.jsonl")
    assert elsewhere.open(types.SimpleNamespace(folder=None, step=20)) is None
    elsewhere.write(types.SimpleNamespace(folder=None, step=30), {"value": 30})
    assert elsewhere.rows() == [] and len(log.rows()) == 2
