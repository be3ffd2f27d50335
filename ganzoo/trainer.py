"""The training loop, and nothing but the loop.

Algorithm 1 of Goodfellow et al. (2014): ``d_steps`` discriminator updates, each on a fresh
batch, then one generator update. The trainer knows no YAML, no plugin and no component
type: it calls the loss for the two objectives and tells the callbacks what happened.

Logged scalars are summed on the device and read back once every ``log_every`` steps: no
host synchronisation per step.

Two opt-in accelerations leave the default path untouched: ``compile`` wraps both networks
in ``torch.compile`` (``reduce-overhead`` uses CUDA graphs on a GPU), and ``precision="bf16"``
runs the forward passes under bfloat16 autocast.
"""

from __future__ import annotations

import contextlib
from typing import Iterable, Literal, Optional

import torch

from ganzoo.components import Architecture, Callback, Loss, StepContext
from ganzoo.data import BatchStream


class Trainer:
    """Trains ``generator`` and ``discriminator`` with ``loss`` on ``batches``.

    A *step* is one generator update (after ``d_steps`` discriminator updates); an *epoch*
    is one pass over the data. With ``d_steps=1`` and MNIST at batch 32, an epoch is 1,875
    steps, as in the source article.
    """

    def __init__(
        self,
        *,
        generator: torch.nn.Module,
        discriminator: torch.nn.Module,
        architecture: Architecture,
        loss: Loss,
        batches: BatchStream,
        g_optimizer: torch.optim.Optimizer,
        d_optimizer: torch.optim.Optimizer,
        epochs: int = 1,
        max_steps: Optional[int] = None,
        d_steps: int = 1,
        log_every: int = 200,
        callbacks: Iterable[Callback] = (),
        compile: Literal[False, "default", "reduce-overhead", "max-autotune"] = False,
        precision: Literal["fp32", "bf16"] = "fp32",
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.architecture = architecture
        self.loss = loss
        self.batches = batches
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.epochs = epochs
        self.max_steps = max_steps
        self.d_steps = d_steps
        self.log_every = log_every
        self.callbacks = list(callbacks)
        self.precision = precision
        # The loss calls these; the plain modules above stay the ones that are saved.
        self._g = torch.compile(generator, mode=compile) if compile else generator
        self._d = torch.compile(discriminator, mode=compile) if compile else discriminator
        self.step = 0
        self.epoch = 0
        self.status = "created"
        """created, running, finished, interrupted or failed: callbacks read it at the end."""
        self.should_stop = False
        """A callback sets this to end training cleanly after the current step."""
        self.last_scalars: dict[str, float] = {}
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}

    @property
    def device(self) -> torch.device:
        return self.batches.device

    @property
    def steps_per_epoch(self) -> int:
        return len(self.batches) // self.d_steps

    @property
    def total_steps(self) -> int:
        total = self.steps_per_epoch * self.epochs
        return min(total, self.max_steps) if self.max_steps else total

    # ------------------------------------------------------------------ loop

    def fit(self) -> "Trainer":
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"an epoch of {len(self.batches)} batches holds no step of {self.d_steps} discriminator updates"
            )
        self.status = "running"
        self.generator.train()
        self.discriminator.train()
        self._emit("on_train_start")
        try:
            for self.epoch in range(self.epoch, self.epochs):
                if self._run_epoch():
                    break
                self._emit("on_epoch_end")
            self.status = "finished"
        except KeyboardInterrupt:
            self.status = "interrupted"
            raise
        except BaseException:
            self.status = "failed"
            raise
        finally:
            if self.status != "failed":
                self._flush_logs()  # the last, partial window is logged too
            self._emit("on_train_end")
        return self

    def _run_epoch(self) -> bool:
        """One pass over the data; True when ``max_steps`` is reached."""
        updates = 0
        for real, labels in self.batches.epoch():
            ctx = StepContext(real, labels, self._g, self._d, self.architecture, self.step)
            self._discriminator_step(ctx)
            updates += 1
            if updates % self.d_steps:
                continue
            self._generator_step(ctx)
            self.step += 1
            self._emit("on_step_end")
            if self.step % self.log_every == 0:
                self._flush_logs()
            if self.should_stop or (self.max_steps and self.step >= self.max_steps):
                return True
        return False

    def _discriminator_step(self, ctx: StepContext) -> None:
        self.d_optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            out = self.loss.discriminator_loss(ctx)
        out.loss.backward()
        self.d_optimizer.step()
        self.loss.after_discriminator_step(ctx)
        self._accumulate({"d_loss": out.loss, **out.logs})

    def _generator_step(self, ctx: StepContext) -> None:
        # The discriminator's gradients from this backward pass would be thrown away
        # (its optimiser does not step here), so they are not computed at all.
        self.discriminator.requires_grad_(False)
        try:
            self.g_optimizer.zero_grad(set_to_none=True)
            with self._autocast():
                out = self.loss.generator_loss(ctx)
            out.loss.backward()
            self.g_optimizer.step()
        finally:
            self.discriminator.requires_grad_(True)
        self.loss.after_generator_step(ctx)
        self._accumulate({"g_loss": out.loss, **out.logs})

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ------------------------------------------------------------------ logging

    def _accumulate(self, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            value = value.detach()
            self._sums[key] = self._sums[key] + value if key in self._sums else value.clone()
            self._counts[key] = self._counts.get(key, 0) + 1

    def _flush_logs(self) -> None:
        """Average the scalars since the last flush; the one host read per ``log_every``."""
        if not self._sums:
            return
        keys = list(self._sums)
        means = torch.stack([self._sums[k].float() / self._counts[k] for k in keys]).tolist()
        self._sums.clear()
        self._counts.clear()
        scalars = {"step": self.step, "epoch": self.epoch + 1, **dict(zip(keys, means))}
        self.last_scalars = scalars
        self._emit("on_log", scalars)

    def _emit(self, event: str, *args: object) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)
