"""The bundled learning-rate schedules a recipe names under ``optim.<network>.schedule``.

Each wraps one of torch's schedulers, stepped once per training step (``plateau`` once per
logged row, on the scalar it watches). Their state is the scheduler's ``state_dict`` (plain
numbers), saved in checkpoints, so a resumed run continues bit for bit. Registered by the
core through ``register_schedules`` (see :mod:`ganzoo.plugins.builtin`).
"""

from __future__ import annotations

from typing import Any, Literal, Optional, cast

import torch
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from ganzoo.api import GanzooError, Options, Schedule


class Constant(Schedule):
    """The optimiser's own learning rate, unchanged for the whole run (the default)."""

    name = "constant"


class _TorchSchedule(Schedule):
    """A torch scheduler built in ``start``, stepped after every training step."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.scheduler: Any = None

    def start(self, optimizer: torch.optim.Optimizer, total_steps: int) -> None:
        self.scheduler = self.make(optimizer, total_steps)

    def make(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        raise NotImplementedError

    def step(self) -> None:
        self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


class LinearOptions(Options):
    end_factor: float = Field(0.0, ge=0, le=1, description="the last learning rate, as a fraction of the first")
    steps: Optional[PositiveInt] = Field(None, description="steps to reach it (null: the whole run); constant after")


class Linear(_TorchSchedule):
    """Linear decay from the optimiser's learning rate to ``end_factor`` times it (torch's LinearLR)."""

    name = "linear"
    Options = LinearOptions

    def make(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        o = cast(LinearOptions, self.options)
        return torch.optim.lr_scheduler.LinearLR(
            optimizer, start_factor=1.0, end_factor=o.end_factor, total_iters=o.steps or total_steps
        )


class CosineOptions(Options):
    min_lr: NonNegativeFloat = Field(0.0, description="the learning rate at the end of the half cosine")
    steps: Optional[PositiveInt] = Field(None, description="length of the half cosine in steps (null: the whole run)")


class Cosine(_TorchSchedule):
    """Cosine annealing from the optimiser's learning rate down to ``min_lr`` (torch's CosineAnnealingLR)."""

    name = "cosine"
    Options = CosineOptions

    def make(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        o = cast(CosineOptions, self.options)
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=o.steps or total_steps, eta_min=o.min_lr)


class StepOptions(Options):
    every: PositiveInt = Field(10_000, description="steps between two multiplications by gamma")
    gamma: PositiveFloat = Field(0.1, description="the factor the learning rate is multiplied by")


class Step(_TorchSchedule):
    """The learning rate times ``gamma`` every ``every`` steps (torch's StepLR)."""

    name = "step"
    Options = StepOptions

    def make(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        o = cast(StepOptions, self.options)
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=o.every, gamma=o.gamma)


class PlateauOptions(Options):
    metric: str = Field(description="the logged scalar to watch, such as began's convergence")
    mode: Literal["min", "max"] = Field("min", description="whether the metric should fall or rise")
    factor: float = Field(0.5, gt=0, lt=1, description="the learning rate is multiplied by this when the metric stalls")
    patience: NonNegativeInt = Field(10, description="logged rows without improvement before the learning rate drops")
    threshold: NonNegativeFloat = Field(1e-4, description="relative change that counts as an improvement")
    cooldown: NonNegativeInt = Field(0, description="logged rows to wait after a drop before watching again")
    min_lr: NonNegativeFloat = Field(0.0, description="the learning rate never drops below this")


class Plateau(_TorchSchedule):
    """Reduce-on-plateau: the learning rate times ``factor`` when the logged ``metric`` has
    not improved for ``patience`` logged rows (torch's ReduceLROnPlateau). BEGAN's halving of
    the learning rate when its convergence measure stalls is
    ``{name: plateau, metric: convergence, factor: 0.5}``."""

    name = "plateau"
    Options = PlateauOptions

    def make(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        o = cast(PlateauOptions, self.options)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode=o.mode,
            factor=o.factor,
            patience=o.patience,
            threshold=o.threshold,
            cooldown=o.cooldown,
            min_lr=o.min_lr,
        )

    def step(self) -> None:
        """Nothing per step: the metric is read in ``on_log``."""

    def on_log(self, scalars: dict[str, float]) -> None:
        metric = cast(PlateauOptions, self.options).metric
        if metric not in scalars:
            logged = ", ".join(k for k in scalars if k not in ("step", "epoch"))
            raise GanzooError(f"schedule plateau watches {metric!r}, which this run does not log (it logs {logged})")
        self.scheduler.step(scalars[metric])


BUNDLED: list[type[Schedule]] = [Constant, Linear, Cosine, Step, Plateau]
