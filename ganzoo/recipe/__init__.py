"""Recipes: YAML files that compose plugins into one training run.

Loading goes in four stages, each adding to one list of problems so that a bad recipe is
reported whole, one line per problem, instead of one error per attempt:

1. read the file and everything it ``extends`` (safe YAML only; cycles and missing files
   are problems);
2. apply dotted command-line overrides (``train.epochs=3``);
3. validate the sections against :class:`RecipeModel`;
4. look every component up in the registry and validate its options.

Every key remembers which file (or the command line) set it, so a problem names the file
where the user has to fix it.

The stages live in modules of their own: :mod:`~ganzoo.recipe.schema` (the sections),
:mod:`~ganzoo.recipe.loader` (files, ``extends``, overrides), :mod:`~ganzoo.recipe.bounded_yaml`
(YAML read within bounds), :mod:`~ganzoo.recipe.validation` (problems, components, the
capture and population checks), :mod:`~ganzoo.recipe.compatibility` (do the components fit
together), :mod:`~ganzoo.recipe.population` (a population's members, each a recipe of its
own) and :mod:`~ganzoo.recipe.sources` (which file set each key). Nothing here imports the training
engine.
"""

from ganzoo.recipe.loader import load_recipe, parse_overrides
from ganzoo.recipe.schema import (
    COMPONENT_PATHS,
    COMPONENT_SECTIONS,
    DATA_KEYS,
    RESOLVED_ORDER,
    CheckpointSection,
    ComponentSpec,
    DataSection,
    DistributedSection,
    EvalSection,
    OptimSection,
    Recipe,
    RecipeModel,
    RunSection,
    TrainSection,
    VideoSection,
    WandbSection,
)
from ganzoo.recipe.sources import COMMAND_LINE, Sources
from ganzoo.recipe.validation import schedule_names

__all__ = [
    "COMMAND_LINE",
    "COMPONENT_PATHS",
    "COMPONENT_SECTIONS",
    "DATA_KEYS",
    "RESOLVED_ORDER",
    "CheckpointSection",
    "ComponentSpec",
    "DataSection",
    "DistributedSection",
    "EvalSection",
    "OptimSection",
    "Recipe",
    "RecipeModel",
    "RunSection",
    "Sources",
    "TrainSection",
    "VideoSection",
    "WandbSection",
    "load_recipe",
    "parse_overrides",
    "schedule_names",
]
