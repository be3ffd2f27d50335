"""``train.population: K``: K copies of a recipe trained as one batched step, each member
writing the run folder it would have written alone, with the same weights as that run
(to the rounding of batched kernels), its own values, its own failure, and a folder that
``ganzoo run --resume`` continues alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from wandb_reader import logged_config, logged_history, logged_summary

from conftest import REPO, metrics, small_run, weights, write_recipe
from ganzoo.cli import main
from ganzoo.runfolder.layout import RunFolder
from ganzoo.train.population import PopulationStep

TOY = str(REPO / "recipes" / "toy_ring.yaml")
SMALL = ["data.size=512", "model.hidden_dim=8", "train.batch_size=64", "train.log_every=5", "train.sample_every=10"]
LRS = [2.0e-4, 1.0e-3, 5.0e-3]


def population_values(**values: list) -> str:
    return "train.population_values=" + yaml.safe_dump(values, default_flow_style=True).strip()


def member_folders(stdout: str) -> list[Path]:
    return [Path(line.split()[2]) for line in stdout.splitlines() if line.startswith("run folder: ")]


def assert_close(a: dict, b: dict, tolerance: float) -> None:
    """Two ``weights.pt`` alike, each tensor within ``tolerance`` (batched kernels round
    differently from single ones, so the weights are near, not bitwise, equal)."""
    assert a.keys() == b.keys()
    for network in ("generator", "discriminator"):
        assert a[network].keys() == b[network].keys()
        for name, tensor in a[network].items():
            assert torch.allclose(tensor, b[network][name], atol=tolerance, rtol=0), (network, name)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, list[Path], str]:
    """A population of three members with their own learning rates, trained 30 steps by the CLI."""
    runs = tmp_path_factory.mktemp("population")
    args = ["run", TOY, *small_run(runs), *SMALL, "train.max_steps=30", "seed=3", "run.name=pop"]
    args += ["train.population=3", population_values(**{"optim.generator.lr": LRS})]
    completed = subprocess.run(
        [sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, cwd=REPO, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    return runs, member_folders(completed.stdout), completed.stderr


def test_each_member_writes_the_folder_it_would_have_written_alone(trained):
    runs, folders, stderr = trained
    assert folders == [runs / f"pop-m{k}" for k in range(3)]
    assert "train.population=3: 3 runs in one batched step" in stderr
    for k, folder in enumerate(folders):
        recipe = yaml.safe_load(RunFolder(folder).recipe.read_text())
        assert recipe["seed"] == 3 + k and recipe["optim"]["generator"]["lr"] == LRS[k]
        assert recipe["train"]["population"] == 1 and recipe["train"]["population_values"] == {}
        assert recipe["wandb"]["group"] == "pop"
        rows = metrics(folder)
        assert [row["step"] for row in rows if "d_loss" in row] == [5, 10, 15, 20, 25, 30]
        assert (folder / "weights.pt").is_file() and (folder / "progress.gif").is_file()
        assert sorted(p.name for p in (folder / "samples").glob("step_*.png"))
        assert list((folder / "checkpoints").glob("*.pt"))


def test_each_member_trains_as_its_run_alone(trained, tmp_path):
    """Member k against the run of its own recipe (seed 3 + k, its learning rate) alone."""
    runs, folders, _ = trained
    for k, folder in enumerate(folders):
        alone = tmp_path / f"alone-{k}"
        args = [*small_run(tmp_path), *SMALL, "train.max_steps=30", f"seed={3 + k}", f"optim.generator.lr={LRS[k]}"]
        assert main(["run", TOY, *args, f"run.name={alone.name}"]) == 0
        assert_close(weights(folder), weights(alone), tolerance=1e-5)
        last = [row for row in metrics(folder) if "d_loss" in row][-1]
        solo = [row for row in metrics(alone) if "d_loss" in row][-1]
        assert last["d_loss"] == pytest.approx(solo["d_loss"], abs=1e-4)


def test_a_member_resumes_alone(trained, tmp_path):
    """A member's folder is an ordinary run: ``--resume`` with more steps continues it alone."""
    _, folders, _ = trained
    assert main(["run", "--resume", str(folders[1]), "train.max_steps=40", "--no-progress"]) == 0
    assert [row["step"] for row in metrics(folders[1]) if "d_loss" in row][-2:] == [35, 40]


