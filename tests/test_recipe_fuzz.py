"""Property-based: random recipes and overrides are either accepted or rejected with a
RecipeError (one problem per line), never any other exception."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganzoo.errors import RecipeError
from ganzoo.recipe import load_recipe
from conftest import REPO

SECTIONS = ["requires", "seed", "device", "data", "model", "loss", "optim", "train", "callbacks", "run", "wandb",
            "video", "checkpoint", "extends", "trian", "name"]
KEYS = ["name", "epochs", "batch_size", "lr", "betas", "root", "latent_dim", "noise", "mode", "every", "size",
        "non_saturating", "d_steps", "generator", "discriminator", "modes", "seconds", "tags", "bogus"]
NAMES = ["mnist", "ring", "grid", "vanilla_mlp", "bce", "adam", "sgd", "rmsprop", "nope", ""]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(NAMES))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)
recipes = st.dictionaries(st.sampled_from(SECTIONS), values, max_size=8)
override_keys = st.lists(st.sampled_from(SECTIONS + KEYS), min_size=1, max_size=3).map(".".join)
overrides = st.lists(st.one_of(
    st.tuples(override_keys, st.text(max_size=12)).map("=".join),
    st.text(max_size=20)), max_size=4)


def accepted_or_recipe_error(path, registry, extra):
    try:
        load_recipe(path, registry, extra)
    except RecipeError as error:
        assert error.problems
        for problem in error.problems:  # one line each, and it says something
            assert str(problem).strip() and "\n" not in str(problem), repr(str(problem))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recipe=recipes, extra=overrides)
def test_random_recipes_never_raise_anything_but_a_recipe_error(tmp_path, registry, recipe, extra):
    recipe.pop("extends", None)
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(recipe))
    accepted_or_recipe_error(path, registry, extra)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_text_files_never_raise_anything_but_a_recipe_error(tmp_path, registry, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    accepted_or_recipe_error(path, registry, [])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=overrides)
def test_random_overrides_of_the_real_recipe(registry, extra):
    accepted_or_recipe_error(REPO / "recipes" / "vanilla_mnist.yaml", registry, extra)
