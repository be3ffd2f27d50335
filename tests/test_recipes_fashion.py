"""Every Fashion-MNIST recipe trains a step through the CLI, on random images written in
torchvision's FashionMNIST layout (the real dataset is not on this machine)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from conftest import REPO, small_run, write_idx_mnist
from ganzoo.cli import main
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe

FASHION_RECIPES = sorted(path.name for path in (REPO / "recipes").glob("*_fashion*.yaml"))


def test_every_variant_has_a_fashion_recipe():
    mnist = {
        path.name.removesuffix("_mnist.yaml")
        for path in (REPO / "recipes").glob("*_mnist.yaml")
        if "fashion" not in path.name
    }
    fashion = {name.removesuffix("_fashion_mnist.yaml").removesuffix("_fashion.yaml") for name in FASHION_RECIPES}
    # The quick start is MNIST's own first run; StyleGAN2 ships MNIST, Stacked-MNIST and folder recipes.
    assert mnist - {"quickstart", "stylegan2"} == fashion


@pytest.fixture(scope="module")
def fashion(tmp_path_factory) -> Path:
    return write_idx_mnist(
        tmp_path_factory.mktemp("fashion"), folder="FashionMNIST", n_train=96
    )  # 6 batches: room for 5 critic steps


@pytest.mark.parametrize("name", FASHION_RECIPES)
def test_every_fashion_recipe_trains_a_step(name, fashion, tmp_path):
    recipe = load_recipe(REPO / "recipes" / name, Registry.from_plugin_manager(make_plugin_manager()))
    assert recipe.resolved["data"]["name"] == "fashion_mnist"
    small = ["model.width=8"] if "width" in recipe.resolved["model"] else []
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / name),
                f"data.root={fashion}",
                "data.download=false",
                "train.max_steps=1",
                "train.batch_size=16",
                *small,
                *small_run(tmp_path),
            ]
        )
        == 0
    )
    folder = next(tmp_path.iterdir())
    assert torch.load(folder / "weights.pt", weights_only=True)["step"] == 1
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert rows and all(math.isfinite(v) for row in rows for v in row.values())
