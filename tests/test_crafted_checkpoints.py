"""Checkpoints and weights that do not fit the recipe, or were crafted, through `sample`,
`eval` and `run --resume`: one line and exit status 1, never a traceback (issue 17, item 6
and the refusal of unsafe pickles, item 11)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import one_line
from ganzoo.cli import main
from ganzoo.runfolder.checkpoints import step_checkpoints


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    """A finished ring run of 8 steps with a checkpoint every 4 steps."""
    root = tmp_path_factory.mktemp("crafted")
    recipe = root / "toy.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "extends": str(Path(__file__).resolve().parents[1] / "recipes" / "toy_ring.yaml"),
                "data": {"size": 256},
                "model": {"hidden_dim": 16, "latent_dim": 4},
                "train": {"epochs": 2, "batch_size": 64, "log_every": 4, "sample_every": 4, "num_samples": 64},
                "checkpoint": {"every": 4},
                "run": {"dir": str(root / "runs"), "name": "toy"},
                "wandb": {"mode": "disabled"},
                "video": {"format": "gif"},
            }
        )
    )
    assert main(["run", str(recipe), "--no-progress"]) == 0
    return root / "runs" / "toy"


def copy_of(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return copy


def test_an_edited_model_is_one_line_for_resume_sample_and_eval(toy_run, tmp_path, capsys):
    run = copy_of(toy_run, tmp_path)
    recipe = run / "recipe.yaml"
    recipe.write_text(recipe.read_text().replace("hidden_dim: 16", "hidden_dim: 32"))
    (run / "weights.pt").unlink()  # resume continues from the checkpoints
    assert "does not fit the recipe: generator" in one_line(
        capsys, main(["run", "--resume", str(run), "--no-progress"])
    )
    assert "shape" in one_line(capsys, main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.npz")]))
    assert "does not fit the recipe" in one_line(
        capsys, main(["eval", str(run), "--metrics", "modes", "--n", "64", "--no-progress"])
    )
    assert not (tmp_path / "s.npz").exists()


def test_an_unsafe_pickle_is_refused_without_torchs_advice(toy_run, tmp_path, capsys):
    run = copy_of(toy_run, tmp_path)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"generator": Payload()}, run / "weights.pt")
    line = one_line(capsys, main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.npz")]))
    assert "holds Python objects that would run code when loaded (it names posix.system)" in line
    assert "weights_only" not in line and not marker.exists()


MUTATIONS = st.sampled_from(
    [
        None,
        "x",
        5,
        -1,
        True,
        [],
        {},
        [1, 2],
        {"a": 1},
        torch.zeros(3),
        torch.zeros(0),
        {"shape": [10**9, 10**9]},
        {"shape": "28x28"},
        {"shape": [1, 28, 28], "num_classes": "ten"},
        {"generator": torch.zeros(2)},
        10**30,
    ]
)
PATHS = st.sampled_from(
    [
        ("trainer",),
        ("trainer", "generator"),
        ("trainer", "discriminator"),
        ("trainer", "step"),
        ("data_info",),
        ("trainer", "generator", "net.0.weight"),
        ("trainer", "g_optimizer"),
        ("trainer", "rng"),
        ("trainer", "epoch_order"),
        ("trainer", "epoch"),
        ("format",),
        ("trainer", "sampling_source"),
        ("trainer", "loss"),
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(st.tuples(PATHS, MUTATIONS), min_size=1, max_size=3),
    command=st.sampled_from(["sample", "eval", "resume"]),
)
def test_crafted_checkpoints_are_one_line_or_work(toy_run, tmp_path_factory, capsys, changes, command):
    run = copy_of(toy_run, tmp_path_factory.mktemp("fuzz"))
    (run / "weights.pt").unlink()
    newest = step_checkpoints(run)[-1]
    state = torch.load(newest, weights_only=True)
    for path, value in changes:
        node = state
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = value
    torch.save(state, newest)
    args = {
        "sample": ["sample", str(run), "--n", "4", "--out", str(run / "s.npz")],
        "eval": ["eval", str(run), "--metrics", "modes", "--n", "64", "--no-progress"],
        "resume": ["run", "--resume", str(run), "--no-progress"],
    }[command]
    status = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err and status in (0, 1), err
    if status:
        assert len([line for line in err.strip().splitlines() if not line.startswith("ganzoo: warning")]) == 1, err
