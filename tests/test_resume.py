"""Nothing lost: interrupted, killed and resumed runs end exactly where an uninterrupted
run ends, bit for bit (CPU)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import REPO, metrics, run_folder, weights, write_recipe
from ganzoo.cli import main
from ganzoo.recipe import load_recipe
from ganzoo.runfolder.checkpoints import latest_checkpoint


def assert_same_run(folder: Path, reference: Path) -> None:
    assert metrics(folder) == metrics(reference)
    for net in ("generator", "discriminator"):
        ours, theirs = weights(folder)[net], weights(reference)[net]
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), net


@pytest.fixture
def long_recipe(tmp_path, toy_recipe):
    """About 300 steps over two epochs: long enough to be interrupted anywhere."""
    return write_recipe(
        tmp_path / "long.yaml",
        {
            "extends": str(toy_recipe),
            "data": {"size": 9600},
            "train": {"epochs": 2, "log_every": 7},
            "checkpoint": {"every": 10},
        },
    )


@pytest.fixture
def reference_run(long_recipe, capsys):
    assert main(["run", str(long_recipe), "run.name=reference", "--no-progress"]) == 0
    return run_folder(capsys.readouterr().out)


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo", "run", *args, "--no-progress"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WANDB_SILENT": "true"},
    )


def wait_for_checkpoint(folder_glob: Path, newer_than: int = -1, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = [
            int(p.stem.split("_")[1]) for p in folder_glob.parent.glob(folder_glob.name + "/checkpoints/step_*.pt")
        ]
        if steps and max(steps) > newer_than:
            return
        time.sleep(0.05)
    raise AssertionError("no new checkpoint appeared")


def test_ctrl_c_checkpoints_and_resume_ends_bitwise_identical(long_recipe, reference_run, tmp_path, capsys):
    process = start(str(long_recipe), "run.name=stopped")
    wait_for_checkpoint(tmp_path / "runs" / "stopped")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    folder = tmp_path / "runs" / "stopped"
    assert process.returncode == 130, err
    assert "Traceback" not in err
    path, state, _ = latest_checkpoint(folder)
    stopped_at = state["trainer"]["step"]
    assert f"interrupted at step {stopped_at}" in err
    assert f"ganzoo run --resume {folder}" in err
    assert not (folder / "weights.pt").exists()

    assert main(["run", "--resume", str(folder), "--no-progress"]) == 0
    assert run_folder(capsys.readouterr().out) == folder
    assert_same_run(folder, reference_run)


def test_sigterm_is_a_clean_stop_too(long_recipe, tmp_path):
    process = start(str(long_recipe), "run.name=terminated")
    wait_for_checkpoint(tmp_path / "runs" / "terminated")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "interrupted at step" in err and "--resume" in err
    latest_checkpoint(tmp_path / "runs" / "terminated")


def test_resume_of_a_finished_run_changes_nothing(long_recipe, reference_run, capsys):
    before = metrics(reference_run)
    assert main(["run", "--resume", str(reference_run), "--no-progress"]) == 0
    assert metrics(reference_run) == before


def test_resume_can_extend_a_run(tmp_path, toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "run.name=short", "train.epochs=1", "--no-progress"]) == 0
    folder = run_folder(capsys.readouterr().out)
    assert main(["run", "--resume", str(folder), "train.epochs=2", "--no-progress"]) == 0
    assert main(["run", str(toy_recipe), "run.name=long", "train.epochs=2", "--no-progress"]) == 0
    capsys.readouterr()
    assert weights(folder)["step"] == weights(tmp_path / "runs" / "long")["step"] == 32


def test_a_run_in_use_is_refused_naming_its_process_and_a_killed_holder_leaves_no_lock(long_recipe, tmp_path, capsys):
    process = start(str(long_recipe), "run.name=busy")
    folder = tmp_path / "runs" / "busy"
    try:
        wait_for_checkpoint(folder)
        assert main(["run", "--resume", str(folder), "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err
        (line,) = err.strip().splitlines()
        assert line.startswith(f"ganzoo: error: {folder} is in use by another ganzoo process (pid {process.pid} on ")
        assert f"ganzoo run {long_recipe} run.name=busy --no-progress); two processes must not train one run" in line
        assert process.poll() is None  # the refused resume did not disturb the running one
    finally:
        process.kill()  # SIGKILL: no chance to clean up, the kernel drops the lock
        process.wait()
    step = int(latest_checkpoint(folder)[0].stem.split("_")[1])
    assert main(["run", "--resume", str(folder), f"train.max_steps={step + 3}", "--no-progress"]) == 0
    assert weights(folder)["step"] == step + 3


def test_resume_errors_are_clear(tmp_path, capsys, registry):
    assert main(["run", "--resume", str(tmp_path / "nowhere")]) == 1
    assert "not a run folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    resolved = load_recipe(REPO / "recipes" / "toy_ring.yaml", registry).to_yaml()
    (tmp_path / "empty" / "recipe.yaml").write_text(resolved)
    assert main(["run", "--resume", str(tmp_path / "empty")]) == 1
    assert "no loadable checkpoint in" in capsys.readouterr().err


def test_twenty_kills_and_the_run_still_ends_bitwise_identical(long_recipe, tmp_path, capsys):
    """SIGKILL at random moments, many of them while a checkpoint is being written (one is
    written every step here): each time the latest checkpoint loads and the run resumes."""
    recipe_overrides = ["train.epochs=4", "checkpoint.every=1", "checkpoint.keep_last=2"]
    assert main(["run", str(long_recipe), "run.name=reference", "train.epochs=4", "--no-progress"]) == 0
    reference_run = run_folder(capsys.readouterr().out)
    folder = tmp_path / "runs" / "killed"
    rng = random.Random(1234)
    process = start(str(long_recipe), "run.name=killed", *recipe_overrides)
    kills, torn_writes, last_step = 0, 0, -1
    while kills < 20:
        wait_for_checkpoint(folder, newer_than=last_step)
        assert process.poll() is None, "the run finished before 20 kills: make it longer"
        time.sleep(rng.uniform(0, 0.25))
        process.kill()
        process.wait()
        kills += 1
        torn_writes += len(list((folder / "checkpoints").glob(".*.tmp")))
        path, state, _ = latest_checkpoint(folder)  # loads, every time
        last_step = state["trainer"]["step"]
        process = start("--resume", str(folder), *recipe_overrides)
    wait_for_checkpoint(folder, newer_than=last_step)
    process.kill()  # the last life: finish with fewer checkpoints, which changes no number
    process.wait()
    process = start("--resume", str(folder), "checkpoint.every=100")
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    kills += 1
    print(f"{kills} kills survived, {torn_writes} of them during a checkpoint write")
    assert_same_run(folder, reference_run)


def test_run_needs_exactly_one_of_recipe_and_resume(tmp_path, toy_recipe, capsys):
    assert main(["run"]) == 2
    assert "a recipe is needed (or --resume RUN)" in capsys.readouterr().err
    assert main(["run", str(toy_recipe), "--resume", str(tmp_path)]) == 2
    assert "either a recipe or --resume RUN, not both" in capsys.readouterr().err
