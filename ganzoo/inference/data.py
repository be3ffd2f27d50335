"""The data a trained generator is shown and measured on: the recipe's dataset, another split
of it, and the held-out pairs of a translator."""

from __future__ import annotations

from typing import Optional

import torch

from ganzoo.api import Data, GanzooError, to_model_range
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import Recipe


def load_dataset(recipe: Recipe, registry: Registry, **overrides: object) -> Data:
    """The recipe's dataset, loaded (``overrides`` replace some of its options)."""
    return recipe.build("data", registry, **overrides).load()


def load_split(recipe: Recipe, registry: Registry, split: str) -> Optional[Data]:
    """The recipe's dataset with ``split`` (``"test"``) in place of its own, or None when
    the dataset has no ``split`` option or that split cannot be loaded."""
    name, _ = recipe.component("data")
    if "split" not in registry.get("dataset", name).Options.model_fields:
        return None
    try:
        return load_dataset(recipe, registry, split=split)
    except (GanzooError, ValueError):
        return None


PREVIEW_PAIRS = 8
"""How many (condition, output, target) rows a sample grid of paired data shows."""


def held_out(recipe: Recipe, registry: Registry, data: Optional[Data] = None) -> Data:
    """The pairs to show and measure a translator on: the dataset's test split when it has
    one (and the recipe does not train on it), else the training data (``data``, or loaded)."""
    test = load_split(recipe, registry, "test") if recipe.component("data")[1].get("split") != "test" else None
    if test is not None and test.condition is not None:
        return test
    return data if data is not None else load_dataset(recipe, registry)


def preview_pairs(
    recipe: Recipe, registry: Registry, data: Data, n: int = PREVIEW_PAIRS
) -> Optional[tuple[torch.Tensor, torch.Tensor]]:
    """For paired data (image conditions): the first ``n`` ``(conditions, targets)`` of the
    held-out pairs, in the model range on the CPU, for the sample grids. None for any
    other data."""
    if data.condition_kind != "images":
        return None
    pairs = held_out(recipe, registry, data)
    return to_model_range(torch.as_tensor(pairs.condition)[:n]), to_model_range(pairs.samples[:n])
