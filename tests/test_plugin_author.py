"""What a plugin author reads off a run without guessing: each network's learning rate (logged,
and in the run context), what a schedule logs of its own, the epoch a row logged from
``on_epoch_end`` carries, the order of the last events of a run, the registry's kinds, and a
package skeleton from ``ganzoo new-plugin`` whose tests pass as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import REPO, one_line, plugin_module
from ganzoo import testing
from ganzoo.cli import main
from ganzoo.commands.plugin_skeleton import COMPONENTS
from ganzoo.plugins.registry import KINDS

TOY = REPO / "recipes" / "toy_ring.yaml"


class Watcher(ganzoo.Callback):
    """Records every event with the run's step and epoch, the rates it reads, and logs one
    row at the end of each epoch."""

    name = "watcher"
    events: list = []

    def on_log(self, run: ganzoo.TrainingRun, scalars: dict[str, float]) -> None:
        Watcher.events.append(("log", run.step, scalars.get("epoch"), "d_loss" in scalars))

    def on_epoch_end(self, run: ganzoo.TrainingRun) -> None:
        Watcher.events.append(("epoch_end", run.step, run.epoch, run.learning_rates["generator"]))
        run.log({"epoch_value": float(run.epoch)})

    def on_train_end(self, run: ganzoo.TrainingRun) -> None:
        Watcher.events.append(("end", run.step, run.epoch, run.status))


class Halving(ganzoo.Schedule):
    """Halves the learning rate every step; logs how many times it has."""

    name = "halving"

    def start(self, optimizer, total_steps):
        self.optimizer, self.halvings = optimizer, 0

    def step(self):
        self.halvings += 1
        for group in self.optimizer.param_groups:
            group["lr"] /= 2

    def log_values(self):
        return {"halvings": self.halvings}


@pytest.fixture
def registry():
    return testing.registry(
        {
            "vanilla": ganzoo_vanilla,
            "datasets": ganzoo_datasets,
            "author": plugin_module("author_plugin", callbacks=[Watcher], schedules=[Halving]),
        }
    )


def _run(registry, tmp_path, *overrides, steps=1000):
    """The toy ring, 512 points at batch 128: 4 steps an epoch, 3 epochs (12 steps) unless
    ``steps`` stops it sooner."""
    Watcher.events = []
    base = ["data.size=512", "train.batch_size=128", "train.epochs=3", "callbacks=[{name: watcher}]"]
    return testing.short_run(TOY, registry, tmp_path, [*base, *overrides], steps=steps)


def test_each_networks_learning_rate_is_logged_and_a_schedule_logs_its_own(registry, tmp_path):
    run = _run(registry, tmp_path, "optim.generator.schedule={name: halving}", "optim.generator.lr=0.001")
    rows = [row for row in testing.read_metrics(run.folder) if "d_loss" in row]
    assert [row["lr/generator"] for row in rows[:3]] == [0.001 / 2, 0.001 / 4, 0.001 / 8]
    assert all(row["lr/discriminator"] == 0.001 for row in rows)  # toy_ring's rate, no schedule
    assert [row["schedule/generator/halvings"] for row in rows[:3]] == [1.0, 2.0, 3.0]
    assert not any(key.startswith("schedule/discriminator/") for row in rows for key in row)
    # Readable from the run context: at the end of epoch 1 (step 4), four halvings.
    first_epoch_end = next(event for event in Watcher.events if event[0] == "epoch_end")
    assert first_epoch_end == ("epoch_end", 4, 1, 0.001 / 16)
    assert (run.folder / "curves" / "learning_rates.png").is_file()


def test_a_row_logged_from_on_epoch_end_carries_the_epoch_that_ended(registry, tmp_path):
    run = _run(registry, tmp_path)
    extra = [(row["step"], row["epoch"]) for row in testing.read_metrics(run.folder) if "epoch_value" in row]
    assert extra == [(4, 1), (8, 2), (12, 3)]


def test_the_last_window_is_logged_after_the_last_epoch_end_and_before_the_end(registry, tmp_path):
    # log_every 5 over 12 steps: rows at 5 and 10 inside the epochs; the last window (11-12)
    # is logged after the last on_epoch_end, then on_train_end comes.
    _run(registry, tmp_path, "train.log_every=5")
    # The loop's rows, the ends of the epochs and of the run (not the rows on_epoch_end logs).
    events = [(kind, step, epoch) for kind, step, epoch, extra in Watcher.events if kind != "log" or extra is True]
    assert events == [
        ("epoch_end", 4, 1),
        ("log", 5, 2),
        ("epoch_end", 8, 2),
        ("log", 10, 3),
        ("epoch_end", 12, 3),
        ("log", 12, 3),
        ("end", 12, 3),
    ]


def test_a_run_stopped_by_max_steps_has_no_epoch_end_for_the_epoch_it_stopped_in(registry, tmp_path):
    # train.max_steps (here 6, in epoch 2) ends the run inside the loop: no on_epoch_end for
    # it, even when the cap falls on an epoch's last step (8: epoch 2 is not counted as ended).
    for cap, ends in ((6, [("epoch_end", 4, 1)]), (8, [("epoch_end", 4, 1)])):
        _run(registry, tmp_path / str(cap), steps=cap)
        assert [event[:3] for event in Watcher.events if event[0] == "epoch_end"] == ends
        assert Watcher.events[-1] == ("end", cap, 1, "finished")


def test_a_kind_that_does_not_exist_is_one_clear_error(registry):
    with pytest.raises(ganzoo.GanzooError) as error:
        registry.get("losses", "bce")
    assert str(error.value) == (
        "unknown kind of component 'losses'; did you mean 'loss'? known: " + ", ".join(sorted(KINDS))
    )
    assert registry.get("loss", "bce") is ganzoo_vanilla.BCELoss


def test_testing_reads_the_metrics_of_a_run(registry, tmp_path):
    run = _run(registry, tmp_path, steps=2)
    rows = testing.read_metrics(run.folder)
    assert [row["step"] for row in rows] == [1, 2]
    assert {"d_loss", "g_loss", "lr/generator", "lr/discriminator"} <= set(rows[0])


def test_new_plugin_writes_a_package_whose_tests_pass_as_written(tmp_path, capsys):
    """One package of every kind, written by the command, then their own tests, as the
    author runs them: pytest in a fresh process, the packages on the path."""
    for kind in COMPONENTS:
        assert main(["new-plugin", f"my_{kind}", "--kind", kind, "--out", str(tmp_path / kind)]) == 0
    out = capsys.readouterr().out
    assert f"Next: cd {tmp_path / 'loss'} && pip install -e . && pytest && ganzoo run my_loss_ring" in out
    assert (tmp_path / "loss" / "ganzoo_my_loss" / "recipes" / "my_loss_ring.yaml").is_file()
    assert (
        '[project.entry-points.ganzoo]\nmy_loss = "ganzoo_my_loss"'
        in (tmp_path / "loss" / "pyproject.toml").read_text()
    )
    packages = [str(tmp_path / kind) for kind in COMPONENTS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(packages), "WANDB_SILENT": "true"}
    tests = [str(tmp_path / kind / "tests") for kind in COMPONENTS]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=", *tests],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{3 * len(COMPONENTS)} passed" in result.stdout


@pytest.mark.parametrize(
    "argv, status, words",
    [
        (["new-plugin", "My-Plugin"], 2, "expected a name of lower-case letters"),
        (["new-plugin", "fine", "--kind", "feature_extractor"], 2, "invalid choice: 'feature_extractor'"),
    ],
)
def test_new_plugin_refuses_a_bad_command_line(argv, status, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == status and words in capsys.readouterr().err


def test_new_plugin_never_writes_into_a_folder_that_holds_files(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    status = main(["new-plugin", "mine", "--out", str(tmp_path)])
    assert (
        one_line(capsys, status)
        == f"ganzoo: error: {tmp_path} already exists and is not an empty folder: nothing was written"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_the_skeleton_imports_only_the_public_api(tmp_path, capsys):
    assert main(["new-plugin", "tidy", "--kind", "callback", "--out", str(tmp_path)]) == 0
    source = (tmp_path / "ganzoo_tidy" / "__init__.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == [
        "from __future__ import annotations",
        "import torch",
        "from pydantic import Field, PositiveInt",
        "import ganzoo",
    ]
    assert Path(tmp_path / "README.md").read_text().startswith("# ganzoo-tidy\n")
