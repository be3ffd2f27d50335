"""The sweep file: which recipe keys a sweep searches, over what, and how each trial is judged.

```yaml
space:                                    # dotted recipe keys, each with one distribution
  optim.generator.lr: {log_uniform: [1.0e-5, 1.0e-3]}
  optim.discriminator.lr: {log_uniform: [1.0e-5, 1.0e-3]}
  loss.name: {choice: [bce, lsgan, hinge]}
  train.d_steps: {int: [1, 5]}
budget: {steps: 2000}                     # or {seconds: 120}: each run of each trial
seeds: 3                                  # each trial's settings trained with seeds 0, 1, 2
metric: fid/classifier                    # a key that `ganzoo eval` reports
direction: minimize
trials: 20
eval: {n: 2000}
population: 1                             # trials trained at once as one population
```

Every value a distribution can draw is checked against the recipe before the first trial
(its bounds, every choice, every grid value): a space that would fail on trial 17 fails now,
in one line per problem, naming the sweep file.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any, Literal, Optional, Sequence, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError, model_validator

from ganzoo.api import Options, Problem, RecipeError
from ganzoo.api.population import MAX_MEMBERS
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import bounded_yaml, load_recipe
from ganzoo.recipe.loader import override_text
from ganzoo.recipe.schema import MAX_EVAL_SAMPLES
from ganzoo.recipe.sources import Sources
from ganzoo.recipe.validation import pydantic_problems

Scalar = Union[bool, int, float, str]


class Distribution(BaseModel):
    """Exactly one of: ``uniform`` or ``log_uniform`` ``[low, high]`` (floats), ``int`` or
    ``log_int`` ``[low, high]`` (whole numbers, both ends included), ``choice`` (a list of
    values, drawn by the sampler), ``grid`` (a list of values, every one tried: a sweep whose
    every dimension is a grid searches the whole grid)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    uniform: Optional[tuple[float, float]] = None
    log_uniform: Optional[tuple[PositiveFloat, PositiveFloat]] = None
    int: Optional[tuple[builtins.int, builtins.int]] = None  # builtins: the field shadows the type here
    log_int: Optional[tuple[PositiveInt, PositiveInt]] = None
    choice: Optional[list[Any]] = Field(None, min_length=1, max_length=1000)
    grid: Optional[list[Any]] = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_kind(self) -> "Distribution":
        kinds = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of uniform, log_uniform, int, log_int, choice, grid")
        bounds = getattr(self, kinds[0])
        if kinds[0] in ("uniform", "log_uniform", "int", "log_int") and bounds[0] > bounds[1]:
            raise ValueError(f"{kinds[0]}: the low end {bounds[0]} is above the high end {bounds[1]}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def extremes(self) -> list[Any]:
        """Every value whose validity vouches for all the others: the ends of a range, every
        choice or grid value."""
        return list(getattr(self, self.kind))


class Budget(Options):
    """How long every run of every trial trains: ``steps`` (generator steps) or ``seconds``."""

    steps: Optional[PositiveInt] = None
    seconds: Optional[PositiveFloat] = Field(None, le=7 * 24 * 3600)

    @model_validator(mode="after")
    def _one(self) -> "Budget":
        if (self.steps is None) == (self.seconds is None):
            raise ValueError("give exactly one of steps and seconds")
        return self

    def overrides(self) -> list[str]:
        """A step budget as recipe overrides (a time budget is a callback the trial attaches)."""
        return [f"train.max_steps={self.steps}", "train.epochs=1000000"] if self.steps else []


class EvalSettings(Options):
    n: PositiveInt = Field(2000, le=MAX_EVAL_SAMPLES, description="generated samples of each trial's evaluation")


class SweepSettings(Options):
    """A whole sweep file."""

    space: dict[str, Distribution] = Field(min_length=1, max_length=100)
    budget: Budget
    seeds: PositiveInt = Field(1, le=100)
    metric: str = "fid/classifier"
    measure: Optional[str] = None
    """The metric component that reports ``metric`` (default: the key up to its first ``/``)."""
    direction: Literal["minimize", "maximize"] = "minimize"
    trials: PositiveInt = Field(20, le=100_000)
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    prune: bool = True
    eval: EvalSettings = EvalSettings()
    population: PositiveInt = Field(1, le=MAX_MEMBERS)
    """Trials trained at once as one population (``train.population``), whose batched step
    launches the kernels of one run on a GPU. Its members may differ in ``optim.*`` keys only."""

    @model_validator(mode="after")
    def _grid_needs_grids(self) -> "SweepSettings":
        if self.sampler == "grid" and any(d.kind != "grid" for d in self.space.values()):
            raise ValueError("sampler: grid needs every dimension of the space to be a grid")
        return self

    @property
    def metric_name(self) -> str:
        """The metric ``ganzoo eval --metrics`` computes for the key: ``measure``, else the key
        up to its first ``/`` (``fid/classifier`` -> ``fid``)."""
        return self.measure or self.metric.split("/", 1)[0]


def load_settings(path: Path, recipe: Path, registry: Registry, overrides: Sequence[str] = ()) -> SweepSettings:
    """The sweep file at ``path``, validated, and every value it can draw checked against
    ``recipe`` (with ``overrides``); a :class:`RecipeError` lists every problem."""
    where = str(path)
    try:
        tree = bounded_yaml.load(bounded_yaml.read_text(path))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, bounded_yaml.BoundError) as error:
        raise RecipeError([Problem(where, "", f"cannot read the sweep file: {' '.join(str(error).split())}")]) from None
    if not isinstance(tree, dict):
        raise RecipeError([Problem(where, "", "a sweep file is a mapping with a space and a budget")])
    try:
        settings = SweepSettings.model_validate(tree)
    except ValidationError as error:
        raise RecipeError(pydantic_problems(error, SweepSettings, "", Sources(where))) from None
    problems: list[Problem] = []
    if settings.metric_name not in registry.names("metric"):
        problems.append(
            Problem(
                where,
                "measure",
                f"no installed metric {settings.metric_name!r} to report {settings.metric!r}; "
                f"name the one that reports it with measure: (known: {', '.join(registry.names('metric'))})",
            )
        )
    problems += population_problems(settings, where, recipe, registry, overrides)
    for key, distribution in settings.space.items():
        for value in distribution.extremes:
            try:
                load_recipe(recipe, registry, [*overrides, override_text(key, value)])
            except RecipeError as error:
                reasons = "; ".join(str(p).split(": ", 1)[-1] for p in error.problems)
                problems.append(Problem(where, f"space.{key}", f"{value!r} does not fit the recipe: {reasons}"))
    if problems:
        raise RecipeError(problems)
    return settings


def population_problems(
    settings: SweepSettings, where: str, recipe: Path, registry: Registry, overrides: Sequence[str]
) -> list[Problem]:
    """Why the sweep's trials cannot train as one population: a key of the space its members
    cannot differ in, or a recipe that cannot train as a population (one line each)."""
    if settings.population == 1:
        return []
    problems = [
        Problem(
            where,
            f"space.{key}",
            "the trials of a population may differ in optim.* keys only (population: 1 searches any key)",
        )
        for key in settings.space
        if not key.startswith("optim.")
    ]
    try:
        load_recipe(recipe, registry, [*overrides, f"train.population={settings.population}"])
    except RecipeError as error:
        reasons = "; ".join(str(p).split(": ", 1)[-1] for p in error.problems)
        problems.append(
            Problem(where, "population", f"the recipe cannot train {settings.population} trials at once: {reasons}")
        )
    return problems
