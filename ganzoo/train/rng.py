"""Every random stream training may touch: seeded before a run is built, captured and
restored as plain tensors and Python values (loadable with ``torch.load(weights_only=True)``)."""

from __future__ import annotations

import random
from typing import Any, cast

import torch


def seed_everything(seed: int) -> None:
    """Seed every random stream training may touch (python, numpy, torch on all devices)."""
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy comes with torchvision
        pass
    torch.manual_seed(seed)


def get_rng_state() -> dict:
    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state(), "cuda": None, "numpy": None}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    try:
        import numpy

        # numpy's stub types the call without legacy= as the dict form; the default (legacy=True) is this tuple.
        legacy = cast("tuple[str, numpy.ndarray, int, int, float]", numpy.random.get_state())
        kind, keys, position, has_gauss, cached = legacy
        state["numpy"] = (kind, torch.from_numpy(keys.astype("int64")), position, has_gauss, cached)
    except ImportError:  # pragma: no cover - numpy comes with torchvision
        pass
    return state


def set_rng_state(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if state["numpy"] is not None:
        import numpy

        kind, keys, position, has_gauss, cached = state["numpy"]
        numpy.random.set_state((kind, keys.numpy().astype("uint32"), position, has_gauss, cached))
