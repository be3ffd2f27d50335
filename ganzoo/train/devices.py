"""Choosing the device a run or a loaded model uses: ``auto`` is cuda, then mps, then cpu."""

from __future__ import annotations

import torch

from ganzoo.api.errors import GanzooError


def select_device(name: str) -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an explicit device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanzooError(f"device {name!r} was asked for, but CUDA is not available here; use device=auto or cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise GanzooError(f"device {name!r} does not exist: {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise GanzooError("device 'mps' was asked for, but MPS is not available here; use device=auto or cpu")
    return device
