"""Resuming a run: the same folder, from its newest loadable checkpoint, bit for bit.

The folder is locked first (by rank 0, which alone writes it), so that a run another
process is training is refused before anything is built or read. Overrides may change the
recipe (``train.epochs=400`` to train longer); the checkpoint must still fit the recipe's
model, or the resume is refused in one line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterable

from ganzoo.files.safe import atomic_write_text, remove_stale_temporaries
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import load_recipe
from ganzoo.run.training import Run, built, evaluation_session, train, world_of
from ganzoo.runfolder.checkpoints import CheckpointError, latest_checkpoint
from ganzoo.runfolder.layout import RunFolder
from ganzoo.runfolder.lock import run_lock
from ganzoo.runfolder.weights import check_fits
from ganzoo.train import Trainer


def resume_run(folder: Path, registry: Registry, overrides: Iterable[str] = (), *, progress: bool = True) -> Run:
    """Continue the run in ``folder`` from its newest loadable checkpoint, in the same folder."""
    folder, overrides = Path(folder), list(overrides)
    layout = RunFolder(folder)
    recipe = load_recipe(layout.saved_recipe(), registry, overrides)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    with run_lock(folder) if main_rank else contextlib.nullcontext():
        path, state, warnings = latest_checkpoint(folder)
        with world_of(recipe) as world, built(recipe, registry, world) as (trainer, decision):
            load_fitting_state(trainer, state["trainer"], path)  # every rank continues from the same state
            if not world.is_main:
                return train(recipe, registry, trainer, decision, None)
            for warning in warnings:
                print(f"ganzoo: warning: {warning}", file=sys.stderr)
            remove_stale_temporaries(layout.checkpoints)  # writes cut short by a kill
            if overrides:
                atomic_write_text(layout.recipe, recipe.to_yaml())
            print(f"ganzoo: resuming {folder} from {path.name} (step {trainer.step})", file=sys.stderr)
            evaluation = evaluation_session(recipe, registry, trainer, progress)
            return train(recipe, registry, trainer, decision, folder, progress=progress, evaluation=evaluation)


def load_fitting_state(trainer: Trainer, state: object, path: Path) -> None:
    """``trainer.load_state_dict(state)`` once both networks' weights are checked against
    the recipe's model; whatever else does not fit is one line naming the checkpoint."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: its trainer state is not a mapping; the file is damaged")
    check_fits(trainer.generator, state.get("generator"), "generator", path)
    check_fits(trainer.discriminator, state.get("discriminator"), "discriminator", path)
    for key, fresh in trainer.state_dict().items():  # the same structure as this trainer's own state
        saved = state.get(key, fresh)
        if (
            fresh is not None
            and type(saved) is not type(fresh)
            or (isinstance(fresh, int) and isinstance(saved, int) and not 0 <= saved <= 2**62)
        ):
            raise CheckpointError(
                f"{path} does not fit the recipe: its trainer state {key!r} is a "
                f"{type(saved).__name__} where a {type(fresh).__name__} belongs; the file is "
                f"damaged or was not written by ganzoo"
            )
    try:
        trainer.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise CheckpointError(
            f"{path} does not fit the recipe: {reason}; was recipe.yaml edited, or is the checkpoint from another run?"
        ) from None
