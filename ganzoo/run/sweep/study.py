"""A sweep's study: Optuna's record of every trial, in SQLite inside the sweep folder by
default, or in any database Optuna can reach (``--storage``), which every worker pointed at it
shares.

A sweep folder holds ``sweep.yaml`` (the sweep file as it started), ``recipe.yaml`` (the base
recipe, resolved), ``study.db`` and ``trials/`` (one ordinary run folder per trial and seed).
Running the same command again continues the sweep: finished trials are kept, a trial whose
process died (a kill, a lost machine) or that a signal stopped is run again, and the sweep
stops when it has its number of finished trials. Several workers on one study take trials in
turn; each trial is run by one worker only, and together they may run up to one trial per
extra worker beyond the number asked for, since each starts a trial while the others finish.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import socket
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence

from ganzoo.api import DivergenceError, GanzooError
from ganzoo.files.safe import atomic_write_text, read_text
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import load_recipe
from ganzoo.run.signals import RunInterrupted
from ganzoo.run.sweep.space import SweepSettings, load_settings
from ganzoo.run.sweep.together import run_together
from ganzoo.run.sweep.trial import run_trial
from ganzoo.runfolder.layout import SweepFolder

if TYPE_CHECKING:  # pragma: no cover
    import optuna


def get_heartbeat_thread(trial_id: int, storage: object) -> Any:
    """Optuna's own heartbeat for one trial, the one ``study.optimize`` keeps (Optuna keeps
    it in a private module: one home here for that dependency)."""
    from optuna.storages._heartbeat import get_heartbeat_thread as heartbeat

    return heartbeat(trial_id, storage)  # type: ignore[arg-type]  # a context manager


HEARTBEAT_SECONDS = 30
"""How often a running trial tells the database it is alive; one silent for three times
this is taken as dead (its worker lost) and run again."""


def _keep(folder: SweepFolder, path: Path, text: str, what: str) -> None:
    """Write the sweep's copy of ``what``, or check that a continued sweep has the same one."""
    if path.is_file():
        if read_text(path, limit=1_000_000, what=what) != text:
            raise GanzooError(
                f"{folder.path} holds a sweep started with another {what}; continue it with the same one, "
                f"or give another --name"
            )
        return
    atomic_write_text(path, text)


def open_study(folder: SweepFolder, settings: SweepSettings, storage: Optional[str]) -> "optuna.Study":
    """The sweep's study, created or loaded: its sampler, its pruner and its direction."""
    import optuna

    with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna: it is what a lost worker needs
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        database = optuna.storages.RDBStorage(
            folder.storage_url(storage),
            engine_kwargs={"connect_args": {"timeout": 60}} if storage is None else None,  # SQLite: wait for a writer
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=3 * HEARTBEAT_SECONDS,
            heartbeat_stale_trial_callback=retry,
        )
    samplers = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=0),
        "random": lambda: optuna.samplers.RandomSampler(seed=0),
        "grid": lambda: optuna.samplers.GridSampler(grid_points(settings)),
    }
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3) if settings.prune else optuna.pruners.NopPruner()
    return optuna.create_study(
        study_name=folder.name,
        storage=database,
        sampler=samplers[settings.sampler](),
        pruner=pruner,
        direction=settings.direction,
        load_if_exists=True,
    )


@contextlib.contextmanager
def one_at_a_time(folder: SweepFolder) -> Iterator[None]:
    """Workers of one machine set the sweep up one after the other: two that create the same
    SQLite database at once would both write its schema."""
    with open(folder.path / ".sweep-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def retry(study: "optuna.Study", trial: "optuna.trial.FrozenTrial") -> None:
    """Queue a trial that did not finish (its process died, or a signal stopped it) to run
    again with the same parameters, once."""
    study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False)


def retried_numbers(trials: "Sequence[optuna.trial.FrozenTrial]") -> set[int]:
    """The trials that were queued to run again (:func:`retry`): each counts as its retry."""
    return {t.user_attrs["retry_of"] for t in trials if "retry_of" in t.user_attrs}


def recover(study: "optuna.Study") -> None:
    """Run again what an earlier process of this host left unfinished: a trial still marked
    running whose process is gone, or one a signal interrupted."""
    import optuna

    retried = retried_numbers(study.get_trials(deepcopy=False))
    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False):
        if trial.number in retried:
            continue
        where, _, pid = str(trial.user_attrs.get("worker", "")).partition(":")
        dead = trial.state == optuna.trial.TrialState.RUNNING and where == host and not _alive(int(pid or 0))
        if dead:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        if dead or (trial.state == optuna.trial.TrialState.FAIL and trial.user_attrs.get("interrupted")):
            retry(study, trial)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def finished(study: "optuna.Study") -> int:
    """Trials that count against the sweep's number: complete, pruned, or failed on their
    own (a divergence), but not those that were stopped and run again."""
    import optuna

    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
    return sum(1 for t in trials if t.state in done and t.number not in retried)


