"""Issue 17's reproducers, through the CLI: every bad input is answered in one line that
names the key, file or limit, with exit status 2 (usage, recipe) or 1 (data, state), and
never a traceback, a hang or a runaway use of memory."""

from __future__ import annotations

import pytest

from conftest import REPO, problems
from ganzoo.cli import main

TOY = str(REPO / "recipes" / "toy_ring.yaml")


@pytest.mark.parametrize(
    "override, line",
    [
        ("optim.generator.betas=[2, -1]", "command line: optim.generator.betas.0: Input should be less than 1 (got 2)"),
        ("optim.generator.betas=[0.5, .nan]", "command line: optim.generator.betas.1: Input should be a finite number"),
        ("optim.discriminator.lr=.inf", "command line: optim.discriminator.lr: Input should be a finite number"),
        ("data.modes=100000000000", "command line: data.modes: Input should be less than or equal to 10000"),
        ("data.size=100000000000", "command line: data.size: Input should be less than or equal to 10000000"),
        ("data.seed=99999999999999999999999", "command line: data.seed: Input should be less than 9223372036854775808"),
        ("train.epochs=true", "command line: train.epochs: expected a number, not true or false (got True)"),
        ("checkpoint.keep_last=false", "command line: checkpoint.keep_last: expected a number, not true or false"),
        (
            "train.batch_size=1.0e+8",
            "command line: train.batch_size: expected a whole number written without a decimal",
        ),
        ("seed=99999999999999999999999", "command line: seed: Input should be less than 9223372036854775808"),
        ("train.num_samples=100000000", "command line: train.num_samples: Input should be less than or equal to 10000"),
        ("video.seconds=1.0e+300", "command line: video.seconds: Input should be less than or equal to 600"),
        ("run.name=../escape", "command line: run.name: a run name is one folder name inside run.dir: no '/', no '..'"),
        ("run.name=/tmp/absolute", "command line: run.name: a run name is one folder name inside run.dir"),
    ],
)
def test_check_refuses_what_run_could_not_do(capsys, override, line):
    lines = problems(capsys, main(["check", TOY, override]))
    assert lines[0].startswith(line) and len(lines) <= 2  # [2, -1]: one line for each beta


@pytest.mark.parametrize("command", [["check", TOY], ["plugins"], ["run", TOY, "wandb.mode=disabled"]])
def test_ctrl_c_during_start_up_is_one_line_and_status_130(capsys, monkeypatch, command):
    import ganzoo.cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # what Ctrl-C does while the plugins load

    monkeypatch.setattr(ganzoo.cli, "make_plugin_manager", interrupted)
    assert main(command) == 130
    err = capsys.readouterr().err
    assert err.strip() == "ganzoo: interrupted by Ctrl-C before any work was saved" and "Traceback" not in err


@pytest.mark.parametrize(
    "overrides, line",
    [
        (
            ["train.d_steps=10"],
            "train.d_steps: 10 discriminator updates per step need 10 batches, but an epoch of 256 "
            "samples in batches of 64 has 4; lower train.d_steps or train.batch_size",
        ),
        (
            ["train.batch_size=1000", "train.drop_last=true"],
            "train.batch_size: an epoch of 256 samples in batches of 1000 "
            "has 0 (train.drop_last drops the incomplete one)",
        ),
    ],
)
def test_an_epoch_without_a_step_is_refused_before_the_run_folder(tmp_path, capsys, overrides, line):
    status = main(
        [
            "run",
            TOY,
            "data.size=256",
            "train.batch_size=64",
            *overrides,
            f"run.dir={tmp_path / 'runs'}",
            "wandb.mode=disabled",
            "--no-progress",
        ]
    )
    assert problems(capsys, status)[0].startswith(line)
    assert not (tmp_path / "runs").exists()


def bomb(dicts: bool = False) -> str:
    """The issue's alias bomb: nine levels of nine aliases, 9**9 values once expanded."""
    if dicts:
        lines = ["x0: &x0 {" + ", ".join(f"k{i}: a" for i in range(9)) + "}"]
        lines += [f"x{n}: &x{n} {{" + ", ".join(f"k{i}: *x{n - 1}" for i in range(9)) + "}" for n in range(1, 9)]
        return "\n".join(lines) + "\ndata: {name: ring, extra: *x8}\n"
    lines = ["x0: &x0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 9) + "]" for n in range(1, 9)]
    return "\n".join(lines) + "\ntrain: {epochs: *x8}\n"


@pytest.mark.parametrize(
    "text, line",
    [
        (
            bomb(),
            "hostile.yaml: train.epochs: expands to more than 50,000 values (YAML aliases repeat what they point at)",
        ),
        (bomb(dicts=True), "hostile.yaml: data.extra: expands to more than 50,000 values"),
        ("train: {epochs: " + "[" * 5000 + "]" * 5000 + "}\n", "hostile.yaml: nested more than 64 levels deep"),
        ("data: {name: ring, 5: x}\n", "hostile.yaml: data.5: keys must be names, got int 5"),
        ("train: {true: 3}\n", "hostile.yaml: train.True: keys must be names, got bool true"),
        ("extends: /dev/zero\n", "/dev/zero: cannot read: not a regular file (a device, a pipe or a socket)"),
        ("extends: fifo.yaml\n", "fifo.yaml: cannot read: not a regular file (a device, a pipe or a socket)"),
    ],
)
def test_hostile_recipes_are_refused_at_once(tmp_path, capsys, monkeypatch, text, line):
    import os
    import time
    import tracemalloc

    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo.yaml")  # opening it for reading would block for ever
    path = tmp_path / "hostile.yaml"
    path.write_text(f"extends: {TOY}\n{text}" if not text.startswith("extends") else text)
    tracemalloc.start()
    started = time.monotonic()
    try:
        status = main(["check", str(path)])
        elapsed, (_, peak) = time.monotonic() - started, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 10 and peak < 64 * 2**20, (elapsed, peak)
    (got,) = problems(capsys, status)
    assert got.startswith(line), got


def test_a_hostile_recipe_in_a_run_folder_does_not_hang_report(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "recipe.yaml").write_text(bomb(dicts=True))
    assert main(["report", str(run), "--out", str(tmp_path / "r.html"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        f"ganzoo: error: {run / 'recipe.yaml'} cannot be read at data.extra: expands to more than "
        f"50,000 values (YAML aliases repeat what they point at); a recipe has a few hundred"
    )
    assert not (tmp_path / "r.html").exists()


def test_a_run_name_cannot_leave_run_dir(tmp_path, capsys):
    status = main(["run", TOY, "run.name=../escape", f"run.dir={tmp_path / 'runs'}", "wandb.mode=disabled"])
    assert problems(capsys, status)[0].startswith("command line: run.name: a run name is one folder name")
    assert list(tmp_path.iterdir()) == []
