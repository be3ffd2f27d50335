"""Issue 16, item 6: overrides reach list items (``callbacks.0.every=10``), problems in them
are reported with that path, and an override that names a component is the command line's."""

from __future__ import annotations

import pytest

from conftest import REPO, ganzoo
from ganzoo.api.errors import RecipeError
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe

STABILIZED = REPO / "recipes" / "dcgan_stabilized_mnist.yaml"  # callbacks: [instance_noise, ema]


@pytest.fixture
def registry() -> Registry:
    """Every installed plugin: the recipe's callbacks come from the stabilizers plugin."""
    return Registry.from_plugin_manager(make_plugin_manager())


def problems(registry, *overrides: str, path=STABILIZED) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, registry, overrides)
    return [str(p) for p in caught.value.problems]


def test_an_override_sets_an_option_of_a_list_item(registry):
    recipe = load_recipe(STABILIZED, registry, ["callbacks.1.decay=0.99", "callbacks.0.std=0.2"])
    assert recipe.resolved["callbacks"][1] == {
        **recipe.resolved["callbacks"][1],
        "name": "ema",
        "decay": 0.99,
        "start_step": 1000,
    }
    assert recipe.resolved["callbacks"][0]["std"] == 0.2


def test_renaming_a_list_item_clears_its_options(registry):
    recipe = load_recipe(STABILIZED, registry, ["callbacks.0.name=ema"])
    assert recipe.resolved["callbacks"][0]["name"] == "ema"
    assert "std" not in recipe.resolved["callbacks"][0]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("callbacks.1.decay=2", "command line: callbacks.1.decay: Input should be less than 1"),
        ("callbacks.0.every=10", "command line: callbacks.0.every: unknown key 'every'"),
        ("callbacks.5.std=1", "command line: callbacks.5.std: callbacks has 2 item(s), so no item 5"),
        ("callbacks.x.std=1", "command line: callbacks.x.std: callbacks is a list: expected an item number, got 'x'"),
        ("wandb.tags.0=a", "command line: wandb.tags.0: wandb.tags is not set, so it has no item 0"),
    ],
)
def test_a_problem_in_a_list_item_names_its_path(registry, override, expected):
    found = problems(registry, override)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_an_override_naming_a_component_is_reported_as_the_command_line():
    done = ganzoo(
        "check", "recipes/vanilla_mnist.yaml", "loss.name=bec", "callbacks=[{name: ema}]", "callbacks.0.decay=3"
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert any(line.startswith("command line: loss.name: unknown loss 'bec'") for line in lines), done.stderr
    assert any(line.startswith("command line: callbacks.0.decay:") for line in lines), done.stderr
    assert not any(line.startswith("recipes/") for line in lines), done.stderr
