"""The layout of ``weights.pt``, and where a checkpoint keeps the weights to sample from.

``weights.pt`` is written when a run finishes and is the file to sample from. It holds
``generator`` (the weights to sample from), ``generator_source`` (``trained``, or the name
of the callback that keeps other weights, such as ``ema``), ``trained_generator`` when the
two differ, and ``discriminator``, ``loss``, ``step``, ``epoch``, ``status`` and
``data_info``. A checkpoint's trainer state carries ``sampling_generator`` and
``sampling_source`` instead, when a callback keeps other weights. This module writes both
and reads either back, so that the layout is spelled out once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganzoo.checkpoint import atomic_save, load_safely
from ganzoo.errors import GanzooError
from ganzoo.training_run import TrainingRun

FILE = "weights.pt"


def weights_state(run: TrainingRun) -> dict[str, Any]:
    """The contents of ``weights.pt`` for ``run`` as it stands."""
    source, sampler = run.sampling
    return {
        "generator": sampler.state_dict(),
        "generator_source": source,
        **({"trained_generator": run.generator.state_dict()} if sampler is not run.generator else {}),
        "discriminator": run.discriminator.state_dict(),
        "loss": run.loss.state_dict(),
        "step": run.step,
        "epoch": run.epoch,
        "status": run.status,
        "data_info": run.data_info,
    }


def save_weights(run: TrainingRun, folder: Path) -> Path:
    """Write ``folder/weights.pt`` atomically (never a half-written weights file)."""
    path = folder / FILE
    atomic_save(weights_state(run), path)
    return path


def sampling_state(run: TrainingRun) -> dict[str, Any]:
    """The weights to sample from, for a checkpoint, when a callback keeps other weights
    than the trained ones: readers of a checkpoint (``ganzoo sample``) need no callback."""
    source, module = run.sampling
    if module is run.generator:
        return {}
    return {"sampling_generator": module.state_dict(), "sampling_source": source}


def load_weights(path: Path) -> dict[str, Any]:
    """A ``weights.pt`` or a checkpoint, loaded without running code from the file."""
    state = load_safely(path, "ganzoo weights", GanzooError)
    if not isinstance(state, dict) or not ("generator" in state or "generator" in state.get("trainer", {})):
        raise GanzooError(f"{path} holds no generator weights: not a ganzoo weights.pt or checkpoint")
    return state


def generator_weights(weights: dict, trained: bool) -> tuple[str, dict]:
    """``(kind, state dict)`` of the generator to load from ``weights.pt`` or a checkpoint's
    trainer state: the weights to sample from unless ``trained`` asks otherwise."""
    if "generator_source" in weights:  # weights.pt
        if trained and "trained_generator" in weights:
            return "trained", weights["trained_generator"]
        return weights["generator_source"], weights["generator"]
    if "sampling_generator" in weights and not trained:  # a checkpoint of a run that keeps an EMA
        return weights["sampling_source"], weights["sampling_generator"]
    return "trained", weights["generator"]
