"""train.cuda_graph: the capture contract, its refusals and the fallback line (CPU), and the
captured step itself (CUDA only: skipped where there is no GPU)."""

from __future__ import annotations

import contextlib
import math

import pytest
import torch
import yaml
from loss_doubles import poison_after

import ganzoo
from conftest import REPO, metrics, run_folder, small_run, weights
from conftest import ganzoo as ganzoo_cli
from ganzoo import DivergenceError
from ganzoo.api import CAPTURE_UNDECLARED, capture_refusal
from ganzoo.api.capture import component_refusals, decide
from ganzoo.cli import main
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo.run import build_trainer
from ganzoo.run.outputs import (
    Checkpointer,
    Curves,
    EvaluateEvery,
    FinalWeights,
    MetricsLog,
    ProgressBar,
    ProgressVideo,
    SampleGrids,
    WandbLogger,
)
from ganzoo.runfolder.checkpoints import step_checkpoints
from ganzoo.train import capture as cuda_graph
from ganzoo.train.capture import CapturedStep
from ganzoo.train.log_window import LogWindow

cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal off CUDA")
cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_every_bundled_component_declares_it_can_be_captured():
    registry = Registry.from_plugin_manager(make_plugin_manager())  # every installed plugin: ganzoo's own
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


def test_a_captured_pass_is_counted_per_replay_not_at_capture():
    """The log window's side of a capture (CPU-visible): the capture's additions are taken
    back and returned per replay, and a scalar the warm-up steps never logged is refused."""
    window = LogWindow()
    one = torch.tensor(1.0)
    window.add({"d_loss": one, "g_loss": one}, 1)  # a warm-up step
    per_replay = window.counts_per_pass(lambda: [window.add({"d_loss": one}, 2) for _ in range(5)])
    # g_loss is in the open window but not in the pass: no count of 0 (a mean of nothing) is kept
    assert per_replay == {"d_loss": 5} and window.counts == {"d_loss": 1, "g_loss": 1}
    window.close()
    window.count(per_replay)
    assert window.counts == {"d_loss": 5}
    with pytest.raises(RuntimeError, match=r"the scalars \['gp'\] were not logged by the warm-up steps"):
        window.counts_per_pass(lambda: window.add({"gp": one}, 3))


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


@pytest.fixture
def same_kernels(monkeypatch):
    """A context in which a captured run never captures: every step runs eagerly, with all
    else as in a captured run (capturable optimisers, the side stream). Against it, a
    captured run shows what the graph alone changes. cuDNN is deterministic for the whole test."""
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)

    @contextlib.contextmanager
    def eager_forever():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cuda_graph, "WARMUP_STEPS", 10**9)
            yield

    return eager_forever


BUFFERS = ("running_mean", "running_var", "num_batches_tracked", "_u", "_v")
"""The last part of a buffer's name (batch norm's statistics, spectral norm's vectors): state
that no optimiser moves."""


def max_difference(ours, theirs, *, parameters_only: bool = False) -> dict[str, float]:
    """The largest absolute difference between two run folders' weights, by network;
    integer buffers (batch norm's counters) must be equal."""
    worst = {}
    for net in ("generator", "discriminator"):
        a, b = weights(ours)[net], weights(theirs)[net]
        assert a.keys() == b.keys()
        worst[net] = 0.0
        for key in b:
            if parameters_only and key.rsplit(".", 1)[-1] in BUFFERS:
                continue
            if b[key].is_floating_point():
                worst[net] = max(worst[net], (a[key] - b[key]).abs().max().item())
            else:
                assert torch.equal(a[key], b[key]), (net, key)
    return worst


def movement_bound(optimizer: dict, updates: int) -> float:
    """The most ``updates`` optimiser steps can move one weight, whatever the gradients:
    Adam's step is at most lr * (1 - b1) / sqrt(1 - b2) * sqrt(sum (b1^2 / b2)^k) *
    sqrt(1 - b2^t) / (1 - b1^t) (Cauchy-Schwarz on its two averages), RMSprop's lr /
    sqrt(1 - alpha). Two runs whose gradients differ in the last bits (a near-zero gradient
    whose sign flips) can part by twice this: the tolerance against a plain eager run."""
    lr = optimizer["lr"]
    if optimizer["name"] == "rmsprop":
        return lr * updates / math.sqrt(1 - optimizer["alpha"])
    assert optimizer["name"] == "adam", optimizer["name"]
    beta1, beta2 = optimizer["betas"]
    ratio = beta1**2 / beta2
    return lr * sum(
        (1 - beta1)
        / math.sqrt(1 - beta2)
        * math.sqrt(sum(ratio**k for k in range(t)))
        * math.sqrt(1 - beta2**t)
        / (1 - beta1**t)
        for t in range(1, updates + 1)
    )


def eager_tolerance(folder, steps: int) -> dict[str, float]:
    """Per network: twice :func:`movement_bound` for ``steps`` steps of the run in
    ``folder`` (the discriminator's updates counted generously: ``d_steps`` a step, plus an
    epoch's leftover batches)."""
    recipe = yaml.safe_load((folder / "recipe.yaml").read_text())
    updates = {"generator": steps, "discriminator": steps * (recipe["train"]["d_steps"] + 1)}
    return {net: 2 * movement_bound(recipe["optim"][net], n) for net, n in updates.items()}


def within(differences: dict[str, float], tolerance: dict[str, float]) -> bool:
    return all(differences[net] <= tolerance[net] for net in tolerance)


