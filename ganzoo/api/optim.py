"""Optimisers and learning-rate schedules: what a recipe names under ``optim.generator``
and ``optim.discriminator`` (and their ``schedule``).

The core registers torch's own optimisers and schedulers through the same hooks
(:mod:`ganzoo.plugins.builtin`), so a plugin's optimiser or schedule is their equal.
"""

from __future__ import annotations

from typing import Any, Iterable, Union

import torch

from ganzoo.api.component import Component

Parameters = Union[Iterable[torch.nn.Parameter], list[dict[str, Any]]]
"""What ``Optimizer.build`` receives: a network's parameters, or torch parameter groups
(``[{"params": [...]}, ...]``) when its architecture declares groups
(``Architecture.parameter_groups``). Every torch optimiser takes either as it is."""


class Optimizer(Component):
    """An optimiser a recipe names under ``optim.generator`` or ``optim.discriminator``
    (registered through ``register_optimizers``)."""

    def build(self, params: Parameters) -> torch.optim.Optimizer:
        """A torch optimiser over ``params`` with these options: hand ``params`` to the torch
        optimiser as they are (they may be parameter groups; see :data:`Parameters`)."""
        raise NotImplementedError


class Schedule(Component):
    """A learning-rate schedule for one network's optimiser, named under
    ``optim.<network>.schedule`` (registered through ``register_schedules``).

    The trainer calls ``start`` once, before training (and before a resumed run's state is
    loaded), ``step`` after every training step (one generator update and its ``d_steps``
    discriminator updates) and ``on_log`` with every row of logged scalars, so that a
    schedule can follow a measure of training (reduce-on-plateau); ``log_values`` adds
    values of its own to each row. Whatever it needs to continue exactly on resume, it
    returns from ``state_dict``: it is saved in checkpoints.
    """

    def start(self, optimizer: torch.optim.Optimizer, total_steps: int) -> None:
        """Attach to ``optimizer``; ``total_steps`` is the run's length in steps."""

    def step(self) -> None:
        """After every training step."""

    def on_log(self, scalars: dict[str, float]) -> None:
        """With every row of logged scalars (means over the last ``log_every`` steps)."""

    def log_values(self) -> dict[str, float]:
        """Values of the schedule's own to log with every row of the loop (a warm-up's
        phase, a plateau's best): read when the row is logged, never per step, and logged
        as ``schedule/<network>/<key>``. The learning rate itself is always logged, as
        ``lr/<network>``; return nothing for it."""
        return {}

    def state_dict(self) -> dict:
        """Tensors and plain values to save in checkpoints; empty when there is nothing."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned (on resume, after ``start``)."""
