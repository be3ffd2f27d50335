"""Instance noise: Gaussian noise on everything the discriminator sees."""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import Field, PositiveFloat, PositiveInt

import ganzoo


class InstanceNoise(ganzoo.Callback):
    """Instance noise (Sønderby et al., 2017; Arjovsky & Bottou, 2017): N(0, std²) added to every input of D, real and fake, in both updates; std falls linearly to 0.

    At step t the noise's standard deviation is ``std * max(0, 1 - t / anneal_steps)``
    (``anneal_steps`` defaults to the run's total steps), in the data's model range ([-1, 1]
    for images). The noise is drawn from the training random stream, so runs stay
    reproducible and resumable."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "instance_noise"

    class Options(ganzoo.Options):
        std: PositiveFloat = Field(0.1, description="standard deviation of the noise at step 0")
        anneal_steps: Optional[PositiveInt] = Field(
            None, description="steps until the noise reaches 0 (default: the whole run)"
        )

    options: Options

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.level = torch.zeros(())  # on the device from on_train_start: read without a synchronisation
        self._hook = None

    def std_at(self, step: int, total_steps: int) -> float:
        steps = self.options.anneal_steps or max(total_steps, 1)
        return self.options.std * max(0.0, 1.0 - step / steps)

    def on_train_start(self, trainer) -> None:
        self.level = torch.tensor(self.std_at(trainer.step, trainer.total_steps), device=trainer.device)
        self._hook = trainer.discriminator.register_forward_pre_hook(self._add_noise)

    def _add_noise(self, module: torch.nn.Module, args: tuple) -> Optional[tuple]:
        if not args:
            return None
        x, *rest = args
        return (x + self.level.to(x.dtype) * torch.randn_like(x), *rest)

    def on_step_end(self, trainer) -> None:
        self.level.fill_(self.std_at(trainer.step, trainer.total_steps))

    def on_train_end(self, trainer) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
