"""bench/zoo_results.py's table: every value as mean ± standard deviation over seeds, and
the real-data row beside the variants (the training itself is the bench's, not a test's)."""

from __future__ import annotations

import importlib.util
import statistics

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("zoo_results", REPO / "bench" / "zoo_results.py")
assert spec is not None and spec.loader is not None
zoo_results = importlib.util.module_from_spec(spec)
spec.loader.exec_module(zoo_results)


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
