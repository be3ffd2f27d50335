"""Checkpoint files: atomic writes, safe loads, damaged files, divergence."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys

import pytest
import torch
from loss_doubles import poison_after

from conftest import REPO
from ganzoo import DivergenceError
from ganzoo.recipe import load_recipe
from ganzoo.run import build_trainer
from ganzoo.run.outputs import Checkpointer
from ganzoo.runfolder.checkpoints import (
    CheckpointError,
    atomic_save,
    latest_checkpoint,
    load_checkpoint,
    step_checkpoints,
)


def trained(toy_recipe, registry, tmp_path, *overrides, every=4, keep_last=3):
    recipe = load_recipe(toy_recipe, registry, ["device=cpu", *overrides])
    trainer = build_trainer(recipe, registry)
    checkpointer = Checkpointer(tmp_path / "run", recipe.resolved, every=every, keep_last=keep_last)
    trainer.callbacks.append(checkpointer)
    return trainer, checkpointer


def test_every_n_steps_keeping_the_last_ones(toy_recipe, registry, tmp_path):
    trainer, _ = trained(toy_recipe, registry, tmp_path, "train.max_steps=14")
    trainer.fit()
    assert [p.name for p in step_checkpoints(tmp_path / "run")] == [
        "step_0000008.pt",
        "step_0000012.pt",
        "step_0000014.pt",
    ]
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "step_0000014.pt")
    assert state["trainer"]["step"] == 14 and state["recipe"]["data"]["name"] == "ring"
    assert set(state["trainer"]["rng"]) == {"python", "torch", "cuda", "numpy"}
    assert not list((tmp_path / "run" / "checkpoints").glob("*.tmp"))


def test_a_full_disk_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    atomic_save({"format": 1, "trainer": {"step": 1}}, path)

    def full_disk(obj, file, *args, **kwargs):
        file.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError, match="cannot write .*c.pt: No space left on device; the previous"):
        atomic_save({"format": 1, "trainer": {"step": 2}}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["trainer"]["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def small_filesystem_script(mount: str, size: str, then: str) -> list[str]:
    """A shell command that mounts a tmpfs of ``size`` at ``mount`` in a private mount
    namespace (unprivileged, so nothing leaks to the host) and runs ``then`` there."""
    return [
        "unshare",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        f"mount -t tmpfs -o size={size} tmpfs {mount} && {then}",
    ]


def test_a_real_full_disk_during_a_checkpoint_is_the_documented_message(tmp_path):
    """A size-limited tmpfs, not a faked OSError: torch's zip writer hides ENOSPC behind
    'unexpected pos', and the message must still say the disk is full."""
    mount, copy = tmp_path / "small", tmp_path / "copy"
    mount.mkdir()
    if (
        shutil.which("unshare") is None
        or subprocess.run(small_filesystem_script(str(mount), "64k", "true"), capture_output=True).returncode != 0
    ):
        pytest.skip("cannot mount a small tmpfs here (no unprivileged user and mount namespaces)")
    # Each checkpoint of this model is about 190 kB: two fit in 512 kB, the third does not.
    run = (
        f"{sys.executable} -m ganzoo run {REPO / 'recipes' / 'toy_ring.yaml'} model.hidden_dim=64 "
        f"data.size=640 train.batch_size=64 train.epochs=1 checkpoint.every=1 checkpoint.keep_last=5 "
        f"run.dir={mount}/runs wandb.mode=disabled train.cuda_graph=off --no-progress"
    )  # off: no path line
    result = subprocess.run(
        small_filesystem_script(str(mount), "512k", f"{run}; status=$?; cp -a {mount}/runs {copy}; exit $status"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpected pos" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ganzoo: error: cannot write ") and line.endswith(
        ": No space left on device; the previous checkpoints are untouched"
    )
    (folder,) = (copy).iterdir()
    saved = step_checkpoints(folder)
    assert saved and all(load_checkpoint(path)["trainer"]["step"] == int(path.stem[5:]) for path in saved)
    assert f"step_{len(saved) + 1:07d}.pt" in line
    assert not [p.name for p in (folder / "checkpoints").iterdir() if p.suffix == ".tmp"]


def test_a_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "c.pt"
    atomic_save({"format": 1, "trainer": {"w": torch.randn(1000)}}, path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="cannot be loaded safely \\(truncated, corrupt"):
        load_checkpoint(path)


def test_a_checkpoint_of_another_format_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    torch.save({"format": 99, "trainer": {}}, path)
    with pytest.raises(CheckpointError, match="not a ganzoo checkpoint of format 1 \\(found 99\\)"):
        load_checkpoint(path)


class Exploit:
    """Unpickling this runs code: what a checkpoint from the internet could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_malicious_pickle_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "trainer": Exploit(marker)}, path)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(path)
    assert not marker.exists()
    # the same file loaded unsafely really would have run the code: the test can fail
    with open(path, "rb"):
        torch.load(path, weights_only=False)
    assert marker.exists()


def test_the_newest_loadable_checkpoint_wins(toy_recipe, registry, tmp_path):
    trainer, _ = trained(toy_recipe, registry, tmp_path, "train.max_steps=12")
    trainer.fit()
    newest = step_checkpoints(tmp_path / "run")[-1]
    newest.write_bytes(b"garbage")
    path, state, warnings = latest_checkpoint(tmp_path / "run")
    assert path.name == "step_0000008.pt" and state["trainer"]["step"] == 8
    assert len(warnings) == 1 and "step_0000012.pt" in warnings[0]


def test_no_checkpoint_at_all(tmp_path):
    with pytest.raises(CheckpointError, match="no loadable checkpoint in"):
        latest_checkpoint(tmp_path)


def test_divergence_stops_with_the_step_and_never_saves_a_bad_state(toy_recipe, registry, tmp_path):
    trainer, checkpointer = trained(toy_recipe, registry, tmp_path, "train.max_steps=20", "train.log_every=4")
    poison_after(trainer, 5)  # the discriminator loss turns NaN at step 6
    with pytest.raises(DivergenceError, match="d_loss became NaN or infinite at step 6 "):
        trainer.fit()
    assert trainer.status == "failed"
    assert [p.name for p in step_checkpoints(tmp_path / "run")] == ["step_0000004.pt"]
    good = load_checkpoint(tmp_path / "run" / "checkpoints" / "step_0000004.pt")["trainer"]["generator"]
    assert all(torch.isfinite(t).all() for t in good.values())


def test_best_checkpoint_follows_the_metric(toy_recipe, registry, tmp_path):
    recipe = load_recipe(toy_recipe, registry, ["device=cpu", "train.max_steps=20", "train.log_every=2"])
    trainer = build_trainer(recipe, registry)
    checkpointer = Checkpointer(tmp_path / "run", recipe.resolved, every=100, best_metric="g_loss", best_mode="min")
    logged = []
    trainer.callbacks += [
        checkpointer,
        type(
            "Spy",
            (),
            {
                **{m: lambda *a: None for m in ("on_train_start", "on_step_end", "on_epoch_end", "on_train_end")},
                "on_log": lambda self, t, s: logged.append(s),
            },
        )(),
    ]
    trainer.fit()
    best = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    assert best["best"]["value"] == min(row["g_loss"] for row in logged)
    assert best["trainer"]["step"] == min(logged, key=lambda row: row["g_loss"])["step"]
