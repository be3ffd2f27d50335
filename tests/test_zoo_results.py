"""bench/zoo_results.py's table: every value as mean ± standard deviation over seeds, and
the real-data row beside the variants (the training itself is the bench's, not a test's)."""

from __future__ import annotations

import statistics

import pytest

from conftest import REPO, bench_module

zoo_results = bench_module("zoo_results")


def row(variant: str, seed: int, fid: float, steps: int) -> dict:
    values = {
        "fid/classifier": fid,
        "kid/classifier": 1.0,
        "is/classifier": 2.0,
        "class_coverage": 1.0,
        "class_kl": 0.5,
    }
    return {"variant": variant, "seed": seed, "steps": steps, "values": values, "grid": f"docs/zoo/{variant}.png"}


def test_seeds_are_summarised_as_mean_and_standard_deviation():
    rows = [row("dcgan", s, fid, 1000 + 10 * s) for s, fid in enumerate([270.0, 250.0, 290.0])]
    summary = zoo_results.summarise(rows)
    assert summary["fid/classifier"] == (270.0, pytest.approx(statistics.stdev([270.0, 250.0, 290.0])))
    assert summary["steps"] == (1010.0, 10.0)
    assert zoo_results.summarise(rows[:1])["fid/classifier"] == (270.0, None)  # one seed: no spread


def test_the_table_shows_the_spread_and_the_real_data_row_first():
    real = {
        "variant": zoo_results.REAL,
        "seed": None,
        "steps": 0,
        "grid": None,
        "values": {
            "fid/classifier": 18.4,
            "kid/classifier": 0.5,
            "is/classifier": 9.8,
            "class_coverage": 1.0,
            "class_kl": 0.001,
        },
    }
    text = zoo_results.table(
        {zoo_results.REAL: [real], "dcgan": [row("dcgan", s, 260.0 + 20 * s, 1000) for s in range(2)]}
    )
    lines = text.splitlines()
    assert lines[2].startswith(f"| {zoo_results.REAL} | 0 | 18.4 |") and lines[2].endswith("|  |")
    assert "| dcgan | 1,000 ± 0 | 270.0 ± 14.1 |" in lines[3] and "[dcgan.png](docs/zoo/dcgan.png)" in lines[3]


def test_commands_carry_paths_relative_to_the_repository():
    assert zoo_results.relative(REPO / "runs" / "zoo") == "runs/zoo"
    assert zoo_results.relative(REPO.parent / "shared" / "data") == "../shared/data"


def test_a_row_names_the_grid_of_its_own_run(monkeypatch, tmp_path):
    """Seeds 1 and 2 draw no grid unless --all-grids: their rows name none, never seed 0's."""
    import argparse
    import json
    import subprocess

    drawn = []

    def fake_ganzoo(*args):
        if args[0] == "run":
            return subprocess.CompletedProcess(args, 0, f"run folder: {tmp_path / 'run'}\n", "")
        if args[0] == "eval":
            return subprocess.CompletedProcess(args, 0, json.dumps({"step": 7, "results": []}), "")
        drawn.append(args[args.index("--out") + 1])
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(zoo_results, "ganzoo", fake_ganzoo)
    monkeypatch.setattr(zoo_results, "callbacks_with_budget", lambda recipe, seconds: "callbacks=[]")
    args = argparse.Namespace(
        data_root="d",
        seconds=1.0,
        runs=tmp_path,
        n=10,
        grids=REPO / "docs" / "zoo",
        all_grids=False,
        wandb=None,
        group="g",
        set=[],
        steps=None,
    )
    rows = [zoo_results.train_and_measure("dcgan", seed, args)[0] for seed in range(3)]
    assert [row["grid"] for row in rows] == ["docs/zoo/dcgan.png", None, None]
    assert drawn == ["docs/zoo/dcgan.png"]
    assert "callbacks=[]" in zoo_results.train_and_measure("dcgan", 1, args)[1]  # the time budget's

    args.steps = 40  # at equal steps: no time budget, the recipe's own callbacks
    train = zoo_results.train_and_measure("dcgan", 1, args)[1]
    assert "train.max_steps=40" in train and not any(a.startswith("callbacks=") for a in train)
