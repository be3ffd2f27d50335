"""What `ganzoo run` leaves behind, checked through the CLI: the run folder, the offline
wandb run, reproducibility, progress output and interruption."""

from __future__ import annotations

import re
import time

import imageio_ffmpeg
import pytest
import torch
import yaml
from browser import open_page
from wandb_reader import logged_artifacts, logged_config, logged_history, logged_summary

from conftest import SHARED_DATA, ganzoo, metrics, needs_shared_mnist, run_folder
from ganzoo.cli import main
from ganzoo.plugins import split_name
from ganzoo.train.devices import select_device

SCALARS = {"d_loss", "g_loss", "d_real", "d_fake", "lr/generator", "lr/discriminator"}


def test_a_run_leaves_its_folder_and_an_offline_wandb_run(tmp_path, toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "wandb.mode=offline", "--no-progress"]) == 0
    out = capsys.readouterr().out
    folder = run_folder(out)
    assert folder.parent == tmp_path / "runs" and folder.name.startswith("toy-")

    # 1024 points / 64 = 16 steps an epoch, 2 epochs, scalars every 5 steps, grids every 10.
    rows = metrics(folder)
    assert [row["step"] for row in rows] == [5, 10, 15, 20, 25, 30, 32]
    assert all(set(row) == {"step", "epoch"} | SCALARS for row in rows)
    assert sorted(p.name for p in (folder / "samples").iterdir()) == [
        "step_0000010.png",
        "step_0000020.png",
        "step_0000030.png",
        "step_0000032.png",
    ]
    weights = torch.load(folder / "weights.pt", weights_only=True)
    assert weights["step"] == 32 and weights["status"] == "finished"
    assert set(weights) >= {"generator", "discriminator", "loss"}

    # The saved recipe is fully resolved and loads again to the very same recipe.
    saved = yaml.safe_load((folder / "recipe.yaml").read_text())
    assert saved["model"]["leaky_slope"] == 0.2 and saved["train"]["d_steps"] == 1
    assert main(["check", str(folder / "recipe.yaml"), "--print"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == saved

    # The offline wandb run holds the config, every scalar with its step, and the grids.
    (wandb_file,) = folder.glob("wandb/offline-run-*/run-*.wandb")
    assert f"wandb (offline): {wandb_file.parent}\n" in out
    history = logged_history(wandb_file)
    scalar_rows = [row for row in history if "d_loss" in row]
    assert [row["_step"] for row in scalar_rows] == [row["step"] for row in rows]
    assert all(SCALARS | {"epoch"} <= set(row) for row in scalar_rows)
    assert scalar_rows[0]["g_loss"] == pytest.approx(rows[0]["g_loss"])
    images = [row for row in history if row.get("samples/_type") == "image-file"]
    assert [row["_step"] for row in images] == [10, 20, 30, 32]
    config = logged_config(wandb_file)
    assert config["data"] == saved["data"] and config["train"] == saved["train"]
    summary = logged_summary(wandb_file)
    assert summary["status"] == "finished" and summary["final_step"] == 32


def test_same_recipe_and_seed_give_identical_numbers(tmp_path, toy_recipe, capsys):
    folders = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        assert main(["run", str(toy_recipe), f"run.name={name}", f"seed={seed}", "--no-progress"]) == 0
        folders.append(run_folder(capsys.readouterr().out))
    a, b, c = folders
    assert metrics(a) == metrics(b)
    assert metrics(a) != metrics(c)
    weights_a, weights_b = (torch.load(f / "weights.pt", weights_only=True)["generator"] for f in (a, b))
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert (a / "samples" / "step_0000032.png").read_bytes() == (b / "samples" / "step_0000032.png").read_bytes()


def test_run_folders_are_never_overwritten(tmp_path, toy_recipe, capsys):
    for _ in range(2):
        assert main(["run", str(toy_recipe), "run.name=same", "train.max_steps=2", "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["same", "same-2"]


def test_max_steps_and_d_steps(tmp_path, toy_recipe, capsys):
    assert (
        main(["run", str(toy_recipe), "train.max_steps=7", "train.d_steps=2", "train.log_every=7", "--no-progress"])
        == 0
    )
    folder = run_folder(capsys.readouterr().out)
    assert [row["step"] for row in metrics(folder)] == [7]
    assert torch.load(folder / "weights.pt", weights_only=True)["step"] == 7


def test_progress_bar_shows_epoch_step_scalars_and_time_left(tmp_path, toy_recipe):
    result = ganzoo("run", str(toy_recipe))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.replace("\r", "\n").strip().splitlines()
    last = [line for line in lines if line.startswith("epoch ")][-1]
    assert last.startswith("epoch 2/2: 100%")
    assert "32/32" in last and "<00:00" in last  # steps done/total, elapsed<left
    for label in ("d_loss=", "g_loss=", "D(x)=", "D(G(z))="):
        assert label in last
    # Then the progress video is encoded, with a bar of its own: 30 s at 10 frames a second.
    assert re.match(r"progress video \((mp4|gif)\): 100%.* 300/300 ", lines[-1]), lines[-1]


def test_device_auto_and_an_unavailable_device(tmp_path, toy_recipe, capsys):
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert select_device("auto").type == expected
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: the unavailable-device error cannot be shown")
    assert main(["run", str(toy_recipe), "device=cuda"]) == 1
    assert "device 'cuda' was asked for, but CUDA is not available here" in capsys.readouterr().err


def test_toy_ring_recipe_covers_every_mode(tmp_path):
    """The shipped toy recipe, unchanged but for where the run goes: every one of the
    8 modes must hold a fair share of the samples (no mode collapse)."""
    from ganzoo_datasets import Ring
    from ganzoo_vanilla.models import VanillaMLP

    started = time.monotonic()
    result = ganzoo("run", "recipes/toy_ring.yaml", f"run.dir={tmp_path}", "wandb.mode=disabled", "--no-progress")
    assert result.returncode == 0, result.stderr
    elapsed = time.monotonic() - started
    folder = run_folder(result.stdout)
    recipe = yaml.safe_load((folder / "recipe.yaml").read_text())
    arch = VanillaMLP(**split_name(recipe["model"])[1])
    ring = Ring(**split_name(recipe["data"])[1])
    generator = arch.build_generator(ring.load().info)
    generator.load_state_dict(torch.load(folder / "weights.pt", weights_only=True)["generator"])
    with torch.no_grad():
        samples = generator(arch.sample_latent(2500, device="cpu", generator=torch.Generator().manual_seed(1)))
    nearest = torch.cdist(samples, ring.centers()).argmin(dim=1)
    share = torch.bincount(nearest, minlength=8).float() / 2500
    print(f"toy ring: {elapsed:.1f}s, share of samples per mode {[round(s, 3) for s in share.tolist()]}")
    assert share.min() > 0.25 / 8, share  # every mode gets at least a quarter of its fair share


@needs_shared_mnist
def test_vanilla_mnist_one_epoch_as_the_readme_says(tmp_path):
    result = ganzoo(
        "run", "recipes/vanilla_mnist.yaml", f"data.root={SHARED_DATA}", "train.epochs=1", f"run.dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr
    folder = run_folder(result.stdout)
    assert "epoch 1/1: 100%" in result.stderr and "1875/1875" in result.stderr
    rows = metrics(folder)
    assert rows[-1]["step"] == 1875 and rows[-1]["epoch"] == 1
    assert (folder / "samples" / "step_0001875.png").is_file() and (folder / "weights.pt").is_file()

    # Seeing training: the curves and the 30-second progress video are in the run folder...
    assert (folder / "curves" / "losses.png").is_file() and (folder / "curves" / "scores.png").is_file()
    assert imageio_ffmpeg.count_frames_and_secs(str(folder / "progress.mp4")) == (300, 30.0)
    assert "progress video (mp4): 100%" in result.stderr
    # ... and the offline wandb run holds the grid, the video and the weights.
    (wandb_file,) = folder.glob("wandb/offline-run-*/run-*.wandb")
    history = logged_history(wandb_file)
    assert [row["_step"] for row in history if row.get("samples/_type") == "image-file"] == [1875]
    assert [row["_step"] for row in history if row.get("progress_video/_type") == "video-file"] == [1875]
    (artifact,) = logged_artifacts(wandb_file)
    assert artifact["type"] == "model" and [entry["path"] for entry in artifact["files"]] == ["weights.pt"]

    # `ganzoo report` on this run and a short minimax run beside it opens in Chromium.
    other = ganzoo(
        "run",
        "recipes/vanilla_mnist.yaml",
        f"data.root={SHARED_DATA}",
        "train.max_steps=200",
        "train.sample_every=50",
        "loss.non_saturating=false",
        "wandb.mode=disabled",
        f"run.dir={tmp_path}",
        "--no-progress",
    )
    assert other.returncode == 0, other.stderr
    page = tmp_path / "report.html"
    report = ganzoo("report", str(folder), str(run_folder(other.stdout)), "--out", str(page))
    assert report.returncode == 0 and "report: 100%" in report.stderr, report.stderr
    media = open_page(page, tmp_path / "report.png")  # skipped here (never in CI) without Chromium
    print(f"report: {page}, screenshot: {tmp_path / 'report.png'}")
    # Every curve and the last grid of each run, and both runs on shared axes.
    curves = sum(len(list((run / "curves").glob("*.png"))) for run in (folder, run_folder(other.stdout)))
    assert len(media["images"]) == curves + 2 + 1 and all(image["width"] > 0 for image in media["images"]), media
    assert len(media["videos"]) == 2 and all(video["width"] > 0 for video in media["videos"]), media
    assert media["network"] == []


def test_an_output_folder_that_cannot_be_created(tmp_path, toy_recipe, capsys):
    (tmp_path / "blocked").write_text("a file where the runs folder would go")
    assert main(["run", str(toy_recipe), f"run.dir={tmp_path / 'blocked' / 'runs'}"]) == 1
    err = capsys.readouterr().err
    assert "ganzoo: error: cannot create the run folder under" in err and "Traceback" not in err
