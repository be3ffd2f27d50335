"""``ganzoo sweep``: a search on Optuna whose trials are ordinary run folders, checked before
the first trial, continued after a kill without losing a finished trial, shared by two
workers on one SQLite file without a trial run twice, and reported on one page."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import torch
import yaml

from conftest import REPO, weights
from ganzoo.cli import main
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.runfolder.jsonl import read_rows
from ganzoo.runfolder.layout import RunFolder, SweepFolder

TOY = str(REPO / "recipes" / "toy_ring.yaml")
SMALL = ["data.size=512", "model.hidden_dim=8", "train.batch_size=64", "wandb.mode=disabled", "video.format=gif"]


def space_file(folder: Path, **settings) -> Path:
    body = {
        "space": {
            "optim.generator.lr": {"log_uniform": [1.0e-4, 1.0e-2]},
            "optim.discriminator.betas": {"choice": [[0.5, 0.999], [0.9, 0.999]]},
        },
        "budget": {"steps": 6},
        "metric": "high_quality",
        "measure": "modes",
        "direction": "maximize",
        "trials": 3,
        "eval": {"n": 200},
        **settings,
    }
    path = folder / "space.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def study_of(folder: Path) -> optuna.Study:
    return optuna.load_study(study_name=folder.name, storage=SweepFolder(folder).storage_url())


def sweep_command(space: Path, runs: Path, *extra: str) -> list[str]:
    return ["sweep", TOY, "--space", str(space), "--dir", str(runs), "--name", "s", "--no-progress", *SMALL, *extra]


def two_seeds_measured(trial: optuna.trial.FrozenTrial) -> list[Path]:
    """A trial's two run folders (seeds 0 and 1), checked: named after the trial, each
    measured by ``ganzoo eval``, the trial's value their mean."""
    runs = [Path(run) for run in trial.user_attrs["runs"]]
    assert [run.name for run in runs] == [f"trial-{trial.number:04d}-s0", f"trial-{trial.number:04d}-s1"]
    values = [read_rows(RunFolder(run).evaluations)[-1]["results"] for run in runs]
    measured = [next(r["value"] for r in results if r["key"] == "high_quality") for results in values]
    assert trial.user_attrs["values"] == measured and trial.value == pytest.approx(statistics.fmean(measured))
    return runs


def test_every_trial_is_run_folders_and_its_value_their_mean(tmp_path, capsys):
    space = space_file(tmp_path, seeds=2)
    assert main(sweep_command(space, tmp_path / "sweeps")) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "sweeps" / "s"
    assert f"sweep folder: {folder}" in out and "best trial" in out
    assert sorted(p.name for p in folder.iterdir()) == [
        ".sweep-lock",
        "recipe.yaml",
        "study.db",
        "sweep.yaml",
        "trials",
    ]
    trials = study_of(folder).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    for trial in trials:
        runs = two_seeds_measured(trial)
        recipe = yaml.safe_load((runs[1] / "recipe.yaml").read_text())
        assert recipe["seed"] == 1 and recipe["optim"]["generator"]["lr"] == trial.params["optim.generator.lr"]
        assert recipe["optim"]["discriminator"]["betas"] == json.loads(trial.params["optim.discriminator.betas"])


def test_a_space_that_cannot_fit_the_recipe_is_refused_before_any_trial(tmp_path, capsys):
    space = space_file(
        tmp_path,
        space={"optim.generator.lrr": {"uniform": [0.1, 0.2]}, "train.d_steps": {"int": [0, 3]}},
        measure="nonexistent",
    )
    assert main(sweep_command(space, tmp_path / "sweeps")) == 2
    err = capsys.readouterr().err
    assert f"{space}: space.optim.generator.lrr: 0.1 does not fit the recipe" in err
    assert f"{space}: space.train.d_steps: 0 does not fit the recipe" in err
    assert f"{space}: measure: no installed metric 'nonexistent'" in err
    assert not (tmp_path / "sweeps").exists()


def test_a_continued_sweep_needs_the_same_sweep_file(tmp_path, capsys):
    space = space_file(tmp_path, trials=1)
    assert main(sweep_command(space, tmp_path / "sweeps")) == 0
    space_file(tmp_path, trials=2, budget={"steps": 7})
    assert main(sweep_command(space, tmp_path / "sweeps")) == 1
    assert "holds a sweep started with another sweep file" in capsys.readouterr().err


def worker(space: Path, runs: Path, trials_log: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "WANDB_SILENT": "true", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo", *sweep_command(space, runs, *extra)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=trials_log.open("w"),
        text=True,
    )


