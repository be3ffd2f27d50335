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
from typing import Any, Iterable

import torch

from ganzoo.api import Problem, RecipeError
from ganzoo.files.safe import atomic_write_text, remove_stale_temporaries
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import COMMAND_LINE, load_recipe
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
    changes = optimizer_changes(load_recipe(layout.saved_recipe(), registry).resolved, recipe.resolved)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    with run_lock(folder) if main_rank else contextlib.nullcontext():
        path, state, warnings = latest_checkpoint(folder)
        with world_of(recipe) as world, built(recipe, registry, world) as (trainer, decision):
            check_same_data(trainer, state, path)
            load_fitting_state(trainer, state["trainer"], path)  # every rank continues from the same state
            applied = apply_optimizer_changes(trainer, changes)
            if not world.is_main:
                return train(recipe, registry, trainer, decision, None)
            for warning in warnings:
                print(f"ganzoo: warning: {warning}", file=sys.stderr)
            remove_stale_temporaries(layout.checkpoints)  # writes cut short by a kill
            if overrides:
                atomic_write_text(layout.recipe, recipe.to_yaml())
            print(f"ganzoo: resuming {folder} from {path.name} (step {trainer.step})", file=sys.stderr)
            for line in applied:
                print(f"ganzoo: {line}", file=sys.stderr)
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


Change = tuple[str, str, Any, Any]
"""``(network, option, value in the checkpoint's recipe, value now)``."""


def optimizer_changes(saved: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The optimiser options that overrides change on resume, refused (one recipe problem
    each) where they cannot be applied to the optimiser state the checkpoint holds: another
    optimiser, another schedule, or the learning rate of a network a schedule drives."""
    changes, problems = [], []
    for network in ("generator", "discriminator"):
        before, after = dict(saved["optim"][network]), dict(new["optim"][network])
        key = f"optim.{network}"
        if before["name"] != after["name"]:
            problems.append(
                Problem(
                    COMMAND_LINE,
                    f"{key}.name",
                    f"the checkpoint holds the state of {before['name']}; "
                    "another optimiser cannot continue it: start a new run",
                )
            )
            continue
        schedule = before.pop("schedule", None)
        if schedule != after.pop("schedule", None):
            problems.append(
                Problem(
                    COMMAND_LINE,
                    f"{key}.schedule",
                    "a learning-rate schedule cannot change on resume: "
                    "its state in the checkpoint belongs to the one the run started with",
                )
            )
        for option in sorted(set(before) | set(after)):
            if option == "name" or before.get(option) == after.get(option):
                continue
            if option == "lr" and schedule is not None and schedule.get("name", "constant") != "constant":
                problems.append(
                    Problem(
                        COMMAND_LINE,
                        f"{key}.lr",
                        f"the learning rate follows the schedule "
                        f"{schedule['name']!r}, which continues from the checkpoint; it cannot be set on resume",
                    )
                )
                continue
            changes.append((network, option, before.get(option), after.get(option)))
    if problems:
        raise RecipeError(problems)
    return changes


def apply_optimizer_changes(trainer: Trainer, changes: list[Change]) -> list[str]:
    """Set each changed option in every parameter group of the loaded optimiser (a learning
    rate is scaled, so that groups with a rate of their own keep their ratio); returns one
    line per change. An option the optimiser's state does not hold is refused."""
    lines = []
    for network, option, before, after in changes:
        optimizer = trainer.g_optimizer if network == "generator" else trainer.d_optimizer
        if not all(option in group for group in optimizer.param_groups):
            raise RecipeError(
                [
                    Problem(
                        COMMAND_LINE,
                        f"optim.{network}.{option}",
                        f"{type(optimizer).__name__} keeps no "
                        f"{option!r} in its state, so it cannot be changed on resume",
                    )
                ]
            )
        for group in optimizer.param_groups:
            if option == "lr" and before:
                group["lr"] = group["lr"] * (after / before)
            else:
                group[option] = tuple(after) if isinstance(group[option], tuple) else after
        lines.append(f"optim.{network}.{option}: {before} -> {after}, applied to the optimiser state of the checkpoint")
    return lines


def check_same_data(trainer: Trainer, checkpoint: dict, path: Path) -> None:
    """Refuse data other than the checkpoint's, and an epoch in progress that does not fit
    it: the run continues the epoch it was in, over the samples it had (``data.root`` may
    move; the data itself may not change)."""
    state = checkpoint["trainer"] if isinstance(checkpoint.get("trainer"), dict) else {}
    order, position = state.get("epoch_order"), state.get("epoch_position", 0)
    size, saved, now = len(trainer.batches.data), checkpoint.get("data_info"), trainer.data_info
    if isinstance(saved, dict) and list(saved.get("shape", [])) != list(now["shape"]):
        raise CheckpointError(
            f"{path} was trained on samples of shape {saved.get('shape')} and the recipe now loads "
            f"{now['shape']}: a run resumes on the data it started with (did a data.* override change it?)"
        )
    if order is None:
        return
    if not (isinstance(order, torch.Tensor) and order.dim() == 1 and not order.is_floating_point()):
        raise CheckpointError(f"{path}: its epoch order is not a list of sample indices; the file is damaged")
    if len(order) != size:
        raise CheckpointError(
            f"{path} was trained on {len(order):,} samples and the recipe now loads {size:,}: a run resumes "
            f"on the data it started with (did a data.* override change it?)"
        )
    if len(order) and not (0 <= int(order.min()) and int(order.max()) < size):
        raise CheckpointError(f"{path}: its epoch order names samples that do not exist; the file is damaged")
    if not (isinstance(position, int) and 0 <= position <= len(trainer.batches)):
        raise CheckpointError(f"{path}: its position in the epoch is not a batch of it; the file is damaged")
