"""Seeing training, through the CLI: the curves, the progress video and the wandb records a
run leaves behind, and the HTML page `ganzoo report` makes of runs."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import shutil
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from wandb_reader import logged_artifacts, logged_config, logged_files, logged_history, logged_summary

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import REPO, metrics, run_folder, write_idx_mnist, write_recipe
from ganzoo.cli import main
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo.run import run_recipe


def video_frames(path: Path) -> np.ndarray:
    """Every frame of an MP4 as RGB arrays, decoded by ffmpeg."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    width, height = meta["size"]
    return np.stack([np.frombuffer(frame, np.uint8).reshape(height, width, 3) for frame in reader])


def shows(frame: np.ndarray, grid: Path) -> float:
    """Mean absolute difference between the grid part of a video frame (below the step
    label) and a grid PNG scaled to the same size: near 0 when the frame shows that grid."""
    image = Image.open(grid).convert("RGB")
    scale = round(frame.shape[1] / image.width)
    pixels = np.asarray(image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST), np.float32)
    return float(np.abs(frame[-pixels.shape[0] :, : pixels.shape[1]].astype(np.float32) - pixels).mean())


# --------------------------------------------------------------------------- what a run leaves


def test_a_run_leaves_curves_a_progress_video_and_a_report_ready_wandb_run(tmp_path, toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "wandb.mode=offline", "--no-progress"]) == 0
    folder = run_folder(capsys.readouterr().out)
    rows = metrics(folder)

    # The curves: losses and D's scores, as PNG.
    for name in ("losses", "scores"):
        with Image.open(folder / "curves" / f"{name}.png") as image:
            assert image.format == "PNG" and image.width > 0 and image.height > 0

    # The progress video: 30 s at 10 frames a second by default, the four grids in order,
    # each held for a quarter of it.
    video = folder / "progress.mp4"
    assert imageio_ffmpeg.count_frames_and_secs(str(video)) == (300, 30.0)
    grids = sorted((folder / "samples").glob("step_*.png"))
    frames = video_frames(video)
    for quarter in range(4):
        differences = [shows(frames[quarter * 75 + 37], grid) for grid in grids]
        assert min(differences) < 0.5 and differences.index(min(differences)) == quarter, differences

    # The offline wandb run holds the grids as images, the video as a video, the weights as
    # a model artifact, the resolved recipe as config and the final metrics in the summary.
    (wandb_file,) = folder.glob("wandb/offline-run-*/run-*.wandb")
    files = wandb_file.parent / "files"
    history = logged_history(wandb_file)
    images = [row for row in history if row.get("samples/_type") == "image-file"]
    assert [row["_step"] for row in images] == [10, 20, 30, 32]
    (video_row,) = [row for row in history if "progress_video/_type" in row]
    assert video_row["progress_video/_type"] == "video-file" and video_row["_step"] == 32
    assert (files / video_row["progress_video/path"]).read_bytes() == video.read_bytes()
    saved = set(logged_files(wandb_file))
    assert {video_row["progress_video/path"], *(row["samples/path"] for row in images)} <= saved
    assert all((files / path).is_file() for path in saved)

    (artifact,) = logged_artifacts(wandb_file)
    weights = folder / "weights.pt"
    assert artifact["type"] == "model" and artifact["name"] == f"{folder.name}-weights"
    assert "finished" in artifact["aliases"] and artifact["metadata"]["step"] == 32
    assert artifact["metadata"]["model"]["name"] == "vanilla_mlp"
    (entry,) = artifact["files"]
    assert entry["path"] == "weights.pt" and entry["local_path"] == str(weights.resolve())
    assert entry["digest"] == base64.b64encode(hashlib.md5(weights.read_bytes()).digest()).decode()

    config = logged_config(wandb_file)
    assert config["video"] == {"seconds": 30.0, "fps": 10, "format": "auto", "curves_interval": 10.0}
    summary = logged_summary(wandb_file)
    assert summary["status"] == "finished" and summary["final_step"] == 32 and summary["final_epoch"] == 2
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert summary[key] == pytest.approx(rows[-1][key])


def test_video_length_rate_and_gif_format_come_from_the_recipe(tmp_path, toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "video.format=gif", "video.seconds=2", "video.fps=5", "--no-progress"]) == 0
    folder = run_folder(capsys.readouterr().out)
    assert not (folder / "progress.mp4").exists()
    with Image.open(folder / "progress.gif") as gif:
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    # 2 s at 5 frames a second is 10 frames for 4 grids: one GIF frame per grid, held as long.
    assert len(durations) == 4 and sum(durations) == 2000


def test_a_bad_video_setting_is_a_recipe_error(tmp_path, toy_recipe, capsys):
    assert main(["check", str(toy_recipe), "video.format=avi", "video.fps=0", "video.seconds=-1"]) == 2
    err = capsys.readouterr().err
    assert "command line: video.format: " in err and "command line: video.fps: " in err
    assert "command line: video.seconds: " in err and "3 problem(s)" in err