def test_a_sweep_of_20_trials_survives_a_kill_and_continues(tmp_path):
    space = space_file(tmp_path, trials=20, budget={"steps": 3}, eval={"n": 100})
    log = tmp_path / "first.log"
    first = worker(space, tmp_path / "sweeps", log)
    deadline = time.monotonic() + 300
    while log.read_text().count(" complete ") < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    folder = tmp_path / "sweeps" / "s"
    before = {t.number: t.value for t in study_of(folder).trials if t.state.name == "COMPLETE"}
    assert len(before) >= 4
    second = worker(space, tmp_path / "sweeps", tmp_path / "second.log")
    assert second.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    trials = study_of(folder).trials
    complete = {t.number: t.value for t in trials if t.state.name == "COMPLETE"}
    assert len(complete) == 20 and all(complete[n] == value for n, value in before.items())
    killed = [t for t in trials if t.state.name == "FAIL"]
    retried = [t.user_attrs["retry_of"] for t in trials if "retry_of" in t.user_attrs]
    assert sorted(retried) == sorted(t.number for t in killed)  # the trial cut short ran again, once


def test_a_trial_stopped_by_sigterm_exits_143_and_runs_again(tmp_path):
    space = space_file(tmp_path, trials=1, budget={"seconds": 10}, eval={"n": 100})
    log = tmp_path / "first.log"
    first = worker(space, tmp_path / "sweeps", log)
    folder = tmp_path / "sweeps" / "s"
    deadline = time.monotonic() + 300
    while not list((folder / "trials").glob("*/metrics.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.2)  # the first trial is training
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=120) == 143, log.read_text()[-3000:]
    assert "run the same command again to continue" in log.read_text()
    (stopped,) = study_of(folder).trials
    assert stopped.state.name == "FAIL" and stopped.user_attrs["interrupted"]
    second = worker(space, tmp_path / "sweeps", tmp_path / "second.log")
    assert second.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    stopped, again = study_of(folder).trials
    assert again.state.name == "COMPLETE" and again.user_attrs["retry_of"] == stopped.number
    assert again.params == stopped.params


def test_two_workers_on_one_sqlite_share_the_trials(tmp_path):
    space = space_file(tmp_path, trials=8, budget={"steps": 3}, eval={"n": 100})
    workers = [worker(space, tmp_path / "sweeps", tmp_path / f"w{i}.log") for i in range(2)]
    for process in workers:
        assert process.wait(timeout=600) == 0
    trials = study_of(tmp_path / "sweeps" / "s").trials
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert 8 <= len(done) <= 9 and len(trials) == len(done)  # at most one extra: the other worker's last
    assert len({t.user_attrs["worker"] for t in done}) == 2  # both worked
    runs = [run for t in done for run in t.user_attrs["runs"]]
    assert len(runs) == len(set(runs)) == len(done)  # no trial ran twice


def test_the_pruner_stops_a_trial_from_the_metric_training_logs(tmp_path):
    from ganzoo.run.sweep.space import load_settings
    from ganzoo.run.sweep.trial import run_trial

    registry = Registry.from_plugin_manager(make_plugin_manager())
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"extends": TOY, "eval": {"every": 1, "n": 100, "metrics": [{"name": "modes"}]}}))
    space = space_file(tmp_path, budget={"steps": 40}, prune=True)
    settings = load_settings(space, recipe, registry, SMALL)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    base = tmp_path / "base.yaml"
    from ganzoo.recipe import load_recipe

    base.write_text(load_recipe(recipe, registry, SMALL + ["data.size=128"]).to_yaml())
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned):
        run_trial(trial, settings, base, registry, tmp_path / "trials")
    (run,) = [Path(r) for r in trial.user_attrs["runs"]]
    assert yaml.safe_load((run / "recipe.yaml").read_text())["train"]["max_steps"] == 40
    steps = [row["step"] for row in read_rows(RunFolder(run).metrics) if "high_quality" in row]
    assert steps == [2]  # evaluated once, at the end of the first epoch (2 steps), and stopped there


def test_a_sweep_is_reported_on_one_page(tmp_path, capsys):
    space = space_file(tmp_path)
    assert main(sweep_command(space, tmp_path / "sweeps")) == 0
    out = tmp_path / "sweep.html"
    assert main(["report", str(tmp_path / "sweeps" / "s"), "--out", str(out)]) == 0
    page = out.read_text()
    assert "<h1>ganzoo sweep: s</h1>" in page and "3 trial(s) of 3" in page
    assert page.split("<tbody>")[1].count("<tr>") == 3 and "high_quality against each hyperparameter" in page
    assert page.count("data:image/png;base64,") == 1 + 2  # the best trial's grid, one plot per key


