"""``train.population: K``: K members of a recipe trained in one batched step
(:mod:`ganzoo.train.population`), each into a run folder of its own that is what the member
would have written alone: its recipe (``train.population`` 1, its seed and values), its
metrics, grids, checkpoints, weights, video and wandb run (the members share a wandb group).
``ganzoo run --resume`` continues one member alone.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from ganzoo.api import Callback, GanzooError
from ganzoo.api.population import population_refusals
from ganzoo.files.safe import atomic_write_text
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import Recipe
from ganzoo.recipe.loader import derive
from ganzoo.recipe.population import members
from ganzoo.run.signals import RunInterrupted, stop_on_signals
from ganzoo.run.training import (
    Run,
    attach_outputs,
    built,
    evaluation_session,
    finished_run,
    new_run_folder,
    record_subset,
    world_of,
)
from ganzoo.runfolder.layout import RunFolder
from ganzoo.runfolder.lock import run_lock
from ganzoo.train.loop import Trainer
from ganzoo.train.population import PopulationStep, fit_population
from ganzoo.train.rng import OwnStreams


@dataclass
class Population:
    """A population's members once training is over: each one's :class:`Run`, and the error
    of each member that failed on its own (by member)."""

    runs: list[Run]
    failures: dict[int, Exception] = field(default_factory=dict)


class PopulationInterrupted(RunInterrupted):
    """A signal stopped every member cleanly, each with a checkpoint in its own folder."""

    def __init__(self, folders: list[Path], step: int, signal_number: int) -> None:
        super().__init__(folders[0], step, None, signal_number)
        self.folders = folders


def run_population(
    recipe: Recipe,
    registry: Registry,
    *,
    progress: bool = True,
    callbacks: Callable[[int], Sequence[Callback]] = lambda member: (),
    names: Optional[Sequence[str]] = None,
) -> Population:
    """Train ``recipe``'s members together (``callbacks(k)``: member k's extra callbacks).
    The run folders are ``names`` under ``run.dir``, by default
    ``<run.name or recipe-date-time>-m<k>``."""
    recipes = members(recipe, registry)
    base = recipe.config.run.name or f"{recipe.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    names = list(names) if names is not None else [f"{base}-m{k}" for k in range(len(recipes))]
    if len(names) != len(recipes) or len(set(names)) != len(names):
        raise GanzooError(f"a population of {len(recipes)} needs as many distinct run names, not {names}")
    if recipe.config.wandb.group is None:  # the members' wandb runs side by side
        recipes = [derive(member, registry, [f"wandb.group={base}"]) for member in recipes]
    with world_of(recipe) as world, contextlib.ExitStack() as held:
        if world.distributed:
            raise GanzooError("train.population trains its members in one process: run it without --nproc or torchrun")
        trainers, streams = [], []
        for k, member in enumerate(recipes):
            eager = derive(member, registry, ["train.cuda_graph=off"])  # the batched step serves them all
            trainer, _ = held.enter_context(built(eager, registry, world, callbacks(k)))
            streams.append(OwnStreams(member.config.seed, trainer.device))  # as the global ones stand now, alone
            trainer.streams = streams[-1]
            trainer.recipe = member.resolved
            trainers.append(trainer)
        _refuse_instances(trainers[0], len(trainers))
        evaluations = [
            evaluation_session(member, registry, trainer, progress and k == 0)
            for k, (member, trainer) in enumerate(zip(recipes, trainers))
        ]  # before any folder exists: a metric that cannot run fails here
        outputs = []
        for k, (member, trainer) in enumerate(zip(recipes, trainers)):
            folder = new_run_folder(Path(recipe.config.run.dir), names[k], recipe.stem)
            held.enter_context(run_lock(folder))
            atomic_write_text(RunFolder(folder).recipe, member.to_yaml())
            record_subset(member, trainer, RunFolder(folder).subset)
            outputs.append(attach_outputs(member, registry, trainer, folder, progress and k == 0, evaluations[k]))
        print(
            f"ganzoo: train.population={len(trainers)}: {len(trainers)} runs in one batched step "
            f"(torch.func.vmap, eager), in {', '.join(str(t.folder) for t in trainers)}",
            file=sys.stderr,
        )
        step = PopulationStep([trainer.stepper for trainer in trainers], streams)
        with stop_on_signals(*trainers) as received:
            failures = fit_population(trainers, step)
        late: Optional[int] = received[0] if received else None
        if any(trainer.status == "interrupted" for trainer in trainers):
            folders = [t.folder for t in trainers if t.status == "interrupted" and t.folder is not None]
            raise PopulationInterrupted(folders, trainers[0].step, late or signal.SIGINT)
        runs = [finished_run(m, t, o, late) for m, t, o in zip(recipes, trainers, outputs)]
        return Population(runs, failures)


def _refuse_instances(trainer: Trainer, size: int) -> None:
    """The built components' own declarations (``ganzoo check`` reads most of them from
    their options already; a callback added by the caller only shows here)."""
    components: list[tuple[str, object]] = [("model", trainer.stepper.architecture), ("loss", trainer.stepper.loss)]
    components += [("callback", callback) for callback in trainer.callbacks]
    refusals = population_refusals(
        members=size, compile=None, cuda_graph="auto", distributed=False, components=components
    )
    if refusals:
        raise GanzooError("train.population: " + "; ".join(refusals))
