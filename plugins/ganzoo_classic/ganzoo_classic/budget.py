"""Equal budgets for comparisons: a callback that ends training after a wall-clock time."""

from __future__ import annotations

import time

from pydantic import Field, PositiveFloat

import ganzoo


class TimeBudget(ganzoo.Callback):
    """Ends training cleanly (as `finished`, with its weights) once `seconds` of training have passed.

    The clock starts at the first step; a resumed run gets a fresh budget. Used to compare
    variants after the same compute, as in docs/zoo.md."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    stackable = True  # between steps: it only stops its own run

    name = "time_budget"

    class Options(ganzoo.Options):
        seconds: PositiveFloat = Field(description="wall-clock seconds of training")

    options: Options

    def on_train_start(self, trainer) -> None:
        self.started = time.monotonic()

    def on_step_end(self, trainer) -> None:
        if time.monotonic() - self.started >= self.options.seconds:
            trainer.should_stop = True
