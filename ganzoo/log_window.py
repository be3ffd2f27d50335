"""The log window: scalars summed on the device between two logs, read once per window.

A loss's logged values stay tensors; the window adds them up on the device and the trainer
reads the means back once every ``log_every`` steps, so that logging never forces a host
synchronisation per step. An open window is part of a checkpoint: a resumed run closes it
with the same numbers.
"""

from __future__ import annotations

from typing import Optional

import torch

from ganzoo.distributed import World


class LogWindow:
    """Sums and counts of the scalars logged since the window opened."""

    def __init__(self, world: World = World()) -> None:
        self.world = world
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    @property
    def is_open(self) -> bool:
        """Whether anything was added since the last :meth:`close`."""
        return bool(self.sums)

    def add(self, values: dict[str, torch.Tensor], step: int) -> None:
        """Add one update's scalars (``step``: the step in progress, to name a failed collective)."""
        if self.world.distributed:
            # Averaged over the ranks at once (no host synchronisation: a small collective in
            # the stream), so that the open window a checkpoint saves holds the global numbers.
            keys = list(values)
            means = self.world.mean(
                torch.stack([values[k].detach().float() for k in keys]), f"averaging the logged scalars at step {step}"
            )
            values = dict(zip(keys, means.unbind()))
        for key, value in values.items():
            value = value.detach()
            self.sums[key] = self.sums[key] + value if key in self.sums else value.clone()
            self.counts[key] = self.counts.get(key, 0) + 1

    def merge(self, key: str, total: torch.Tensor, count: int) -> None:
        """Add ``count`` values already summed into ``total`` (a captured step's accumulator)."""
        self.sums[key] = self.sums[key] + total if key in self.sums else total
        self.counts[key] = self.counts.get(key, 0) + count

    def close(self) -> Optional[dict[str, float]]:
        """The means since the window opened (the one host read), or None when it is empty;
        the next window starts empty."""
        if not self.sums:
            return None
        keys = list(self.sums)
        means = torch.stack([self.sums[k].float() / self.counts[k] for k in keys]).tolist()
        self.sums.clear()
        self.counts.clear()
        return dict(zip(keys, means))

    def state_dict(self) -> dict:
        """The open window, under the keys a checkpoint's trainer state has always used."""
        return {"log_sums": dict(self.sums), "log_counts": dict(self.counts)}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.sums = {k: v.to(device) for k, v in state["log_sums"].items()}
        self.counts = dict(state["log_counts"])