def run_sweep(
    recipe: Path,
    space: Path,
    registry: Registry,
    folder: SweepFolder,
    *,
    overrides: Sequence[str] = (),
    storage: Optional[str] = None,
    progress: bool = True,
) -> "optuna.Study":
    """Run (or continue) the sweep until the study has its number of finished trials. Every
    trial trains the recipe as resolved here (with ``overrides``), kept in the sweep folder."""
    import optuna

    settings = load_settings(space, recipe, registry, overrides)
    base = load_recipe(recipe, registry, overrides)
    folder.path.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # ganzoo says what each trial did
    with one_at_a_time(folder):
        _keep(folder, folder.settings, read_text(space, limit=1_000_000, what="sweep file"), "sweep file")
        _keep(folder, folder.recipe, base.to_yaml(), "recipe")
        study = open_study(folder, settings, storage)
        recover(study)

    def objective(trial: "optuna.Trial") -> float:
        try:
            return run_trial(trial, settings, folder.recipe, registry, folder.trials, progress=progress)
        except Exception as error:
            if isinstance(error, RunInterrupted):  # a signal stopped it cleanly: run it again next time
                trial.set_user_attr("interrupted", True)
            elif isinstance(error, DivergenceError):
                trial.set_user_attr("failure", str(error))
            raise
        except BaseException:  # Ctrl-C, or SIGTERM outside training
            trial.set_user_attr("interrupted", True)
            raise

    def enough(study: "optuna.Study", trial: "optuna.trial.FrozenTrial") -> None:
        print(f"ganzoo sweep: trial {trial.number} {_describe(trial)}", file=sys.stderr)
        if finished(study) >= settings.trials:
            study.stop()

    if settings.population > 1:
        while finished(study) < settings.trials and grid_left(study, settings) != 0:
            together(study, settings, folder, registry, progress)
    elif finished(study) < settings.trials:
        study.optimize(objective, callbacks=[enough], catch=(DivergenceError,), gc_after_trial=True)
    return study


def together(
    study: "optuna.Study", settings: SweepSettings, folder: SweepFolder, registry: Registry, progress: bool
) -> None:
    """Ask for up to ``population`` trials, train them as one population
    (:mod:`~ganzoo.run.sweep.together`) and tell the study how each ended. A trial that
    diverged fails alone; a signal marks every one of them to run again; any other error
    fails them and ends the sweep."""
    import optuna

    with warnings.catch_warnings():  # Optuna warns of the heartbeat outside study.optimize: it is kept below
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", "Heartbeat of storage", UserWarning)
        optuna.storages.fail_stale_trials(study)  # what study.optimize does before each trial
        left = grid_left(study, settings)  # None: no grid, no limit of its own
        wanted = min(settings.population, settings.trials - finished(study), *([] if left is None else [left]))
        trials = [study.ask() for _ in range(wanted)]
    if not trials:  # another worker took the grid's last points since the sweep's loop looked
        return
    with contextlib.ExitStack() as alive:
        for trial in trials:  # the heartbeat study.optimize keeps for its one trial
            alive.enter_context(get_heartbeat_thread(trial._trial_id, study._storage))
        try:
            outcomes = run_together(trials, settings, folder.recipe, registry, folder.trials, progress=progress)
        except BaseException as error:
            again = isinstance(error, RunInterrupted) or not isinstance(error, Exception)  # a signal, Ctrl-C
            for trial in trials:
                if again:
                    trial.set_user_attr("interrupted", True)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
    crash = None
    for trial, outcome in zip(trials, outcomes):
        if isinstance(outcome, optuna.TrialPruned):
            tell(study, settings, trial, state=optuna.trial.TrialState.PRUNED)
        elif isinstance(outcome, BaseException):
            trial.set_user_attr("failure", str(outcome))
            tell(study, settings, trial, state=optuna.trial.TrialState.FAIL)
            crash = crash or (None if isinstance(outcome, DivergenceError) else outcome)
        else:
            tell(study, settings, trial, outcome)
        print(f"ganzoo sweep: trial {trial.number} {_describe(study.trials[trial.number])}", file=sys.stderr)
    if crash is not None:
        raise crash


def tell(study: "optuna.Study", settings: SweepSettings, trial: "optuna.Trial", *args: Any, **kwargs: Any) -> None:
    """``study.tell``, outside ``study.optimize``: the grid sampler asks the study to stop once
    its last grid point finishes, which Optuna allows inside ``optimize`` only. The trial is
    stored all the same, and the sweep's loop stops on the exhausted grid itself."""
    try:
        study.tell(trial, *args, **kwargs)
    except RuntimeError:
        if settings.sampler != "grid" or grid_left(study, settings) != 0:
            raise


def grid_points(settings: SweepSettings) -> dict[str, list[str]]:
    """The grid sampler's search space: every key's values, as the JSON text trials store."""
    return {key: [json.dumps(value) for value in d.extremes] for key, d in settings.space.items()}


def grid_left(study: "optuna.Study", settings: SweepSettings) -> Optional[int]:
    """Grid points no trial has taken yet (finished, or running); None without a grid sampler.
    A population asks for at most this many trials, as a grid hands out each point once."""
    if settings.sampler != "grid":
        return None
    import optuna

    points = math.prod(len(values) for values in grid_points(settings).values())
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    taken = {
        tuple(sorted(t.params.items()))
        for t in trials
        if t.number not in retried and t.state != optuna.trial.TrialState.WAITING
    }
    return max(0, points - len(taken))


def _describe(trial: "optuna.trial.FrozenTrial") -> str:
    values = trial.user_attrs.get("values", [])
    spread = f" ± {trial.user_attrs['std']:.4g}" if "std" in trial.user_attrs else ""
    value = f"{trial.value:.4g}{spread} over {len(values)} seed(s)" if trial.value is not None else ""
    failure = f"({trial.user_attrs['failure']})" if "failure" in trial.user_attrs else ""
    return " ".join(part for part in (trial.state.name.lower(), value, failure) if part)
