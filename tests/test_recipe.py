"""Recipe composition: extends, overrides, and the fully resolved result."""

from __future__ import annotations

import pytest

from conftest import REPO, write_recipe
from ganzoo.api.errors import RecipeError
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe

BASE = REPO / "recipes" / "vanilla_mnist.yaml"


def test_shipped_recipes_are_valid():
    """Every recipe under recipes/ loads with the plugins requirements.txt installs (found
    through their entry points, as `ganzoo check` finds them)."""
    installed = Registry.from_plugin_manager(make_plugin_manager())
    for path in sorted((REPO / "recipes").glob("*.yaml")):
        load_recipe(path, installed)


def test_extends_merges_deeply_and_the_child_wins(tmp_path, registry):
    recipe = load_recipe(
        write_recipe(tmp_path / "r.yaml", f"extends: {BASE}\ntrain: {{epochs: 3}}\nmodel: {{hidden_dim: 128}}\n"),
        registry,
    )
    assert recipe.config.train.epochs == 3 and recipe.config.train.batch_size == 32
    assert recipe.resolved["model"]["hidden_dim"] == 128 and recipe.resolved["model"]["latent_dim"] == 64


def test_a_component_with_another_name_replaces_the_section(tmp_path, registry):
    recipe = load_recipe(
        write_recipe(tmp_path / "r.yaml", f"extends: {BASE}\ndata: {{name: ring, size: 100}}\n"), registry
    )
    assert recipe.resolved["data"] == {"name": "ring", "size": 100, "seed": 0, "modes": 8, "radius": 2.0, "std": 0.02}
    # the same through an override, and for an optimiser
    recipe = load_recipe(BASE, registry, ["data.name=grid", "optim.generator.name=rmsprop", "optim.generator.lr=1e-4"])
    assert recipe.resolved["data"]["name"] == "grid" and "root" not in recipe.resolved["data"]
    assert recipe.resolved["optim"]["generator"] == {
        "name": "rmsprop",
        "lr": 1e-4,
        "alpha": 0.99,
        "eps": 1e-8,
        "momentum": 0.0,
        "weight_decay": 0.0,
        "foreach": None,
    }


def test_non_component_sections_with_a_name_key_still_merge(tmp_path, registry):
    base = write_recipe(tmp_path / "base.yaml", f"extends: {BASE}\nrun: {{dir: elsewhere}}\n")
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", "extends: base.yaml\nrun: {name: mine}\n"), registry)
    assert recipe.resolved["run"] == {"dir": "elsewhere", "name": "mine"}
    assert load_recipe(base, registry, ["run.name=x"]).resolved["run"] == {"dir": "elsewhere", "name": "x"}


def test_extends_a_list_applies_bases_in_order(tmp_path, registry):
    write_recipe(tmp_path / "a.yaml", "train: {epochs: 5, batch_size: 8}\n")
    write_recipe(tmp_path / "b.yaml", "train: {epochs: 7}\n")
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", f"extends: [{BASE}, a.yaml, b.yaml]\n"), registry)
    assert (recipe.config.train.epochs, recipe.config.train.batch_size) == (7, 8)


@pytest.mark.parametrize(
    "override, expected",
    [
        ("train.epochs=3", ("train", "epochs", 3)),
        ("optim.generator.betas=[0.5, 0.99]", ("optim", "generator", "betas", [0.5, 0.99])),
        ("loss.non_saturating=false", ("loss", "non_saturating", False)),
        ("wandb.tags=[a, b]", ("wandb", "tags", ["a", "b"])),
        ("run.name=my run", ("run", "name", "my run")),
    ],
)
def test_overrides_are_yaml_values(registry, override, expected):
    resolved = load_recipe(BASE, registry, [override]).resolved
    *keys, value = expected
    for key in keys:
        resolved = resolved[key]
    assert resolved == value


def test_overrides_beat_every_file(tmp_path, registry):
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", f"extends: {BASE}\nseed: 5\n"), registry, ["seed=9"])
    assert recipe.config.seed == 9


def test_the_error_lists_problems_as_data(registry):
    with pytest.raises(RecipeError) as caught:
        load_recipe(BASE, registry, ["train.epochs=-1", "model.bogus=1"])
    assert [(p.source, p.key) for p in caught.value.problems] == [
        ("command line", "train.epochs"),
        ("command line", "model.bogus"),
    ]