class CurveWatcher(ganzoo.Callback):
    """Records, at the end of every step that logged, the bytes of ``losses.png`` in
    ``folder``: what a user watching the run folder would see. (The step's ``on_log`` has
    reached every callback by then, the curves included.)"""

    name = "curve_watcher"
    seen: list = []

    class Options(ganzoo.Options):
        folder: str

    def on_step_end(self, trainer):
        if trainer.step % trainer.log_every == 0:
            path = Path(self.options.folder) / "curves" / "losses.png"
            CurveWatcher.seen.append(path.read_bytes() if path.exists() else None)


@ganzoo.hookimpl
def register_callbacks(register):
    register(CurveWatcher)


@pytest.mark.parametrize("interval, redraws", [(0, 6), (3600, 1)])
def test_curves_are_redrawn_as_training_goes(tmp_path, toy_recipe, interval, redraws):
    """At each log the watcher sees what the curves look like then. 6 logs during training:
    the curves are redrawn at every one with interval 0, only at the first within an hour;
    the end of the run always draws every logged window."""
    import sys

    registry = Registry.from_plugin_manager(
        make_plugin_manager([ganzoo_vanilla, ganzoo_datasets, sys.modules[__name__]], entry_points=False)
    )
    folder = tmp_path / "runs" / "watched"
    recipe = load_recipe(
        toy_recipe,
        registry,
        [
            f"video.curves_interval={interval}",
            "run.name=watched",
            f"callbacks=[{{name: curve_watcher, folder: '{folder}'}}]",
        ],
    )
    CurveWatcher.seen = []
    run_recipe(recipe, registry, progress=False)
    assert len(CurveWatcher.seen) == 6 and None not in CurveWatcher.seen
    assert len(set(CurveWatcher.seen)) == redraws
    final = (folder / "curves" / "losses.png").read_bytes()
    assert final not in CurveWatcher.seen  # the end of the run draws the last window too


# --------------------------------------------------------------------------- ganzoo report


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[Path]:
    """A toy run (scatter plots) and a run on tiny MNIST-shaped data (image grids)."""
    root = tmp_path_factory.mktemp("report_runs")
    write_idx_mnist(root / "data", n_train=256)
    common = {"run": {"dir": str(root / "runs")}, "wandb": {"mode": "disabled"}}
    toy = write_recipe(
        root / "toy.yaml",
        {
            "extends": str(REPO / "recipes" / "toy_ring.yaml"),
            **common,
            "data": {"name": "ring", "size": 512},
            "model": {"name": "vanilla_mlp", "hidden_dim": 16, "latent_dim": 4, "output": "linear"},
            "train": {"epochs": 2, "batch_size": 64, "log_every": 2, "sample_every": 4, "num_samples": 64},
        },
    )
    digits = write_recipe(
        root / "digits.yaml",
        {
            "extends": str(REPO / "recipes" / "vanilla_mnist.yaml"),
            **common,
            "data": {"name": "mnist", "root": str(root / "data"), "download": False},
            "model": {"name": "vanilla_mlp", "hidden_dim": 16},
            "train": {"epochs": 1, "log_every": 2, "sample_every": 3, "num_samples": 16},
            "video": {"seconds": 3},
        },
    )
    for recipe in (toy, digits):
        assert main(["run", str(recipe), f"run.name={recipe.stem}", "--no-progress"]) == 0
    return [root / "runs" / "toy", root / "runs" / "digits"]


