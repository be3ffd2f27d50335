"""An exponential moving average of the generator's weights."""

from __future__ import annotations

import copy
from typing import Optional

import torch
from pydantic import Field, NonNegativeInt, PositiveFloat

import ganzoo


class EMA(ganzoo.Callback):
    """Exponential moving average of G's weights (Yazıcı et al., 2019), sampled from by default: grids, evaluations, weights.pt, `ganzoo sample` and `ganzoo eval` use it (`--trained` for the raw G).

    After each step t > ``start_step``: avg <- decay * avg + (1 - decay) * G; until then the
    average is a copy of G. Buffers (batch norm statistics) are copied from G. The average
    is saved in every checkpoint, so a resumed run continues it exactly.

    With ``rampup`` r (StyleGAN2-ADA's ramp-up, r = 0.05 there), the average's half-life is
    at most r times the steps made before this one: decay_t = min(decay, 0.5 ** (1 / (r *
    (t - 1)))), so that the random weights of the first steps are forgotten early instead of
    dragging the average for thousands of steps (decay_1 = 0: the first step copies G)."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    stackable = True  # between steps, on its own run's G

    name = "ema"

    class Options(ganzoo.Options):
        decay: float = Field(0.999, gt=0, lt=1, description="weight of the old average at each step")
        start_step: NonNegativeInt = Field(0, description="the average copies G up to this step, then starts averaging")
        rampup: Optional[PositiveFloat] = Field(
            None, description="ramp-up r: the half-life is at most r times the steps made so far (None: no ramp-up)"
        )

    options: Options

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.average: Optional[torch.nn.Module] = None
        self._saved: Optional[dict] = None  # from a checkpoint, applied once G exists

    def _ensure(self, trainer) -> torch.nn.Module:
        if self.average is None:
            self.average = copy.deepcopy(trainer.generator).requires_grad_(False)
            if self._saved is not None:
                self.average.load_state_dict(self._saved)
        return self.average

    def on_train_start(self, trainer) -> None:
        self._ensure(trainer)

    def decay_at(self, step: int) -> float:
        """The weight of the old average after step ``step`` (counted from 1), with the ramp-up."""
        if self.options.rampup is None:
            return self.options.decay
        half_life = self.options.rampup * (step - 1)  # in steps: images seen / batch size
        return min(self.options.decay, 0.5 ** (1.0 / half_life)) if half_life > 0 else 0.0

    def on_step_end(self, trainer) -> None:
        average = self._ensure(trainer)
        with torch.no_grad():
            pairs = zip(average.parameters(), trainer.generator.parameters())
            if trainer.step <= self.options.start_step:
                for mine, theirs in pairs:
                    mine.copy_(theirs)
            else:
                weight = 1.0 - self.decay_at(trainer.step)
                for mine, theirs in pairs:
                    mine.lerp_(theirs, weight)
            for buffer, source in zip(average.buffers(), trainer.generator.buffers()):
                buffer.copy_(source)

    def state_dict(self) -> dict:
        return {"average": self.average.state_dict()} if self.average is not None else {}

    def load_state_dict(self, state: dict) -> None:
        self._saved = state["average"]
        if self.average is not None:
            self.average.load_state_dict(self._saved)

    def sampling_generator(self, trainer) -> torch.nn.Module:
        return self._ensure(trainer)