def test_each_member_has_its_own_wandb_run_in_one_group(tmp_path, capsys):
    args = ["run", TOY, *small_run(tmp_path), *SMALL, "train.max_steps=10", "run.name=pop", "train.population=2"]
    assert main([*args, "wandb.mode=offline", "data.limit=256"]) == 0
    capsys.readouterr()
    for k in range(2):
        folder = tmp_path / f"pop-m{k}"
        assert RunFolder(folder).subset.is_file()  # data.limit's samples, recorded as alone
        (wandb_file,) = folder.glob("wandb/offline-run-*/run-*.wandb")
        assert logged_config(wandb_file)["seed"] == k
        steps = [row["_step"] for row in logged_history(wandb_file) if "d_loss" in row]
        assert steps == [row["step"] for row in metrics(folder) if "d_loss" in row]
        assert logged_summary(wandb_file)["status"] == "finished"
        assert yaml.safe_load(RunFolder(folder).recipe.read_text())["wandb"]["group"] == "pop"


def test_a_member_that_diverges_ends_alone_and_the_others_finish(tmp_path, capsys):
    lrs = [2.0e-4, 1.0e30, 2.0e-4]
    args = ["run", TOY, *small_run(tmp_path), *SMALL, "train.max_steps=20", "run.name=pop", "train.population=3"]
    status = main([*args, population_values(**{"optim.generator.lr": lrs, "optim.discriminator.lr": lrs})])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in err
    assert "ganzoo: member 1 failed: D's output became NaN" in err
    assert "member by member" not in err  # the failed member's NaN weights stay out of the batched step
    lines = out.splitlines()
    assert "(failed:" in lines[1] and "(failed:" not in lines[0] + lines[2]
    assert not (tmp_path / "pop-m1" / "weights.pt").exists()
    for k in (0, 2):
        assert [row["step"] for row in metrics(tmp_path / f"pop-m{k}") if "d_loss" in row][-1] == 20
        assert (tmp_path / f"pop-m{k}" / "weights.pt").is_file()


def test_a_batched_update_that_fails_is_made_member_by_member(tmp_path, capsys, monkeypatch):
    """An error of the batched kernels (not of one member) costs speed, not results: that
    update is made member by member with the same latents, once said."""
    batched = PopulationStep._batched
    calls = []

    def failing_once(self, *args):
        calls.append(args[0])
        if len(calls) == 3:  # step 3's discriminator update (step 1's ran member by member)
            raise RuntimeError("a batched kernel failed")
        return batched(self, *args)

    monkeypatch.setattr(PopulationStep, "_batched", failing_once)
    args = ["run", TOY, *small_run(tmp_path), *SMALL, "train.max_steps=10", "run.name=pop", "train.population=2"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "batched discriminator update failed at step 3 (a batched kernel failed)" in err
    monkeypatch.setattr(PopulationStep, "_batched", batched)
    for k in range(2):
        alone = ["run", TOY, *small_run(tmp_path), *SMALL, "train.max_steps=10", f"seed={k}", f"run.name=alone-{k}"]
        assert main(alone) == 0
        assert_close(weights(tmp_path / f"pop-m{k}"), weights(tmp_path / f"alone-{k}"), tolerance=1e-5)


def test_sigterm_stops_every_member_with_a_checkpoint(tmp_path):
    args = ["run", TOY, *small_run(tmp_path), *SMALL, "train.epochs=1000", "run.name=pop", "train.population=2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "ganzoo", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WANDB_SILENT": "true"},
    )
    metrics_file = tmp_path / "pop-m1" / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while not (metrics_file.exists() and metrics_file.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "Resume a member alone" in err
    for k in range(2):
        assert str(tmp_path / f"pop-m{k}") in err
        assert list((tmp_path / f"pop-m{k}" / "checkpoints").glob("*.pt"))


DCGAN = str(REPO / "recipes" / "dcgan_mnist.yaml")


@pytest.mark.parametrize(
    ("recipe", "overrides", "expected"),
    [
        (DCGAN, [], "model 'dcgan' cannot join a population"),
        (TOY, ["train.population=65"], "train.population"),
        (TOY, ["train.cuda_graph=on"], "train.cuda_graph: on, but the device is cpu"),
        (TOY, ["train.compile=default"], "train.compile=default"),
        (TOY, ["loss.r1_gamma=1.0"], "its R1 penalty"),
        (TOY, [population_values(**{"model.hidden_dim": [8, 16]})], "model.hidden_dim"),
        (TOY, [population_values(**{"optim.generator.lr": [1e-3]})], "1 value(s) for a population of 2"),
        (TOY, [population_values(**{"optim.generator.lr": [1e-3, -1.0]})], "member 1"),
    ],
)
def test_check_refuses_what_cannot_train_as_a_population(tmp_path, capsys, recipe, overrides, expected):
    path = write_recipe(tmp_path / "r.yaml", {"extends": recipe, "train": {"population": 2}})
    status = main(["check", str(path), *overrides])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err, err
    assert expected in err, err