@cuda_only
@pytest.mark.parametrize("loss", ["loss.name=bce", "loss.r1_gamma=1.0"])  # R1: a second backward pass
def test_captured_steps_learn_what_eager_steps_learn(toy_recipe, capsys, same_kernels, loss):
    """Bitwise against the same kernels run eagerly; against a plain eager run (optimisers
    without capturable=True, whose step arithmetic differs in the last bits), the parameters
    within :func:`eager_tolerance`."""
    common = ("train.max_steps=40", loss)
    captured = _run(toy_recipe, capsys, "train.cuda_graph=on", "run.name=captured", *common)
    eager = _run(toy_recipe, capsys, "train.cuda_graph=off", "run.name=eager", *common)
    with same_kernels():
        same = _run(toy_recipe, capsys, "train.cuda_graph=on", "run.name=same", *common)
    assert metrics(captured) == metrics(same)
    assert max(max_difference(captured, same).values()) == 0
    assert [row["step"] for row in metrics(captured)] == [row["step"] for row in metrics(eager)]
    assert within(max_difference(captured, eager, parameters_only=True), eager_tolerance(captured, 40))


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


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=cuda_only)])
def test_a_divergence_stops_the_run_with_its_step_captured_or_not(device, digits, tmp_path):
    """The divergence guard of a captured step: the NaN loss of step 6 is reported with its
    step at the next log (step 8) and no state after the last good checkpoint is saved. On a
    CPU the same test runs the eager step. LSGAN: BCE on probabilities would meet the NaN
    in PyTorch's own check of its input, a device-side assertion on CUDA, before ganzoo's."""
    registry = Registry.from_plugin_manager(make_plugin_manager())
    mode = "on" if device == "cuda" else "auto"
    recipe = load_recipe(
        REPO / "recipes" / "lsgan_mnist.yaml",
        registry,
        [f"device={device}", f"train.cuda_graph={mode}", f"data.root={digits}", "train.batch_size=16"]
        + ["model.width=8", "train.max_steps=20", "train.log_every=4", "wandb.mode=disabled"],
    )
    trainer = build_trainer(recipe, registry)
    assert isinstance(trainer.stepper, CapturedStep) == (device == "cuda")
    poison_after(trainer, 5)
    trainer.callbacks.append(Checkpointer(tmp_path / "run", recipe.resolved, every=4))
    with pytest.raises(DivergenceError, match="d_loss became NaN or infinite at step 6 "):
        trainer.fit()
    assert trainer.status == "failed"
    assert [p.name for p in step_checkpoints(tmp_path / "run")] == ["step_0000004.pt"]


@cuda_only
def test_a_signal_stops_a_captured_run_with_a_checkpoint(toy_recipe):
    import signal
    import subprocess
    import sys
    import time

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


CAPTURED_RECIPES = {
    # recipe -> overrides that make it small enough for 96 random digits
    "vanilla_mnist": (),
    "cgan_mnist": (),
    "dcgan_mnist": (),
    "lsgan_mnist": (),
    "wgan_mnist": (),
    "wgan_gp_mnist": (),
    "dragan_mnist": (),
    "sngan_mnist": (),
    "ebgan_mnist": (),
    # BEGAN's recipe halves its rates on a plateau, which keeps it eager (docs/speed.md); its
    # loss, k included, is captured once the schedule is constant.
    "began_mnist": ("optim.generator.schedule={name: constant}", "optim.discriminator.schedule={name: constant}"),
    "acgan_mnist": (),
    "infogan_mnist": (),
    "dcgan_stabilized_mnist": (),  # instance noise and the EMA
    "pix2pix_mnist_edges": (),  # an image condition through the static buffers
    "pacdcgan2_stacked": ("data.size=192", "train.batch_size=32"),
}


def recipe_run(recipe: str, digits, folder, capsys, *overrides: str, device: str = "cuda"):
    """``recipe`` trained for 10 steps on ``digits`` (96 random MNIST digits, batch 16: an
    epoch's short last group runs eagerly between replays); the run folder and the
    ``train.cuda_graph`` line."""
    arguments = [
        "run",
        str(REPO / "recipes" / f"{recipe}.yaml"),
        f"device={device}",
        f"data.root={digits}",
        "train.max_steps=10",
        "train.batch_size=16",
        "train.log_every=3",
        *small_run(folder),
        *CAPTURED_RECIPES[recipe],
        *overrides,
    ]
    assert main(arguments) == 0
    out, err = capsys.readouterr()
    return run_folder(out), [line for line in err.splitlines() if "train.cuda_graph" in line]


@cuda_only
@pytest.mark.parametrize("recipe", sorted(CAPTURED_RECIPES))
def test_every_bundled_recipe_is_captured_and_learns_what_eager_learns(
    recipe, digits, tmp_path, capsys, same_kernels, record_property
):
    """Bitwise (weights, buffers and logged means) against the same kernels run eagerly;
    against a plain eager run, the parameters within :func:`eager_tolerance` (the buffers
    follow the parameters and have no such bound)."""
    captured, line = recipe_run(recipe, digits, tmp_path / "captured", capsys)
    assert line == ["ganzoo: train.cuda_graph=auto: the training step is captured as one CUDA graph"]
    eager, _ = recipe_run(recipe, digits, tmp_path / "eager", capsys, "train.cuda_graph=off")
    with same_kernels():
        same, _ = recipe_run(recipe, digits, tmp_path / "same", capsys)
    versus_same = max_difference(captured, same)
    versus_eager = max_difference(captured, eager, parameters_only=True)
    record_property("max_difference_vs_same_kernels", versus_same)
    record_property("max_parameter_difference_vs_eager", versus_eager)
    record_property("eager_tolerance", eager_tolerance(captured, 10))
    assert metrics(captured) == metrics(same)
    assert max(versus_same.values()) == 0
    assert [row["step"] for row in metrics(captured)] == [row["step"] for row in metrics(eager)]
    assert within(versus_eager, eager_tolerance(captured, 10))
