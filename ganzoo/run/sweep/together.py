"""Trials trained K at a time as one population (``population: K`` in the sweep file).

On a GPU a small GAN's step is bound by kernel launches, so K trials trained as one batched
step (``train.population``, :mod:`ganzoo.train.population`) launch the kernels once. The
sweep asks Optuna for K trials at once, trains each seed of them as a population whose
members are the trials (each member the sweep's seed and its trial's values), and measures
and reports each trial as if it had run alone: its run folders are named and written as a
lone trial's, its value is the mean over its seeds. A trial the pruner stops, or one that
diverges, leaves the population alone; the others go on.

Members of a population may differ only in their seed and optimiser options, so a sweep with
a population searches ``optim.*`` keys only (:func:`ganzoo.run.sweep.space.load_settings`
says so before the first trial).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from ganzoo.api import DivergenceError, GanzooError
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import load_recipe
from ganzoo.recipe.loader import override_text
from ganzoo.run.population import run_population
from ganzoo.run.signals import RunInterrupted
from ganzoo.run.sweep.space import SweepSettings
from ganzoo.run.sweep.trial import (
    Pruning,
    measure,
    pruning_of,
    run_name,
    run_overrides,
    suggest,
    train,
    trial_callbacks,
    worker,
)

if TYPE_CHECKING:  # pragma: no cover
    import optuna

Outcome = Union[float, BaseException]
"""A trial's end: its value, or what ended it (:class:`optuna.TrialPruned`, a divergence)."""


@dataclass
class Member:
    """One trial inside the populations: its values, its runs and measurements so far."""

    trial: "optuna.Trial"
    params: dict[str, Any]
    runs: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    outcome: Optional[Outcome] = None


def run_together(
    trials: list["optuna.Trial"],
    settings: SweepSettings,
    recipe: Path,
    registry: Registry,
    folder: Path,
    progress: bool = False,
) -> list[Outcome]:
    """Train and measure ``trials`` together, one population per seed; each trial's outcome,
    in order. A signal raises :class:`RunInterrupted` (no trial is finished then)."""
    import optuna

    members = []
    for trial in trials:
        trial.set_user_attr("worker", worker())
        members.append(Member(trial, suggest(trial, settings.space)))
    for seed in range(settings.seeds):
        going = [member for member in members if member.outcome is None]
        if not going:
            break
        for member, (run, pruned, failure) in zip(
            going, _train(going, seed, settings, recipe, registry, folder, progress)
        ):
            member.runs.append(str(run))
            member.trial.set_user_attr("runs", member.runs)
            if failure is not None or pruned:
                member.outcome = failure if failure is not None else optuna.TrialPruned()
                continue
            member.values.append(measure(run, settings, registry))
            member.trial.set_user_attr("values", member.values)
    for member in members:
        if member.outcome is None:
            if len(member.values) > 1:
                member.trial.set_user_attr("std", statistics.stdev(member.values))
            member.outcome = statistics.fmean(member.values)
    return [member.outcome for member in members if member.outcome is not None]


def _train(
    members: list[Member],
    seed: int,
    settings: SweepSettings,
    recipe_path: Path,
    registry: Registry,
    folder: Path,
    progress: bool,
) -> list[tuple[Path, bool, Optional[Exception]]]:
    """One seed of ``members``: each one's run folder, whether the pruner stopped it, and
    the error it failed with on its own (a divergence), if any. A lone member runs alone."""
    if len(members) == 1:
        member = members[0]
        try:
            alone, pruned = train(member.trial, member.params, seed, settings, recipe_path, registry, folder, progress)
        except DivergenceError as diverged:  # as in a population: the trial fails alone, the sweep goes on
            return [(folder / run_name(member.trial, seed), False, diverged)]
        return [(alone, pruned, None)]
    values = {key: [member.params[key] for member in members] for key in settings.space}
    values["seed"] = [seed] * len(members)  # every member trains with the sweep's seed, as a lone trial would
    overrides = run_overrides(seed, settings, folder)
    overrides += [f"train.population={len(members)}", override_text("train.population_values", values)]
    recipe = load_recipe(recipe_path, registry, overrides)
    prunings: list[Optional[Pruning]] = [pruning_of(member.trial, seed, settings, recipe) for member in members]
    population = run_population(
        recipe,
        registry,
        progress=progress,
        callbacks=lambda k: trial_callbacks(settings, prunings[k]),
        names=[run_name(member.trial, seed) for member in members],
    )
    late = next((run.late_signal for run in population.runs if run.late_signal), None)
    if late:  # asked to stop as the members finished: the trials run again, whole, next time
        first = population.runs[0]
        raise RunInterrupted(first.folder, first.trainer.step, None, late)
    results = []
    for k, run in enumerate(population.runs):
        if run.folder is None:
            raise GanzooError("a sweep runs in one process, which writes its run folders")
        pruning = prunings[k]
        results.append((run.folder, bool(pruning and pruning.pruned), population.failures.get(k)))
    return results