def test_a_population_sweep_trains_its_trials_together_each_as_alone(tmp_path, capsys):
    space = space_file(tmp_path, trials=3, seeds=2, population=2, budget={"steps": 12})
    assert main(sweep_command(space, tmp_path / "sweeps")) == 0
    err = capsys.readouterr().err
    assert err.count("ganzoo: train.population=2: 2 runs in one batched step") == 2  # trials 0 and 1, two seeds
    assert "Heartbeat" not in err
    trials = study_of(tmp_path / "sweeps" / "s").trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3  # trial 2 alone: the sweep wants 3
    for trial in trials:
        two_seeds_measured(trial)
    member = Path(trials[1].user_attrs["runs"][1])
    recipe = yaml.safe_load((member / "recipe.yaml").read_text())
    assert recipe["seed"] == 1 and recipe["train"]["population"] == 1  # the recipe a lone trial trains
    assert recipe["optim"]["generator"]["lr"] == trials[1].params["optim.generator.lr"]
    alone = ["run", str(member / "recipe.yaml"), f"run.dir={tmp_path / 'alone'}", "run.name=alone", "--no-progress"]
    assert main(alone) == 0
    a, b = weights(member), weights(tmp_path / "alone" / "alone")
    for network in ("generator", "discriminator"):
        for name, tensor in a[network].items():  # batched kernels round differently: near, not bitwise
            assert torch.allclose(tensor, b[network][name], atol=1e-5, rtol=0), (network, name)


def test_a_population_sweep_searches_only_what_members_may_differ_in(tmp_path, capsys):
    space = space_file(tmp_path, population=2, space={"loss.label_smoothing": {"uniform": [0.0, 0.2]}})
    assert main(sweep_command(space, tmp_path / "sweeps")) == 2
    assert f"{space}: space.loss.label_smoothing: the trials of a population may differ in optim.* keys only" in (
        capsys.readouterr().err
    )
    space = space_file(tmp_path, population=2)
    assert main(sweep_command(space, tmp_path / "sweeps", "loss.r1_gamma=1.0")) == 2
    err = capsys.readouterr().err
    assert f"{space}: population: the recipe cannot train 2 trials at once: " in err and "R1 penalty" in err
    assert not (tmp_path / "sweeps").exists()


def test_the_pruner_stops_trials_of_a_population_each_alone(tmp_path):
    from ganzoo.recipe import load_recipe
    from ganzoo.run.sweep.space import load_settings
    from ganzoo.run.sweep.together import run_together

    registry = Registry.from_plugin_manager(make_plugin_manager())
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"extends": TOY, "eval": {"every": 1, "n": 100, "metrics": [{"name": "modes"}]}}))
    settings = load_settings(space_file(tmp_path, budget={"steps": 40}, population=2), recipe, registry, SMALL)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    base = tmp_path / "base.yaml"
    base.write_text(load_recipe(recipe, registry, SMALL + ["data.size=128"]).to_yaml())
    outcomes = run_together([study.ask(), study.ask()], settings, base, registry, tmp_path / "trials")
    assert [type(outcome) for outcome in outcomes] == [optuna.TrialPruned, optuna.TrialPruned]
    for name in ("trial-0000-s0", "trial-0001-s0"):
        steps = [
            row["step"] for row in read_rows(RunFolder(tmp_path / "trials" / name).metrics) if "high_quality" in row
        ]
        assert steps == [2]  # evaluated at the end of the first epoch (2 steps), and stopped there


def test_a_population_of_trials_stopped_by_sigterm_runs_again(tmp_path):
    space = space_file(tmp_path, trials=2, population=2, budget={"seconds": 10}, eval={"n": 100})
    log = tmp_path / "first.log"
    first = worker(space, tmp_path / "sweeps", log)
    folder = tmp_path / "sweeps" / "s"
    deadline = time.monotonic() + 300
    while len(list((folder / "trials").glob("*/metrics.jsonl"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # both trials are training
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=120) == 143, log.read_text()[-3000:]
    stopped = study_of(folder).trials
    assert [(t.state.name, t.user_attrs["interrupted"]) for t in stopped] == [("FAIL", True)] * 2
    second = worker(space, tmp_path / "sweeps", tmp_path / "second.log")
    assert second.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    again = [t for t in study_of(folder).trials if t.state.name == "COMPLETE"]
    assert sorted(t.user_attrs["retry_of"] for t in again) == [0, 1]
    assert [t.params for t in again] == [stopped[t.user_attrs["retry_of"]].params for t in again]


@pytest.mark.parametrize(
    ("grid", "population"),
    [([2.0e-4, 1.0e30], 2), ([1.0e30], 2), ([2.0e-4, 1.0e30], 1)],
    ids=["in-a-population", "the-last-alone", "no-population"],
)
def test_a_trial_that_diverges_fails_alone_and_the_sweep_goes_on(tmp_path, capsys, grid, population):
    space = space_file(
        tmp_path,
        space={"optim.discriminator.lr": {"grid": grid}},
        sampler="grid",
        trials=len(grid),
        population=population,
        budget={"steps": 20},
    )
    assert main(sweep_command(space, tmp_path / "sweeps")) == 0
    assert "D's output became NaN" in capsys.readouterr().err
    trials = {json.loads(t.params["optim.discriminator.lr"]): t for t in study_of(tmp_path / "sweeps" / "s").trials}
    diverged = trials.pop(1.0e30)
    assert diverged.state.name == "FAIL" and "interrupted" not in diverged.user_attrs
    assert [Path(run).name for run in diverged.user_attrs["runs"]] == [f"trial-{diverged.number:04d}-s0"]
    assert [t.state.name for t in trials.values()] == ["COMPLETE"] * len(trials)
