"""The opt-in accelerations: each runs through a recipe, learns the same thing to float
rounding, and leaves the default path untouched."""

from __future__ import annotations

import pytest
import torch

from ganzoo.recipe import load_recipe
from ganzoo.run import build_trainer


def train(toy_recipe, registry, *overrides, steps=6):
    recipe = load_recipe(toy_recipe, registry, [f"train.max_steps={steps}", "device=cpu", *overrides])
    trainer = build_trainer(recipe, registry).fit()
    return trainer, torch.cat([p.detach().flatten() for p in trainer.generator.parameters()])


@pytest.fixture
def reference(toy_recipe, registry):
    return train(toy_recipe, registry)


@pytest.mark.parametrize(
    "overrides",
    [
        ["optim.generator.fused=true", "optim.discriminator.fused=true"],
        ["optim.generator.foreach=true", "optim.discriminator.foreach=true"],
        ["train.compile=default"],
    ],
)
def test_acceleration_learns_the_same_weights_to_rounding(toy_recipe, registry, reference, overrides):
    trainer, weights = train(toy_recipe, registry, *overrides)
    _, expected = reference
    torch.testing.assert_close(weights, expected, rtol=1e-4, atol=1e-5)
    assert trainer.last_scalars["d_loss"] == pytest.approx(reference[0].last_scalars["d_loss"], rel=1e-3)


def test_bf16_autocast_trains_in_reduced_precision(toy_recipe, registry, reference):
    trainer, weights = train(toy_recipe, registry, "train.precision=bf16")
    _, expected = reference
    assert torch.isfinite(weights).all()
    assert not torch.equal(weights, expected)  # the forward passes really ran in bfloat16
    torch.testing.assert_close(weights, expected, rtol=0.05, atol=0.02)  # ...and learned the same thing
    assert trainer.generator.net[0].weight.dtype == torch.float32  # master weights stay float32


def test_compiled_networks_are_saved_without_the_compile_wrapper(toy_recipe, registry):
    trainer, _ = train(toy_recipe, registry, "train.compile=default", steps=2)
    assert not any("_orig_mod" in key for key in trainer.generator.state_dict())