class Media(html.parser.HTMLParser):
    """The ``src`` of every ``img`` and ``video``, and every URL-like attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.videos: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "video":
            self.videos.append(attrs["src"])
        self.urls += [value for key, value in attrs.items() if key in ("src", "href", "poster") and value]


def embedded(uri: str) -> bytes:
    header, _, data = uri.partition(",")
    assert header.startswith("data:") and header.endswith(";base64"), header[:40]
    return base64.b64decode(data)


def test_report_shows_runs_side_by_side_in_one_self_contained_page(tmp_path, two_runs, capsys):
    out = tmp_path / "pages" / "compare.html"
    assert main(["report", *map(str, two_runs), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"report: {out}\n"
    assert "report: 100%" in captured.err and "2/2" in captured.err  # the progress bar

    page = out.read_text(encoding="utf-8")
    media = Media()
    media.feed(page)
    # Everything is embedded: nothing to fetch, from the disk or the network.
    assert media.urls and all(url.startswith("data:") for url in media.urls)
    assert "http://" not in page and "https://" not in page and "<link" not in page and "<script" not in page
    images = [embedded(src) for src in media.images]
    videos = [embedded(src) for src in media.videos]
    for run in two_runs:
        # The curves, the last grid and the video of each run, byte for byte.
        for name in ("losses", "scores", "learning_rates"):
            assert (run / "curves" / f"{name}.png").is_file()
        for curve in (run / "curves").glob("*.png"):  # the MNIST run's overfitting watch too
            assert curve.read_bytes() in images
        assert sorted((run / "samples").glob("step_*.png"))[-1].read_bytes() in images
        assert (run / "progress.mp4").read_bytes() in videos
        # The recipe, and the final metrics in the table.
        assert html.escape((run / "recipe.yaml").read_text()) in page
        last = [row for row in metrics(run) if "g_loss" in row][-1]  # the overfitting watch logs rows of its own
        assert f"<td>{last['g_loss']:.4f}</td>" in page and f"<td>{last['d_real']:.4f}</td>" in page
    # Every curve and a grid per run, and one plot of both runs on shared axes.
    curves = sum(len(list((run / "curves").glob("*.png"))) for run in two_runs)
    assert len(videos) == 2 and len(images) == curves + 2 + 1
    assert 'id="shared-curves"' in page
    # What differs between the two recipes is listed, side by side.
    assert "<th><code>data.name</code></th><td>&quot;ring&quot;</td><td>&quot;mnist&quot;</td>" in page
    assert "<th><code>video.seconds</code></th><td>30.0</td><td>3.0</td>" in page


def test_report_on_a_run_that_stopped_early_or_predates_the_curves(tmp_path, two_runs, capsys):
    run = tmp_path / "old"
    shutil.copytree(two_runs[0], run)
    shutil.rmtree(run / "curves")
    (run / "progress.mp4").unlink()
    (run / "weights.pt").unlink()  # what an interrupted run leaves: checkpoints, no weights.pt
    out = tmp_path / "old.html"
    assert main(["report", str(run), "--out", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""
    page = out.read_text(encoding="utf-8")
    media = Media()
    media.feed(page)
    # The three curves (losses, scores, learning rates) drawn from metrics.jsonl, and the last grid.
    assert len(media.images) == 4 and not media.videos
    assert "stopped early, checkpoint at step" in page and "no progress video" in page
    assert not (run / "curves").exists()  # the report reads a run folder, never writes to it


def not_a_run(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind
    if kind == "file":
        path.write_text("seed: 0\n")
    elif kind == "empty":
        path.mkdir()
    elif kind == "runs":
        for name in ("a", "b"):
            (path / name).mkdir(parents=True)
            (path / name / "recipe.yaml").write_text("seed: 0\n")
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "missing: no such folder"),
        ("file", "file is not a run folder: give the folder `ganzoo run` printed"),
        ("empty", "empty is not a run folder: it has no recipe.yaml"),
        ("runs", "runs is not a run folder, but holds 2 run folder(s) (a, b); name them, e.g. ganzoo report "),
    ],
)
def test_report_on_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path, two_runs, capsys, kind, message):
    out = tmp_path / "report.html"
    assert main(["report", str(two_runs[0]), str(not_a_run(tmp_path, kind)), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ganzoo: error: ") and message in err and "Traceback" not in err
    assert not out.exists()  # every folder is checked before anything is written


def test_report_writes_through_a_symlink_and_keeps_the_link(tmp_path, two_runs, capsys):
    (tmp_path / "pages").mkdir()
    target = tmp_path / "pages" / "old.html"
    target.write_text("the old report")
    link = tmp_path / "latest.html"
    link.symlink_to(target)
    assert main(["report", str(two_runs[0]), "--out", str(link), "--no-progress"]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert "<html" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.html", "pages"]
    assert [p.name for p in (tmp_path / "pages").iterdir()] == ["old.html"]  # no .partial left anywhere


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_report_refuses_an_out_that_is_not_a_file_in_one_line(tmp_path, two_runs, capsys, kind):
    import os

    out = {"folder": tmp_path / "pages", "fifo": tmp_path / "pipe", "device": Path("/dev/null")}[kind]
    if kind == "folder":
        out.mkdir()
    elif kind == "fifo":
        os.mkfifo(out)  # opening it for writing would block until someone reads
    link = tmp_path / "link"
    link.symlink_to(out)  # a symlink to such a thing is refused too, and stays a symlink
    for given in (out, link):
        assert main(["report", str(two_runs[0]), "--out", str(given), "--no-progress"]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"ganzoo report: --out: {given} is ") and "Traceback" not in line
    assert link.is_symlink() and Path("/dev/null").is_char_device()
    assert kind != "folder" or list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "link"] if kind != "device" else ["link"])


def test_report_under_a_file_is_a_clear_error(tmp_path, two_runs, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["report", str(two_runs[0]), "--out", str(tmp_path / "file" / "r.html"), "--no-progress"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"ganzoo report: --out: {tmp_path / 'file' / 'r.html'}: Not a directory"
    assert main(["report", str(two_runs[0]), "--out", str(tmp_path / "new" / "r.html"), "--no-progress"]) == 0
    assert (tmp_path / "new" / "r.html").is_file()  # a missing folder is created


def test_report_needs_at_least_one_run(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["report"])
    assert exit.value.code == 2 and "the following arguments are required: RUN" in capsys.readouterr().err


def test_without_ffmpeg_auto_writes_a_gif_and_mp4_fails_before_training(tmp_path, toy_recipe, capsys, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg"))
    assert main(["run", str(toy_recipe), "run.name=auto", "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "runs" / "auto").glob("progress.*")) == ["progress.gif"]
    assert main(["run", str(toy_recipe), "run.name=mp4", "video.format=mp4", "--no-progress"]) == 1
    assert "ganzoo: error: video.format=mp4 needs ffmpeg" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "mp4" / "metrics.jsonl").exists()  # not a single step was trained
