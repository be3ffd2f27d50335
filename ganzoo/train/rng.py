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


class OwnStreams:
    """The random streams of one member of a population: what the global streams are to a
    run alone, so that the member draws exactly what that run would.

    ``cpu`` starts from the global CPU stream as it stands after the member was built (its
    sample orders, and on a CPU its latents, come from it); on a GPU, the latents come from
    a device generator seeded like the global one (``torch.manual_seed`` seeds both)."""

    def __init__(self, seed: int, device: torch.device) -> None:
        self.cpu = torch.Generator()
        self.cpu.set_state(torch.get_rng_state())
        self.device_index = device.index if device.index is not None else 0
        self.device = self.cpu
        """The generator of the member's latents, on the device they are drawn on."""
        if device.type == "cuda":
            self.device = torch.Generator(device)
            self.device.manual_seed(seed)

    def state(self) -> dict:
        """As :func:`get_rng_state` would read it in the run alone: the member's streams in
        place of the global CPU stream and of its device's stream."""
        state = get_rng_state()
        state["torch"] = self.cpu.get_state()
        if self.device is not self.cpu and state["cuda"] is not None:
            state["cuda"][self.device_index] = self.device.get_state()
        return state

    def load(self, state: dict) -> None:
        self.cpu.set_state(state["torch"])
        if self.device is not self.cpu and state["cuda"] is not None:
            self.device.set_state(state["cuda"][self.device_index])
