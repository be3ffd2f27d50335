"""train.cuda_graph: the capture contract, its refusals and the fallback line (CPU), and the
captured step itself (CUDA only: skipped where there is no GPU)."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from conftest import ganzoo as ganzoo_cli
from conftest import metrics, run_folder, weights
from ganzoo.checkpoint import Checkpointer
from ganzoo.cli import main
from ganzoo.components import CAPTURE_UNDECLARED, capture_refusal
from ganzoo.cuda_graph import component_refusals, decide
from ganzoo.evaluation import EvaluateEvery
from ganzoo.outputs import Curves, FinalWeights, MetricsLog, ProgressBar, ProgressVideo, SampleGrids, WandbLogger

cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal off CUDA")
cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_every_bundled_component_declares_it_can_be_captured(registry):
    for kind in ("architecture", "loss", "callback"):
        for name in registry.names(kind):
            assert capture_refusal(registry.get(kind, name)) is None, (kind, name)
    for output in (
        Checkpointer,
        SampleGrids,
        MetricsLog,
        Curves,
        ProgressBar,
        FinalWeights,
        ProgressVideo,
        WandbLogger,
        EvaluateEvery,
    ):
        assert capture_refusal(output) is None, output  # the outputs every run attaches


def test_a_component_that_declares_nothing_is_refused_with_its_name_and_reason():
    class ThirdParty(ganzoo.Loss):
        name = "third_party"

    class Honest(ganzoo.Callback):
        name = "honest"
        capturable = "it reads the loss on the host every step"

    assert capture_refusal(ThirdParty) == CAPTURE_UNDECLARED
    assert component_refusals([("loss", ThirdParty), ("callback", Honest())]) == [
        f"loss 'third_party' cannot be captured: {CAPTURE_UNDECLARED}",
        "callback 'honest' cannot be captured: it reads the loss on the host every step",
    ]
    assert not decide("auto", ["x"]).captured and decide("auto", []).captured and not decide("off", []).captured


@cpu_only
def test_on_off_cuda_fails_in_check_and_run_with_exit_2(toy_recipe):
    for command in (["check"], ["run", "--no-progress"]):
        result = ganzoo_cli(*command, str(toy_recipe), "train.cuda_graph=on")
        assert result.returncode == 2, result.stderr
        assert "train.cuda_graph: on, but the device is cpu, and CUDA graphs need a CUDA device" in result.stderr
        assert "Traceback" not in result.stderr


def test_on_with_compile_names_the_setting(toy_recipe, capsys):
    assert main(["check", str(toy_recipe), "train.cuda_graph=on", "train.compile=default"]) == 2
    assert "train.cuda_graph: on, but train.compile=default compiles the networks instead" in capsys.readouterr().err


def test_on_with_a_learning_rate_schedule_names_it(toy_recipe, capsys):
    # A captured optimiser step keeps the rate it was captured with, so a schedule would be ignored.
    assert main(["check", str(toy_recipe), "train.cuda_graph=on", "optim.generator.schedule={name: cosine}"]) == 2
    assert (
        "train.cuda_graph: on, but the learning-rate schedule 'cosine' changes the rate between steps"
        in capsys.readouterr().err
    )


def test_a_schedule_both_networks_use_is_named_once(toy_recipe, capsys):
    # BEGAN's recipe halves both rates with `plateau`; the refusal says so once, not twice.
    schedule = "{name: plateau, metric: d_loss}"
    overrides = [f"optim.generator.schedule={schedule}", f"optim.discriminator.schedule={schedule}"]
    assert main(["check", str(toy_recipe), "train.cuda_graph=on", *overrides]) == 2
    assert capsys.readouterr().err.count("the learning-rate schedule 'plateau'") == 1


def test_bad_value_is_a_recipe_error(toy_recipe, capsys):
    assert main(["check", str(toy_recipe), "train.cuda_graph=maybe"]) == 2
    assert "train.cuda_graph" in capsys.readouterr().err


@cpu_only
def test_auto_says_which_path_it_took_in_one_line(toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "train.max_steps=3", "--no-progress"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "train.cuda_graph" in line]
    assert lines == [
        "ganzoo: train.cuda_graph=auto: eager training step (the device is cpu, and CUDA graphs need a CUDA device)"
    ]


def test_off_prints_nothing(toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "train.max_steps=3", "train.cuda_graph=off", "--no-progress"]) == 0
    assert "train.cuda_graph" not in capsys.readouterr().err


# --------------------------------------------------------------------------- CUDA only (untested on CPU machines)


def _run(recipe, capsys, *overrides: str):
    assert main(["run", str(recipe), "device=cuda", "--no-progress", *overrides]) == 0
    return run_folder(capsys.readouterr().out)


@cuda_only
@pytest.mark.parametrize("loss", ["bce", "wgan_gp"])
def test_captured_steps_learn_what_eager_steps_learn(toy_recipe, capsys, loss):
    """Captured optimisers run with capturable=True (their step counter on the device), whose
    arithmetic may differ from the eager default in the last bits: close, not bitwise."""
    common = ("train.max_steps=40", f"loss.name={loss}")
    captured = _run(toy_recipe, capsys, "train.cuda_graph=on", "run.name=captured", *common)
    eager = _run(toy_recipe, capsys, "train.cuda_graph=off", "run.name=eager", *common)
    assert [row["step"] for row in metrics(captured)] == [row["step"] for row in metrics(eager)]
    for net in ("generator", "discriminator"):
        ours, theirs = weights(captured)[net], weights(eager)[net]
        assert all(torch.allclose(ours[k], theirs[k], rtol=1e-4, atol=1e-5) for k in theirs), net


@cuda_only
def test_a_captured_run_resumes_where_it_stopped_bitwise(toy_recipe, capsys):
    straight = _run(toy_recipe, capsys, "train.cuda_graph=on", "train.max_steps=30", "run.name=straight")
    first = _run(
        toy_recipe, capsys, "train.cuda_graph=on", "train.max_steps=12", "checkpoint.every=6", "run.name=resumed"
    )
    assert main(["run", "--resume", str(first), "train.max_steps=30", "--no-progress"]) == 0
    capsys.readouterr()
    assert metrics(first) == metrics(straight)
    for net in ("generator", "discriminator"):
        ours, theirs = weights(first)[net], weights(straight)[net]
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), net


@cuda_only
def test_a_signal_stops_a_captured_run_with_a_checkpoint(toy_recipe):
    import signal
    import subprocess
    import sys
    import time

    from conftest import REPO

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganzoo",
            "run",
            str(toy_recipe),
            "device=cuda",
            "train.cuda_graph=on",
            "train.epochs=2000",
            "checkpoint.every=50",
            "run.name=sig",
            "--no-progress",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    folder = toy_recipe.parent / "runs" / "sig"
    deadline = time.monotonic() + 120
    while not list(folder.glob("checkpoints/step_*.pt")) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted at step" in err
