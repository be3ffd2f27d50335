"""Watching for divergence without synchronising the device.

The first step at which each loss was not finite is kept on the device (-1: never), so
watching costs no host read per step; the trainer checks it with every log and before
every checkpoint (one synchronisation), so that a bad state is reported with its step and
is never saved.
"""

from __future__ import annotations

from typing import Iterable

import torch

from ganzoo.api.errors import DivergenceError


class DivergenceWatch:
    """The first non-finite step of each named loss, on ``device``."""

    def __init__(self, device: torch.device, names: Iterable[str] = ("d_loss", "g_loss")) -> None:
        self.first_bad = {name: torch.tensor(-1, device=device) for name in names}
        self.device_step = torch.tensor(0, device=device)
        """The step in progress, on the device: the trainer fills it (no synchronisation)."""

    def watch(self, name: str, loss: torch.Tensor) -> None:
        """Remember the first step at which ``loss`` was not finite (on the device)."""
        first = self.first_bad[name]
        bad = (first < 0) & ~torch.isfinite(loss.detach())
        first.copy_(torch.where(bad, self.device_step, first))  # in place: a captured step keeps its buffers

    def check(self, *, step: int, epoch: int, networks: dict[str, torch.nn.Module]) -> None:
        """Raise :class:`DivergenceError` if a watched loss or a parameter of ``networks``
        (by label) is NaN or infinite; ``step`` and ``epoch`` date the report."""
        firsts = torch.stack(list(self.first_bad.values())).tolist()
        for name, first in zip(self.first_bad, firsts):
            if first >= 0:
                raise DivergenceError(
                    f"{name} became NaN or infinite at step {first} (epoch {epoch}); training stopped "
                    f"and no state after the last checkpoint was saved. Lower the learning rate or check the data."
                )
        for label, module in networks.items():
            finite = torch.stack([p.detach().isfinite().all() for p in module.parameters()]).all()
            if not bool(finite):
                raise DivergenceError(
                    f"a parameter of the {label} became NaN or infinite by step {step}; "
                    f"training stopped and no state after the last checkpoint was saved."
                )
