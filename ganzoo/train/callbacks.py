"""What the trainer does with its callbacks: calls their methods, keeps their state in
checkpoints, and asks which generator to sample from.

A recipe's callbacks are :class:`ganzoo.Callback` subclasses (the registry refuses anything
else), but code that builds a trainer itself may hand it any object with some of the
methods: every call here treats a missing method as the base class's default (nothing to
do, no state, no generator of its own).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ganzoo.api import GanzooError, TrainingRun


def callback_states(callbacks: Sequence[Any]) -> dict[str, dict]:
    """Each stateful callback's ``state_dict``, by its name (two with one name are an error:
    a checkpoint could not tell them apart)."""
    states: dict[str, dict] = {}
    for callback in callbacks:
        state: dict = getattr(callback, "state_dict", dict)()
        if not state:
            continue
        if callback.name in states:
            raise GanzooError(
                f"two callbacks named {callback.name!r} keep state: a checkpoint cannot tell them "
                f"apart; list it once under callbacks"
            )
        states[callback.name] = state
    return states


def load_callback_states(callbacks: Sequence[Any], saved: dict[str, dict]) -> None:
    """Hand each callback its saved state; a saved state that no callback takes is refused."""
    missing = sorted(set(saved) - {getattr(callback, "name", None) for callback in callbacks})
    if missing:
        raise GanzooError(
            f"the checkpoint holds the state of callback(s) {', '.join(missing)}, which the recipe no "
            f"longer lists: resuming without them would not continue the same training"
        )
    for callback in callbacks:
        if getattr(callback, "name", None) in saved:
            callback.load_state_dict(saved[callback.name])


def sampling_choice(
    callbacks: Sequence[Any], run: TrainingRun, trained: torch.nn.Module
) -> tuple[str, torch.nn.Module]:
    """``(source, generator)``: the first callback's ``sampling_generator(run)`` that is not
    None, with the callback's name; else ``("trained", trained)``."""
    for callback in callbacks:
        module = getattr(callback, "sampling_generator", lambda run: None)(run)
        if module is not None:
            return callback.name, module
    return "trained", trained


def emit(callbacks: Sequence[Any], event: str, run: TrainingRun, *args: object) -> None:
    """Call ``event`` (``on_log``, ...) on every callback that has it, in order."""
    for callback in callbacks:
        method = getattr(callback, event, None)
        if method is not None:
            method(run, *args)
