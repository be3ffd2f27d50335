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
from typing import TYPE_CHECKING, Any

from ganzoo.api import DataInfo, GanzooError, TrainingRun
from ganzoo.runfolder.checkpoints import atomic_save, load_safely
from ganzoo.runfolder.layout import RunFolder

if TYPE_CHECKING:  # pragma: no cover
    import torch


def weights_state(run: TrainingRun) -> dict[str, Any]:
    """The contents of ``weights.pt`` for ``run`` as it stands."""
    source, sampler = run.sampling_source, run.sampling_generator
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
    path = RunFolder(folder).weights
    atomic_save(weights_state(run), path)
    return path


def sampling_state(run: TrainingRun) -> dict[str, Any]:
    """The weights to sample from, for a checkpoint, when a callback keeps other weights
    than the trained ones: readers of a checkpoint (``ganzoo sample``) need no callback."""
    module = run.sampling_generator
    if module is run.generator:
        return {}
    return {"sampling_generator": module.state_dict(), "sampling_source": run.sampling_source}


def load_weights(path: Path) -> dict[str, Any]:
    """A ``weights.pt`` or a checkpoint, loaded without running code from the file."""
    state = load_safely(path, "ganzoo weights", GanzooError)
    weights = state.get("trainer", state) if isinstance(state, dict) else None
    if not isinstance(weights, dict) or "generator" not in weights:
        raise GanzooError(f"{path} holds no generator weights: not a ganzoo weights.pt or checkpoint")
    return state


def generator_weights(weights: dict, trained: bool) -> tuple[str, dict]:
    """``(kind, state dict)`` of the generator to load from ``weights.pt`` or a checkpoint's
    trainer state: the weights to sample from unless ``trained`` asks otherwise."""
    sources = [weights.get(key) for key in ("generator_source", "sampling_source") if key in weights]
    if not all(isinstance(name, str) for name in sources):
        raise GanzooError(
            "the file names the source of its generator weights with something other than a name; "
            "it is damaged or was not written by ganzoo"
        )
    if "generator_source" in weights:  # weights.pt
        if trained and "trained_generator" in weights:
            return "trained", weights["trained_generator"]
        return weights["generator_source"], weights["generator"]
    if "sampling_generator" in weights and not trained:  # a checkpoint of a run that keeps an EMA
        return weights["sampling_source"], weights["sampling_generator"]
    return "trained", weights["generator"]


def check_fits(module: "torch.nn.Module", state: object, what: str, source: Path) -> None:
    """Refuse (``GanzooError``) weights ``state`` that do not fit ``module`` as the recipe
    builds it: not a mapping of names to tensors, other names, or other shapes. Checked
    before ``load_state_dict``, whose size-mismatch traceback says nothing of the recipe."""
    import torch

    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise GanzooError(
            f"{source}: its {what} weights are not a mapping of names to tensors; the file is damaged "
            f"or was not written by ganzoo"
        )
    expected = module.state_dict()
    differ = sorted(set(expected) ^ set(state))
    if differ:
        raise GanzooError(
            f"{source} does not fit the recipe: the {what} of the recipe's model and the one in the file "
            f"differ in {len(differ)} name(s), e.g. {differ[0]!r}; the file is from another model or "
            f"recipe"
        )
    for name, tensor in expected.items():
        if state[name].shape != tensor.shape:
            raise GanzooError(
                f"{source} does not fit the recipe: {what} {name} has shape {list(state[name].shape)} "
                f"in the file and {list(tensor.shape)} for the recipe's model; was a model option "
                f"changed in recipe.yaml, or is the file from another run?"
            )


MAX_SAMPLE_VALUES = 2**24
"""Largest sample a saved ``data_info`` may describe (16 million values, e.g. 3x2048x2048)."""


def saved_data_info(saved: object, source: Path) -> DataInfo:
    """The ``data_info`` of a weights file or checkpoint, checked before anything is built
    from it: a crafted one (wrong types, a shape of billions) is refused in one line."""

    def shape_ok(shape: object) -> bool:
        if not (
            isinstance(shape, (list, tuple))
            and 1 <= len(shape) <= 3
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
        ):
            return False
        values = 1
        for n in shape:
            values *= n
        return values <= MAX_SAMPLE_VALUES

    classes = saved.get("num_classes") if isinstance(saved, dict) else None
    condition = saved.get("condition_shape") if isinstance(saved, dict) else None
    if not (
        isinstance(saved, dict)
        and shape_ok(saved.get("shape"))
        and (
            classes is None or (isinstance(classes, int) and not isinstance(classes, bool) and 0 < classes <= 1_000_000)
        )
        and (condition is None or shape_ok(condition))
    ):
        shown = repr(saved)
        raise GanzooError(
            f"{source}: its data_info is not valid (1 to 3 positive sizes of at most "
            f"{MAX_SAMPLE_VALUES:,} values, and a class count up to 1,000,000): "
            f"{shown if len(shown) <= 80 else shown[:77] + '...'}"
        )
    return DataInfo.from_dict(saved)
