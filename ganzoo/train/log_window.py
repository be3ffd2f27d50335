"""The log window: scalars summed on the device between two logs, read once per window.

A loss's logged values stay tensors; the window adds them up on the device and the trainer
reads the means back once every ``log_every`` steps, so that logging never forces a host
synchronisation per step. An open window is part of a checkpoint: a resumed run closes it
with the same numbers.

Each scalar has one accumulator tensor for the whole run, added to in place and zeroed when
the window closes. A step captured as a CUDA graph (:mod:`ganzoo.train.capture`) adds into the
same tensors, so every path (eager, captured, or a checkpoint taken mid-window and resumed)
sums the same values in the same order, from zero: the logged means agree bitwise.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

from ganzoo.train.distributed import World


class LogWindow:
    """Sums (device accumulators) and counts (host) of the scalars logged since the window opened."""

    def __init__(self, world: World = World()) -> None:
        self.world = world
        self.sums: dict[str, torch.Tensor] = {}
        """One accumulator per scalar ever logged, kept (zeroed) across windows."""
        self.counts: dict[str, int] = {}
        """How many values each accumulator holds in the open window."""

    @property
    def is_open(self) -> bool:
        """Whether anything was added since the last :meth:`close`."""
        return bool(self.counts)

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
            if key not in self.sums:
                self.sums[key] = torch.zeros_like(value)
            self.sums[key].add_(value)
            self.counts[key] = self.counts.get(key, 0) + 1

    def counts_per_pass(self, record: Callable[[], None]) -> dict[str, int]:
        """Run ``record``, a pass whose additions are recorded rather than done (a CUDA graph's
        capture), and return how many values of each scalar one replay of it adds; the
        counts it made are taken back (:meth:`count` adds them per replay). Every scalar
        must have its accumulator already: one created during the capture would be zeroed
        again at every replay."""
        counts, known = dict(self.counts), set(self.sums)
        record()
        new = set(self.sums) - known
        if new:
            raise RuntimeError(
                f"the scalars {sorted(new)} were not logged by the warm-up steps; they cannot join a captured step"
            )
        added = {key: n - counts.get(key, 0) for key, n in self.counts.items() if n > counts.get(key, 0)}
        self.counts = counts
        return added

    def count(self, added: dict[str, int]) -> None:
        """Record values that were added to the accumulators without :meth:`add` (a CUDA
        graph's replay adds on the device; the host keeps the counts)."""
        for key, n in added.items():
            self.counts[key] = self.counts.get(key, 0) + n

    def close(self) -> Optional[dict[str, float]]:
        """The means since the window opened (the one host read), or None when it is empty;
        the next window starts empty."""
        if not self.counts:
            return None
        keys = list(self.counts)
        means = torch.stack([self.sums[k].float() / self.counts[k] for k in keys]).tolist()
        for total in self.sums.values():
            total.zero_()
        self.counts.clear()
        return dict(zip(keys, means))

    def state_dict(self) -> dict:
        """The open window (copies: the accumulators go on changing), under the keys a
        checkpoint's trainer state has always used."""
        return {"log_sums": {k: self.sums[k].clone() for k in self.counts}, "log_counts": dict(self.counts)}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        """Restore an open window (a resumed run, before its first step)."""
        self.sums = {k: v.to(device, copy=True) for k, v in state["log_sums"].items()}
        self.counts = dict(state["log_counts"])
