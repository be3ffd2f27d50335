"""What the trainer keeps of its callbacks: their state in checkpoints, the generator one
of them offers to sample from, and the calls of their methods.

Callbacks are duck-typed: a callback need not derive from ``ganzoo.Callback`` nor have
every method, hence the ``getattr`` defaults.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ganzoo.errors import GanzooError


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


def sampling(callbacks: Sequence[Any], run: Any, trained: torch.nn.Module) -> tuple[str, torch.nn.Module]:
    """``(source, generator)``: the first callback's ``sampling_generator(run)`` that is not
    None, with the callback's name; else ``("trained", trained)``."""
    for callback in callbacks:
        module = getattr(callback, "sampling_generator", lambda run: None)(run)
        if module is not None:
            return callback.name, module
    return "trained", trained


def emit(callbacks: Sequence[Any], event: str, run: Any, *args: object) -> None:
    """Call ``event`` (``on_log``, ...) on every callback, in order."""
    for callback in callbacks:
        getattr(callback, event)(run, *args)
