"""The third-party plugin example, tested the way a user meets it.

The package under ``examples/ganzoo-example`` is installed with pip into a folder of its own
and the real ``ganzoo`` command runs with that folder on ``PYTHONPATH``: the plugin is then
found through its installed dist-info and entry point, exactly as after ``pip install``,
and nothing is installed into the environment running the tests.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, ganzoo, metrics

EXAMPLE = REPO / "examples" / "ganzoo-example"
RECIPE = "examples/ganzoo-example/recipes/spiral.yaml"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, pip-installed (offline, without dependencies) into a folder of its own."""
    folder = tmp_path_factory.mktemp("ganzoo-example-site")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--disable-pip-version-check",
        "--target",
        str(folder),
        "examples/ganzoo-example",
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    assert list(folder.glob("ganzoo_example-0.1.0.dist-info")), sorted(p.name for p in folder.iterdir())
    return folder


def test_plugins_lists_the_example_and_its_dataset(target: Path) -> None:
    result = ganzoo("plugins", "--json", target=target)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)

    assert {"name": "example", "distribution": "ganzoo-example 0.1.0"} in listing["plugins"]
    spiral = [c for c in listing["components"] if c["kind"] == "dataset" and c["name"] == "spiral"]
    assert len(spiral) == 1, listing["components"]
    spiral = spiral[0]
    assert spiral["plugin"] == "example"
    assert spiral["summary"]
    options = {option["name"]: option for option in spiral["options"]}
    assert list(options) == ["turns", "noise", "size", "seed"]
    assert options["turns"]["default"] == 1.5
    assert options["size"]["default"] == 20000
    assert options["seed"]["default"] == 0
    assert all(option["help"] and not option["required"] for option in options.values())


def test_spiral_recipe_runs(target: Path, tmp_path: Path) -> None:
    result = ganzoo(
        "run",
        RECIPE,
        f"run.dir={tmp_path}",
        "wandb.mode=disabled",
        "train.epochs=1",
        "data.size=2000",
        "--no-progress",
        target=target,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if line.startswith("run folder: ")]
    assert len(lines) == 1, result.stdout
    folder = Path(lines[0].removeprefix("run folder: "))
    assert folder.parent == tmp_path

    recipe = yaml.safe_load((folder / "recipe.yaml").read_text(encoding="utf-8"))
    assert recipe["data"]["name"] == "spiral"
    assert recipe["data"]["size"] == 2000
    assert "example" in recipe["requires"]
    rows = metrics(folder)
    assert rows and {"d_loss", "g_loss"} <= set(rows[-1])
    assert list((folder / "samples").glob("*.png"))
    assert (folder / "weights.pt").stat().st_size > 0


def test_check_without_the_plugin_names_the_requirement() -> None:
    if any(ep.name == "example" for ep in importlib.metadata.entry_points(group="ganzoo")):
        pytest.skip("ganzoo-example is installed in this environment itself")
    result = ganzoo("check", RECIPE, target=None)
    assert result.returncode == 2, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    requires = [line for line in result.stderr.splitlines() if "requires" in line]
    assert requires and "unknown plugin 'example'" in requires[0], result.stderr


RELATIVISTIC = "examples/ganzoo-example/recipes/spiral_relativistic.yaml"


def test_declarations_are_checked(target: Path) -> None:
    """Item 2 from a third-party package: its loss needs logits, its data is 2-D points."""
    assert ganzoo("check", RELATIVISTIC, target=target).returncode == 0
    result = ganzoo("check", RELATIVISTIC, "model.name=vanilla_mlp", target=target)
    assert result.returncode == 2, result.stderr
    assert (
        f"{RELATIVISTIC}: loss.name: relativistic needs D to output logit, and vanilla_mlp's D outputs "
        "probability" in result.stderr.splitlines()
    )
    result = ganzoo("check", RELATIVISTIC, "model.name=dcgan", target=target)
    assert result.returncode == 2, result.stderr
    assert "model.name: dcgan takes images, not 2-D points" in result.stderr


def test_callback_run_context_survives_resume(target: Path, tmp_path: Path) -> None:
    """Item 1 from a third-party package: the callback logs `spread` with run.log (a row of its
    own in metrics.jsonl) and keeps spread.jsonl with a StepLog, trimmed on resume."""
    args = ("data.size=2000", "train.batch_size=32", "train.log_every=50", "train.max_steps=100", "checkpoint.every=63")
    result = ganzoo(
        "run", RELATIVISTIC, f"run.dir={tmp_path}", "wandb.mode=disabled", *args, "--no-progress", target=target
    )
    assert result.returncode == 0, result.stderr
    folder = next(tmp_path.iterdir())
    first = [row for row in metrics(folder) if "spread" in row]
    assert [(row["step"], sorted(row)) for row in first] == [
        (50, ["epoch", "spread", "step"]),
        (100, ["epoch", "spread", "step"]),
    ]
    own = [json.loads(line) for line in (folder / "spread.jsonl").read_text().splitlines()]
    assert [row["step"] for row in own] == [50, 100] and own[0]["batch_size"] == 32

    # As if killed after step 100's row but before its checkpoint: resume from the epoch's (step 63).
    (folder / "checkpoints" / "step_0000100.pt").unlink()
    result = ganzoo("run", "--resume", str(folder), "--no-progress", target=target)
    assert result.returncode == 0, result.stderr
    assert "from step_0000063.pt" in result.stderr
    again = [row for row in metrics(folder) if "spread" in row]
    assert again == first  # dropped and logged again, identically
    assert [json.loads(line) for line in (folder / "spread.jsonl").read_text().splitlines()] == own


def test_example_tests_pass_with_ganzoo_testing(target: Path) -> None:
    """Item 5: the package's own tests, written on ganzoo.testing, pass against the installed package."""
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 passed" in result.stdout
