"""The report in a real browser: headless Chromium opens the page from disk, every image and
the video load, nothing is fetched from the network, and a screenshot is saved."""

from __future__ import annotations

from browser import chromium, open_page
from PIL import Image

from conftest import REPO, write_idx_mnist, write_recipe
from ganzoo.cli import main


def test_the_report_opens_in_chromium_with_every_image_and_video(tmp_path, capsys):
    chromium()  # skip before training anything when there is no browser (never in CI)
    write_idx_mnist(tmp_path / "data", n_train=256)
    common = {"run": {"dir": str(tmp_path / "runs")}, "wandb": {"mode": "disabled"}}
    digits = write_recipe(
        tmp_path / "digits.yaml",
        {  # image grids, an MP4
            "extends": str(REPO / "recipes" / "vanilla_mnist.yaml"),
            **common,
            "data": {"name": "mnist", "root": str(tmp_path / "data"), "download": False},
            "model": {"name": "vanilla_mlp", "hidden_dim": 16},
            "train": {"epochs": 1, "log_every": 2, "sample_every": 4, "num_samples": 16},
        },
    )
    ring = write_recipe(
        tmp_path / "ring.yaml",
        {  # scatter plots, a GIF
            "extends": str(REPO / "recipes" / "toy_ring.yaml"),
            **common,
            "data": {"name": "ring", "size": 512},
            "model": {"name": "vanilla_mlp", "hidden_dim": 16, "output": "linear"},
            "train": {"epochs": 1, "batch_size": 64, "log_every": 2, "sample_every": 4, "num_samples": 64},
            "video": {"format": "gif", "seconds": 4},
        },
    )
    for recipe in (digits, ring):
        assert main(["run", str(recipe), f"run.name={recipe.stem}", "--no-progress"]) == 0
    page = tmp_path / "report.html"
    assert (
        main(
            [
                "report",
                str(tmp_path / "runs" / "digits"),
                str(tmp_path / "runs" / "ring"),
                "--out",
                str(page),
                "--no-progress",
            ]
        )
        == 0
    )

    screenshot = tmp_path / "report.png"
    media = open_page(page, screenshot)
    print(f"screenshot: {screenshot}")

    # Every curve (losses, scores, learning rates; the digits' overfitting watch) and the last
    # grid of each run, the two runs on shared axes, and the ring's GIF video; the digits' MP4.
    curves = sum(len(list((tmp_path / "runs" / name / "curves").glob("*.png"))) for name in ("digits", "ring"))
    assert len(media["images"]) == curves + 2 + 1 + 1, media["images"]
    for image in media["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    (video,) = media["videos"]
    assert video["error"] is None and video["width"] > 0 and video["height"] > 0, video
    assert abs(video["duration"] - 30) < 0.5
    assert media["network"] == []
    with Image.open(screenshot) as shot:
        assert shot.format == "PNG" and shot.width == 1400 and shot.height > 900  # the full page, scrolled
