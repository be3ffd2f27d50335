"""A population's members (``train.population: K``): each one the recipe it would be trained
alone with, its seed and its ``train.population_values`` applied, ``train.population`` back
to 1. That is the recipe its run folder keeps, so that ``ganzoo run --resume`` continues a
member alone, and what a member's weights must equal."""

from __future__ import annotations

from typing import Any

from ganzoo.api import Problem, RecipeError
from ganzoo.plugins.registry import Registry
from ganzoo.recipe.loader import derive, override_text
from ganzoo.recipe.schema import Recipe, RecipeModel


def member_values(config: RecipeModel) -> list[dict[str, Any]]:
    """Each member's own keys: its seed (``seed + k`` unless ``train.population_values``
    lists seeds) and its values."""
    train = config.train
    members = []
    for k in range(train.population):
        own: dict[str, Any] = {"seed": config.seed + k}
        own.update({key: values[k] for key, values in train.population_values.items()})
        members.append(own)
    return members


def members(recipe: Recipe, registry: Registry) -> list[Recipe]:
    """The members' recipes; a :class:`RecipeError` names every member whose values do not
    make a valid recipe."""
    recipes, problems = [], []
    alone = ["train.population=1", "train.population_values={}"]
    for k, own in enumerate(member_values(recipe.config)):
        try:
            recipes.append(derive(recipe, registry, alone + [override_text(key, value) for key, value in own.items()]))
        except RecipeError as error:
            where = ", ".join(f"{key}={value!r}" for key, value in own.items())
            for problem in error.problems:
                key = (
                    f"train.population_values.{problem.key}"
                    if problem.key in own and problem.key != "seed"
                    else problem.key
                )
                problems.append(Problem(problem.source, key, f"member {k} ({where}): {problem.message}"))
    if problems:
        raise RecipeError(problems)
    return recipes
