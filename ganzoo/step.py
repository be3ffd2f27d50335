"""One training step as a unit: ``d_steps`` discriminator updates, then one generator update.

Algorithm 1 of Goodfellow et al. (2014), one iteration of its outer loop. The trainer's loop
hands a step its group of batches; the step runs the loss's objectives and hooks, steps the
optimisers, watches for divergence and hands the logged scalars to ``accumulate`` (device
tensors only: no host synchronisation). Nothing in it reads a tensor's value on the host,
so the same code runs eagerly or is captured once as a CUDA graph and replayed
(:mod:`ganzoo.cuda_graph`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, Optional, Sequence

import torch

from ganzoo.components import Architecture, Loss, StepContext
from ganzoo.distributed import World
from ganzoo.divergence import DivergenceWatch

Batch = tuple[torch.Tensor, Optional[torch.Tensor]]
"""``(real, condition)``: one batch on the device, in the model range."""

Accumulate = Callable[[dict[str, torch.Tensor], int], None]
"""Receives one update's logged scalars and the step in progress (counted from 1)."""


@dataclasses.dataclass
class TrainingStep:
    """The networks, loss and optimisers of one run, and how to update them once.

    ``generator`` and ``discriminator`` are what the loss calls (compiled, when asked);
    ``g_update`` and ``d_update`` the same networks as the update of each runs them
    (DistributedDataParallel wrappers in a data-parallel run, else the same modules);
    ``frozen`` the plain discriminator, whose gradients the generator update switches off.
    """

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    g_update: torch.nn.Module
    d_update: torch.nn.Module
    frozen: torch.nn.Module
    architecture: Architecture
    loss: Loss
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    divergence: DivergenceWatch
    accumulate: Accumulate
    precision: str = "fp32"
    world: World = dataclasses.field(default_factory=World)

    def __call__(self, group: Sequence[Batch], step: int) -> None:
        """One whole step at ``step`` (steps done so far): a discriminator update on each
        batch of ``group``, then the generator update on the last one."""
        self.mark(step)
        self.updates(group, step)

    def mark(self, step: int) -> None:
        """Tell the divergence watch which step is in progress (a device-side fill, no
        synchronisation; outside the updates, so that a captured step reads it fresh)."""
        self.divergence.device_step.fill_(step + 1)

    def updates(self, group: Sequence[Batch], step: int) -> None:
        """The updates of one step, and nothing that changes from step to step on the host:
        what a CUDA graph captures."""
        for batch in group:
            self.discriminator_update(self.context(batch, step))
        self.generator_update(self.context(group[-1], step))

    def discriminator_updates(self, group: Sequence[Batch], step: int) -> None:
        """Discriminator updates alone: those of an epoch's last batches, too few for a
        generator update (Algorithm 1 as the article's loop runs it)."""
        self.mark(step)
        for batch in group:
            self.discriminator_update(self.context(batch, step))

    def context(self, batch: Batch, step: int) -> StepContext:
        real, condition = batch
        shard = (self.world.rank, self.world.size)
        return StepContext(real, condition, self.generator, self.discriminator, self.architecture, step, shard)

    def discriminator_update(self, ctx: StepContext) -> None:
        if self.world.distributed:
            ctx = dataclasses.replace(ctx, discriminator=self.d_update)
        self.d_optimizer.zero_grad(set_to_none=True)
        with self._autocast(ctx.real.device):
            out = self.loss.discriminator_loss(ctx)
        out.loss.backward()
        self.d_optimizer.step()
        self.loss.after_discriminator_step(ctx)
        self.divergence.watch("d_loss", out.loss)
        self.accumulate({"d_loss": out.loss, **out.logs}, ctx.step + 1)

    def generator_update(self, ctx: StepContext) -> None:
        # The discriminator's gradients from this backward pass would be thrown away
        # (its optimiser does not step here), so they are not computed at all.
        if self.world.distributed:
            ctx = dataclasses.replace(ctx, generator=self.g_update)
        self.frozen.requires_grad_(False)
        try:
            self.g_optimizer.zero_grad(set_to_none=True)
            with self._autocast(ctx.real.device):
                out = self.loss.generator_loss(ctx)
            out.loss.backward()
            self.g_optimizer.step()
        finally:
            self.frozen.requires_grad_(True)
        self.loss.after_generator_step(ctx)
        self.divergence.watch("g_loss", out.loss)
        self.accumulate({"g_loss": out.loss, **out.logs}, ctx.step + 1)

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()
