"""One training step as a unit: ``d_steps`` discriminator updates, then one generator update.

Algorithm 1 of Goodfellow et al. (2014), one iteration of its outer loop, with the extra
passes a loss runs after some updates (``Loss.extra_passes``: lazy regularisation). A
:class:`TrainingStep` holds what one run trains (the networks, the loss, the optimisers),
the log window its scalars are summed into and the divergence watch; the loop hands it a
group of batches. Nothing in it reads a tensor's value on the host, so the same code runs
eagerly or is captured once as a CUDA graph and replayed (:class:`ganzoo.train.capture.CapturedStep`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Literal, Optional, Sequence, cast

import torch

from ganzoo.api import Architecture, Augment, ExtraPass, Loss, StepContext
from ganzoo.train.augmentation import AugmentedDiscriminator, observe
from ganzoo.train.distributed import World, update_wrappers
from ganzoo.train.divergence import DivergenceWatch
from ganzoo.train.log_window import LogWindow

Batch = tuple[torch.Tensor, Optional[torch.Tensor]]
"""``(real, condition)``: one batch on the device, in the model range."""

CompileMode = Literal[False, "default", "reduce-overhead", "max-autotune"]


class TrainingStep:
    """The networks, loss and optimisers of one run, and how to update them once.

    ``generator`` and ``discriminator`` are the plain modules (the ones saved). With
    ``compile``, the loss calls ``torch.compile`` d versions of them; in a data-parallel run
    (``world`` of several ranks), the network being updated runs under
    DistributedDataParallel, which averages its gradients over the ranks. ``precision="bf16"``
    runs the objectives under bfloat16 autocast. With an ``augment`` (other than ``none``),
    the loss calls D behind it (:mod:`ganzoo.train.augmentation`).
    """

    def __init__(
        self,
        *,
        generator: torch.nn.Module,
        discriminator: torch.nn.Module,
        architecture: Architecture,
        loss: Loss,
        g_optimizer: torch.optim.Optimizer,
        d_optimizer: torch.optim.Optimizer,
        device: torch.device,
        d_steps: int = 1,
        precision: str = "fp32",
        compile: CompileMode = False,
        world: World = World(),
        augment: Optional[Augment] = None,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.architecture = architecture
        self.loss = loss
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.device = device
        self.d_steps = d_steps
        self.precision = precision
        self.world = world
        self.window = LogWindow(world)
        """The logged scalars since the last log, summed on the device."""
        self.passes = checked_passes(loss)
        """The loss's extra passes, which run after some updates (none for most losses)."""
        self.divergence = DivergenceWatch(device, ("d_loss", "g_loss", *(p.name for p in self.passes)))
        # What the loss calls: torch.compile of a Module returns a Module (its stub says Callable).
        self._g = cast(torch.nn.Module, torch.compile(generator, mode=compile)) if compile else generator
        self._d = cast(torch.nn.Module, torch.compile(discriminator, mode=compile)) if compile else discriminator
        self._g_update, self._d_update = update_wrappers(self._g, self._d, world, device)
        self.augment = augment if augment is not None and not augment.identity else None
        """The augmentation D's input goes through; None when there is none."""
        if self.augment is not None:
            self.augment.shard = (world.rank, world.size)
            self._d = AugmentedDiscriminator(self._d, self.augment)
            self._d_update = AugmentedDiscriminator(self._d_update, self.augment)

    def __call__(self, group: Sequence[Batch], step: int) -> None:
        """One whole step at ``step`` (steps done so far): a discriminator update on each
        batch of ``group``, then the generator update on the last one."""
        self.mark(step)
        self.body(group, step)

    def mark(self, step: int) -> None:
        """Tell the divergence watch which step is in progress (a device-side fill, no
        synchronisation; outside :meth:`body`, so that a captured step reads it fresh)."""
        self.divergence.device_step.fill_(step + 1)

    def body(self, group: Sequence[Batch], step: int) -> None:
        """The updates of one step, and nothing that changes from step to step on the host
        (the extra passes that follow some updates aside): what a CUDA graph captures."""
        for index, batch in enumerate(group):
            ctx = self.context(batch, step)
            self.update_discriminator(ctx)
            self.run_passes("discriminator", step * self.d_steps + index, ctx)
        ctx = self.context(group[-1], step)
        self.update_generator(ctx)
        self.run_passes("generator", step, ctx)

    def run_passes(self, network: str, update: int, ctx: StepContext) -> None:
        """The loss's extra passes due after update ``update`` of ``network``."""
        for extra in self.passes:
            if extra.network == network and extra.due(update):
                self.extra_pass(extra, ctx)

    def extra_pass(self, extra: ExtraPass, ctx: StepContext) -> None:
        """One optimiser step of ``extra.network`` on the pass's objective, the other network
        frozen (its gradients would be thrown away)."""
        on_d = extra.network == "discriminator"
        if self.world.distributed and on_d:  # the network updated runs under DDP, as in its update
            ctx = dataclasses.replace(ctx, discriminator=self._d_update)
        elif self.world.distributed:
            ctx = dataclasses.replace(ctx, generator=self._g_update)
        optimizer = self.d_optimizer if on_d else self.g_optimizer
        frozen = self.generator if on_d else self.discriminator
        frozen.requires_grad_(False)
        try:
            optimizer.zero_grad(set_to_none=True)
            with self._autocast(ctx.real.device):
                out = self.loss.extra_loss(extra.name, ctx)
            out.loss.backward()
            optimizer.step()
        finally:
            frozen.requires_grad_(True)
        self.divergence.watch(extra.name, out.loss)
        if out.logs:
            self.window.add(out.logs, ctx.step + 1)

    def discriminator_only(self, group: Sequence[Batch], step: int) -> None:
        """Discriminator updates alone: those of an epoch's last batches, too few for a
        generator update (Algorithm 1 as the article's loop runs it)."""
        self.mark(step)
        for batch in group:
            self.update_discriminator(self.context(batch, step))

    def context(self, batch: Batch, step: int) -> StepContext:
        real, condition = batch
        shard = (self.world.rank, self.world.size)
        return StepContext(real, condition, self._g, self._d, self.architecture, step, shard)

    def update_discriminator(self, ctx: StepContext) -> None:
        if self.world.distributed:
            ctx = dataclasses.replace(ctx, discriminator=self._d_update)
        self.d_optimizer.zero_grad(set_to_none=True)
        with self._autocast(ctx.real.device):
            out = self.loss.discriminator_loss(ctx)
        out.loss.backward()
        self.d_optimizer.step()
        self.loss.after_discriminator_step(ctx)
        self.divergence.watch("d_loss", out.loss)
        augmented = (
            observe(self.augment, out, ctx.batch_size * self.world.size, self.world, ctx.step + 1)
            if self.augment is not None
            else {}
        )
        self.window.add({"d_loss": out.loss, **out.logs, **augmented}, ctx.step + 1)

    def update_generator(self, ctx: StepContext) -> None:
        # The discriminator's gradients from this backward pass would be thrown away
        # (its optimiser does not step here), so they are not computed at all.
        if self.world.distributed:
            ctx = dataclasses.replace(ctx, generator=self._g_update)
        self.discriminator.requires_grad_(False)
        try:
            self.g_optimizer.zero_grad(set_to_none=True)
            with self._autocast(ctx.real.device):
                out = self.loss.generator_loss(ctx)
            out.loss.backward()
            self.g_optimizer.step()
        finally:
            self.discriminator.requires_grad_(True)
        self.loss.after_generator_step(ctx)
        self.divergence.watch("g_loss", out.loss)
        self.window.add({"g_loss": out.loss, **out.logs}, ctx.step + 1)

    def augment_state(self) -> dict:
        """The augmentation's state (ADA's ``p``), for checkpoints; empty without one."""
        return dict(self.augment.state_dict()) if self.augment is not None else {}

    def load_augment_state(self, state: dict) -> None:
        """Restore :meth:`augment_state` (copied into the buffers: a captured step keeps them)."""
        if self.augment is not None:
            self.augment.load_state_dict(state)

    def release_world(self) -> None:
        """Drop the DistributedDataParallel wrappers once training is over. They hold the
        process group; without them, destroying the group frees it while Python still
        runs. A gloo group freed during interpreter shutdown can abort the process: the
        likely cause of one "terminate called without an active exception" at the end of
        about 30 two-process runs."""
        self._g_update, self._d_update = self._g, self._d

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def checked_passes(loss: Loss) -> tuple[ExtraPass, ...]:
    """The loss's extra passes, each an :class:`~ganzoo.api.ExtraPass` with a name of its own."""
    passes = tuple(loss.extra_passes())
    names = [extra.name for extra in passes]
    if any(not isinstance(extra, ExtraPass) for extra in passes) or len(set(names)) != len(names):
        raise TypeError(f"{type(loss).__name__}.extra_passes() must return ExtraPass objects with distinct names")
    return passes
