"""The data a run trains on and is measured on: the recipe's dataset (cut down to
``data.limit`` samples for training), another split of it, the real images it never trains
on, and the held-out pairs of a translator."""

from __future__ import annotations

from typing import Optional

import torch

from ganzoo.api import Data, GanzooError, Problem, RecipeError, to_model_range
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


def training_data(recipe: Recipe, registry: Registry) -> Data:
    """The data a run trains on: the recipe's dataset, or with ``data.limit`` a fixed subset
    of it (:func:`choose_subset`; ``Data.indices`` says which samples)."""
    data = load_dataset(recipe, registry)
    limit = recipe.config.data.limit
    if limit is None:
        return data
    if limit > len(data):
        raise RecipeError(
            [Problem("", "data.limit", f"asks for {limit:,} samples, and the dataset holds {len(data):,}")]
        )
    return data.subset(choose_subset(data, limit, recipe.config.data.subset_seed))


def choose_subset(data: Data, n: int, seed: int) -> torch.Tensor:
    """``n`` sample indices in increasing order, the same for the same data and ``seed``.
    With labels they are class-balanced: every class gives ``n // classes`` samples (the
    first classes one more, for the remainder; a class with too few gives all it has and
    the others make up for it), each class's chosen at random."""
    shuffled = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    if data.labels is None:
        return shuffled[:n].sort().values
    labels = data.labels.to(torch.int64)[shuffled]
    classes = int(labels.max()) + 1 if len(labels) else 1
    grouped = torch.sort(labels, stable=True).indices  # positions in the shuffled order, class by class
    counts = torch.bincount(labels, minlength=classes)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(labels)  # each sample's place among its class's, in the shuffled order
    rank[grouped] = torch.arange(len(labels)) - starts[labels[grouped]]
    round_robin = torch.sort(rank * classes + labels, stable=True).indices  # every class's first, then second...
    return shuffled[round_robin[:n]].sort().values


def test_split(recipe: Recipe, registry: Registry) -> Optional[Data]:
    """The dataset's test split, unless the recipe trains on it; None when there is none."""
    if recipe.component("data")[1].get("split") == "test":
        return None
    return load_split(recipe, registry, "test")


def unseen_images(recipe: Recipe, registry: Registry, trained: Data) -> Optional[Data]:
    """Real samples the run never trains on (``trained`` is what it trains on): the
    dataset's test split; else, with ``data.limit``, the samples outside its subset; None
    when there are none."""
    test = test_split(recipe, registry)
    if test is not None:
        return test
    if trained.indices is None:
        return None
    whole = load_dataset(recipe, registry)
    outside = torch.ones(len(whole), dtype=torch.bool)
    outside[trained.indices] = False
    return whole.subset(outside.nonzero().flatten()) if bool(outside.any()) else None


PREVIEW_PAIRS = 8
"""How many (condition, output, target) rows a sample grid of paired data shows."""


def held_out(recipe: Recipe, registry: Registry, data: Optional[Data] = None) -> Data:
    """The pairs to show and measure a translator on: the dataset's test split when it has
    one (and the recipe does not train on it), else the training data (``data``, or loaded)."""
    test = test_split(recipe, registry)
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
