"""One trial of a sweep: the parameters the sampler draws, trained as ordinary runs (one per
seed, each a run folder of its own) and measured by ``ganzoo eval``; its value is the mean
over the seeds, with their spread kept beside it.

While the first seed trains, the sweep's metric, when training evaluates it (``eval.every``),
goes to Optuna's pruner: a trial clearly worse than the others at the same step stops early,
and is recorded as pruned.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.api import Callback, GanzooError, TrainingRun
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import Recipe, load_recipe
from ganzoo.recipe.loader import override_text
from ganzoo.run.signals import RunInterrupted
from ganzoo.run.sweep.space import Distribution, SweepSettings
from ganzoo.run.training import run_recipe

if TYPE_CHECKING:  # pragma: no cover
    import optuna


def suggest(trial: "optuna.Trial", space: dict[str, Distribution]) -> dict[str, Any]:
    """Each key's value for this trial. A choice or a grid whose values are not plain scalars
    (``[0.5, 0.999]``) is drawn by its JSON text, which Optuna stores, and read back."""
    params = {}
    for key, distribution in space.items():
        kind, bounds = distribution.kind, distribution.extremes
        if kind in ("uniform", "log_uniform"):
            params[key] = trial.suggest_float(key, bounds[0], bounds[1], log=kind == "log_uniform")
        elif kind in ("int", "log_int"):
            params[key] = trial.suggest_int(key, bounds[0], bounds[1], log=kind == "log_int")
        else:
            params[key] = json.loads(trial.suggest_categorical(key, [json.dumps(value) for value in bounds]))
    return params


class Pruning(Callback):
    """Hands the sweep's metric to Optuna as training logs it, and stops a trial that the
    pruner gives up on (after the current step, cleanly: its run folder is whole)."""

    name = "sweep_pruning"
    capturable = True  # it runs between steps and replaces no tensor the step holds
    stackable = True  # between steps, on its own trial: it stops its own member only

    def __init__(self, trial: "optuna.Trial", metric: str) -> None:
        self.trial = trial
        self.metric = metric
        self.pruned = False

    def on_log(self, run: TrainingRun, scalars: dict[str, float]) -> None:
        if self.metric in scalars:
            self.trial.report(float(scalars[self.metric]), run.step)
            if self.trial.should_prune():
                self.pruned = run.should_stop = True


class TimeLimit(Callback):
    """A time budget: training stops after ``seconds`` of wall-clock time."""

    name = "sweep_time_limit"
    capturable = True  # it runs between steps and replaces no tensor the step holds
    stackable = True  # between steps: it stops its own run

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0

    def on_train_start(self, run: TrainingRun) -> None:
        self.started = time.monotonic()

    def on_step_end(self, run: TrainingRun) -> None:
        if time.monotonic() - self.started >= self.seconds:
            run.should_stop = True


def worker() -> str:
    """Who runs a trial: ``host:pid``, so that a restart on the same host can tell a trial
    whose process died from one another process is running."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_trial(
    trial: "optuna.Trial",
    settings: SweepSettings,
    recipe: Path,
    registry: Registry,
    trials: Path,
    progress: bool = False,
) -> float:
    """Train and measure one trial; its value (the mean over the seeds)."""
    import optuna

    trial.set_user_attr("worker", worker())
    params = suggest(trial, settings.space)
    values, runs = [], []
    for seed in range(settings.seeds):
        runs.append(str(trials / run_name(trial, seed)))  # before training: a run that fails is listed too
        trial.set_user_attr("runs", runs)
        folder, pruned = train(trial, params, seed, settings, recipe, registry, trials, progress)
        if pruned:
            raise optuna.TrialPruned()
        values.append(measure(folder, settings, registry))
        trial.set_user_attr("values", values)
    if len(values) > 1:
        trial.set_user_attr("std", statistics.stdev(values))
    return statistics.fmean(values)


def train(
    trial: "optuna.Trial",
    params: dict[str, Any],
    seed: int,
    settings: SweepSettings,
    recipe_path: Path,
    registry: Registry,
    trials: Path,
    progress: bool = False,
) -> tuple[Path, bool]:
    """One seed of a trial as an ordinary run; its folder, and whether the pruner stopped it."""
    overrides = [override_text(key, value) for key, value in params.items()]
    overrides += run_overrides(seed, settings, trials) + [f"run.name={run_name(trial, seed)}"]
    recipe = load_recipe(recipe_path, registry, overrides)
    pruning = pruning_of(trial, seed, settings, recipe)
    run = run_recipe(recipe, registry, progress=progress, callbacks=trial_callbacks(settings, pruning))
    assert run.folder is not None, "a sweep runs in one process, which writes its run folders"
    if run.late_signal:  # asked to stop as the run finished: the trial runs again, whole, next time
        raise RunInterrupted(run.folder, run.trainer.step, None, run.late_signal)
    return run.folder, bool(pruning and pruning.pruned)


def run_name(trial: "optuna.Trial", seed: int) -> str:
    """The run folder of one seed of a trial, inside the sweep's ``trials/``."""
    return f"trial-{trial.number:04d}-s{seed}"


def run_overrides(seed: int, settings: SweepSettings, trials: Path) -> list[str]:
    """What every run of a sweep trains with beside its trial's values: the budget, the seed,
    its place in the sweep folder, the evaluation's size and the sweep's wandb group."""
    overrides = settings.budget.overrides() + [f"seed={seed}", f"run.dir={trials}"]
    return overrides + [f"eval.n={settings.eval.n}", f"wandb.group={trials.parent.name}"]


def pruning_of(trial: "optuna.Trial", seed: int, settings: SweepSettings, recipe: Recipe) -> "Pruning | None":
    """The pruner's callback for a trial's first seed, when the sweep prunes and training
    evaluates (``eval.every``); None otherwise."""
    return Pruning(trial, settings.metric) if settings.prune and seed == 0 and recipe.config.eval.every else None


def trial_callbacks(settings: SweepSettings, pruning: "Pruning | None") -> list[Callback]:
    """The callbacks a sweep adds to a trial's run: its time budget and its pruning."""
    extra: list[Callback] = [TimeLimit(settings.budget.seconds)] if settings.budget.seconds else []
    return extra + ([pruning] if pruning else [])


def measure(folder: Path, settings: SweepSettings, registry: Registry) -> float:
    """The sweep's metric of a finished run, by ``ganzoo eval`` (recorded in its eval.jsonl)."""
    from ganzoo.inference.evaluation import evaluate_model
    from ganzoo.inference.models import load_trained

    model = load_trained(folder, registry)
    results = evaluate_model(model, registry, names=[settings.metric_name], n=settings.eval.n, progress=False)
    found = {result.key: result.value for result in results}
    if settings.metric not in found:
        raise GanzooError(
            f"the sweep's metric {settings.metric!r} is not among what {settings.metric_name!r} reports "
            f"({', '.join(found) or 'nothing'})"
        )
    return found[settings.metric]
