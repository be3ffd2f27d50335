"""Property-based: random recipes and overrides are either accepted or rejected with a
RecipeError (one problem per line), never any other exception. The hostile ones (alias
bombs, deep nesting, non-string keys, extreme numbers) are also answered within a time
and a memory bound per example."""

from __future__ import annotations

import time
import tracemalloc

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from ganzoo.api.errors import RecipeError
from ganzoo.recipe import RESOLVED_ORDER, load_recipe

SECTIONS = [*RESOLVED_ORDER, "extends", "trian", "name"]  # every section, and top-level keys that are not one
KEYS = [
    "name",
    "epochs",
    "batch_size",
    "lr",
    "betas",
    "root",
    "latent_dim",
    "noise",
    "mode",
    "every",
    "size",
    "non_saturating",
    "d_steps",
    "generator",
    "discriminator",
    "modes",
    "seconds",
    "tags",
    "bogus",
]
NAMES = ["mnist", "ring", "grid", "vanilla_mlp", "bce", "adam", "sgd", "rmsprop", "nope", ""]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(NAMES),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)
recipes = st.dictionaries(st.sampled_from(SECTIONS), values, max_size=8)
override_keys = st.lists(st.sampled_from(SECTIONS + KEYS), min_size=1, max_size=3).map(".".join)
overrides = st.lists(
    st.one_of(st.tuples(override_keys, st.text(max_size=12)).map("=".join), st.text(max_size=20)), max_size=4
)


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


# --------------------------------------------------------------------------- hostile recipes

SECONDS_PER_EXAMPLE = 10.0  # generous: the machine running the suite may be loaded; the bombs never ended
BYTES_PER_EXAMPLE = 64 * 2**20  # Python allocations while loading one recipe (the bombs took gigabytes)
TARGETS = [
    "train: {epochs: *TOP}",
    "data: *TOP",
    "model: {name: vanilla_mlp, hidden_dim: *TOP}",
    "video: {seconds: *TOP}",
    "run: {name: *TOP}",
    "optim: {generator: *TOP}",
    "wandb: {tags: *TOP}",
]


def bounded(path, registry, extra=()):
    """``accepted_or_recipe_error``, within SECONDS_PER_EXAMPLE and BYTES_PER_EXAMPLE."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        accepted_or_recipe_error(path, registry, list(extra))
        elapsed, (_, peak) = time.monotonic() - started, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < SECONDS_PER_EXAMPLE, f"{elapsed:.1f} s"
    assert peak < BYTES_PER_EXAMPLE, f"{peak / 2**20:.0f} MiB"


@st.composite
def alias_bombs(draw) -> str:
    """``x0: &x0 [a, a, ...]``, ``x1: &x1 [*x0, *x0, ...]``, ... (or the same with mappings),
    then a validated key pointing at the top."""
    levels, width = draw(st.integers(1, 12)), draw(st.integers(2, 12))
    mapping = draw(st.booleans())
    lines = [
        f"x0: &x0 {{{', '.join(f'k{i}: a' for i in range(width))}}}"
        if mapping
        else f"x0: &x0 [{', '.join(['a'] * width)}]"
    ]
    for level in range(1, levels + 1):
        items = [f"k{i}: *x{level - 1}" if mapping else f"*x{level - 1}" for i in range(width)]
        lines.append(
            f"x{level}: &x{level} " + ("{" + ", ".join(items) + "}" if mapping else "[" + ", ".join(items) + "]")
        )
    lines.append(draw(st.sampled_from(TARGETS)).replace("TOP", f"x{levels}"))
    return "\n".join(lines) + "\n"


@st.composite
def deep_nesting(draw) -> str:
    depth = draw(st.integers(1, 6000))
    key = draw(st.sampled_from(["train.epochs", "data", "callbacks", "model.hidden_dim", "bogus"]))
    section, _, option = key.partition(".")
    if draw(st.booleans()):
        value = draw(st.sampled_from(["[", "{a: "])) * depth
        value += "".join("]" if char == "[" else "}" for char in reversed(value.replace("a: ", "")))
    else:  # block style, as deep as a file of reasonable size allows
        depth = min(depth, 400)
        value = "".join(f"\n{'  ' * (level + 2)}k{level}:" for level in range(depth)) + " 1"
    return (
        f"{section}: {{{option}: {value}}}\n"
        if option and value.startswith(("[", "{"))
        else (f"{section}:\n  {option or 'x'}: {value}\n")
    )


scalar_keys = st.one_of(st.integers(-(10**30), 10**30), st.booleans(), st.none(), st.floats(allow_nan=False))
extreme_numbers = st.one_of(
    st.integers(-(10**40), 10**40),
    st.sampled_from([".inf", "-.inf", ".nan", "1.0e+300", "-1.0e-300", "1e8", "0x7fffffffffffffff"]),
)
NUMBER_KEYS = [
    "seed",
    "train.epochs",
    "train.batch_size",
    "train.num_samples",
    "train.d_steps",
    "train.log_every",
    "data.modes",
    "data.size",
    "data.seed",
    "data.std",
    "model.hidden_dim",
    "model.latent_dim",
    "optim.generator.lr",
    "optim.generator.betas",
    "video.seconds",
    "video.fps",
    "checkpoint.keep_last",
    "eval.n",
    "eval.seed",
    "distributed.timeout",
]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=alias_bombs())
def test_alias_bombs_are_refused_in_bounded_time_and_memory(tmp_path, registry, text):
    path = tmp_path / "bomb.yaml"
    path.write_text(f"extends: {REPO / 'recipes' / 'toy_ring.yaml'}\n{text}")
    bounded(path, registry)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=deep_nesting())
def test_deep_nesting_is_refused_in_bounded_time_and_memory(tmp_path, registry, text):
    path = tmp_path / "deep.yaml"
    path.write_text(f"extends: {REPO / 'recipes' / 'toy_ring.yaml'}\n{text}")
    bounded(path, registry)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from(SECTIONS + ["optim.generator", "eval.extractors"]), key=scalar_keys, value=values)
def test_non_string_keys_are_recipe_errors(tmp_path, registry, section, key, value):
    tree: dict = yaml.safe_load((REPO / "recipes" / "toy_ring.yaml").read_text())
    tree.pop("extends", None)
    node = tree
    for part in section.split("."):
        node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
    node[key] = value
    path = tmp_path / "keys.yaml"
    path.write_text(f"extends: {REPO / 'recipes' / 'vanilla_mnist.yaml'}\n" + yaml.safe_dump(tree))
    bounded(path, registry)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assignments=st.lists(st.tuples(st.sampled_from(NUMBER_KEYS), extreme_numbers), min_size=1, max_size=4))
def test_extreme_numbers_are_accepted_or_recipe_errors(registry, assignments):
    bounded(REPO / "recipes" / "toy_ring.yaml", registry, [f"{key}={value}" for key, value in assignments])
