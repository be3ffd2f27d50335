"""The example plugin's own tests, written with ganzoo's public testing helpers only
(``ganzoo.testing``): no installation, no other plugin than those listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ganzoo
import ganzoo_example
import ganzoo_vanilla
from ganzoo import testing

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


@pytest.fixture
def registry() -> ganzoo.testing.Registry:
    # Named like their entry points, so that the recipes' `requires:` is satisfied.
    return testing.registry({"vanilla": ganzoo_vanilla, "example": ganzoo_example})


def test_components_are_registered(registry) -> None:
    assert registry.entry("dataset", "spiral").plugin == "example"
    assert registry.get("loss", "relativistic") is ganzoo_example.Relativistic
    assert registry.get("callback", "spread") is ganzoo_example.Spread


def test_relativistic_loss_on_one_step() -> None:
    ctx = testing.step_context(ganzoo_example.PointMLP(), testing.small_data("points", 32), batch_size=16)
    loss = ganzoo_example.Relativistic()
    d = loss.discriminator_loss(ctx)
    assert d.loss.ndim == 0 and d.loss.requires_grad and {"d_real", "d_fake"} <= set(d.logs)
    g = loss.generator_loss(ctx)
    g.loss.backward()
    assert all(p.grad is not None for p in ctx.generator.parameters())


def test_a_sigmoid_d_is_refused(registry) -> None:
    with pytest.raises(ganzoo.RecipeError) as error:
        testing.load_recipe(RECIPES / "spiral_relativistic.yaml", registry, ["model.name=vanilla_mlp"])
    assert [p.key for p in error.value.problems] == ["loss.name"]


def test_short_run_logs_spread(registry, tmp_path) -> None:
    run = testing.short_run(
        RECIPES / "spiral_relativistic.yaml", registry, tmp_path, ["data.size=2000", "train.batch_size=32"], steps=50
    )
    assert run.folder is not None
    rows = [json.loads(line) for line in (run.folder / "metrics.jsonl").read_text().splitlines()]
    assert len([row for row in rows if "d_loss" in row]) == 50
    assert [(row["step"], sorted(row)) for row in rows if "d_loss" not in row] == [(50, ["epoch", "spread", "step"])]
    own = [json.loads(line) for line in (run.folder / "spread.jsonl").read_text().splitlines()]
    assert [row["step"] for row in own] == [50] and own[0]["batch_size"] == 32
