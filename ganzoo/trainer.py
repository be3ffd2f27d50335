"""The training loop, and nothing but the loop.

Algorithm 1 of Goodfellow et al. (2014): ``d_steps`` discriminator updates, each on a fresh
batch, then one generator update. The trainer knows no YAML, no plugin and no component
type: it calls the loss for the two objectives and tells the callbacks what happened.

Logged scalars are summed on the device and read back once every ``log_every`` steps: no
host synchronisation per step.

In a data-parallel run (``world`` of several ranks, see :mod:`ganzoo.distributed`), each
rank trains on its share of every batch, the network being updated runs under
DistributedDataParallel, and the ranks agree every step on whether to stop.

Two opt-in accelerations leave the default path untouched: ``compile`` wraps both networks
in ``torch.compile`` (``reduce-overhead`` uses CUDA graphs on a GPU), and ``precision="bf16"``
runs the forward passes under bfloat16 autocast.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterable, Literal, Optional

import torch

from ganzoo.components import Architecture, Callback, Loss, StepContext
from ganzoo.data import BatchStream
from ganzoo.distributed import World
from ganzoo.errors import GanzooError
from ganzoo.rng import get_rng_state, set_rng_state


class DivergenceError(GanzooError):
    """A loss became NaN or infinite: training stops before any bad state is saved."""


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
        world: World = World(),
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
        self.world = world
        # The loss calls these; the plain modules above stay the ones that are saved.
        self._g = torch.compile(generator, mode=compile) if compile else generator
        self._d = torch.compile(discriminator, mode=compile) if compile else discriminator
        # In a data-parallel run, the network being updated runs under DDP (which averages its
        # gradients over the ranks); the other one runs plain: its gradients are not needed,
        # and DDP would wait for them forever.
        self._g_update, self._d_update = self._g, self._d
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._g_update = DistributedDataParallel(self._g, device_ids=ids)
            self._d_update = DistributedDataParallel(self._d, device_ids=ids)
        self.step = 0
        self.epoch = 0
        """Epochs completed; the one in progress is ``epoch + 1`` (see ``display_epoch``)."""
        self.status = "created"
        """created, running, finished, interrupted (cleanly, at a step boundary), aborted (a
        KeyboardInterrupt mid-step) or failed: callbacks read it at the end."""
        self.should_stop = False
        """A callback sets this to end training cleanly after the current step."""
        self.interrupt_requested = False
        """Set by a signal handler: stop after the current step, as ``interrupted``."""
        self._agreed: tuple[bool, ...] = (False, False)  # (stop, interrupt) as the ranks last agreed
        self.last_scalars: dict[str, float] = {}
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}
        self._order: Optional[torch.Tensor] = None  # the current epoch's sample order...
        self._position = 0  # ...and how many of its batches are consumed
        # First step at which each loss was not finite (-1: never), kept on the device so
        # that watching for divergence costs no synchronisation.
        self._first_bad = {name: torch.tensor(-1, device=self.device) for name in ("d_loss", "g_loss")}
        self._device_step = torch.tensor(0, device=self.device)  # the step in progress, on the device

    def release_world(self) -> None:
        """Drop the DistributedDataParallel wrappers once training is over. They hold the
        process group; without them, destroying the group frees it while Python still
        runs. A gloo group freed during interpreter shutdown can abort the process: the
        likely cause of one "terminate called without an active exception" at the end of
        about 30 two-process runs."""
        self._g_update, self._d_update = self._g, self._d

    @property
    def device(self) -> torch.device:
        return self.batches.device

    @property
    def display_epoch(self) -> int:
        """The epoch in progress, counted from 1 (the last one once training is over)."""
        return min(self.epoch + 1, self.epochs)

    @property
    def logged_through(self) -> int:
        """The last step whose logged row cannot change: a resumed run logs again, and
        identically, everything after it (a window still open is logged when it closes)."""
        return self.step - 1 if self._sums else self.step

    @property
    def data_info(self) -> dict:
        """The data's shape and condition as plain values: saved with the weights, so that
        ``ganzoo sample`` can rebuild the generator without loading the dataset."""
        return self.batches.data.info.as_dict()

    @property
    def sampling(self) -> tuple[str, torch.nn.Module]:
        """``(source, generator)``: the generator that samples are drawn from, and where it
        comes from: the first callback that offers one (``ema``), else ``trained``."""
        for callback in self.callbacks:  # getattr: a duck-typed callback need not have every method
            module = getattr(callback, "sampling_generator", lambda trainer: None)(self)
            if module is not None:
                return callback.name, module
        return "trained", self.generator

    @property
    def sampling_generator(self) -> torch.nn.Module:
        return self.sampling[1]

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
            while self.epoch < self.epochs and not (self.max_steps and self.step >= self.max_steps):
                if self._run_epoch():
                    break
                self.epoch += 1
                self._emit("on_epoch_end")
            self.check_finite()
            self.status = "interrupted" if self._interrupted else "finished"
            if self.status == "finished":
                self._flush_logs()  # the last, partial window (an interrupted one is resumed)
        except KeyboardInterrupt:
            self.status = "aborted"  # mid-step: the state is not consistent and is not saved
            raise
        except DivergenceError:
            self.status = "failed"
            raise
        except Exception as error:
            self.status = "failed"
            self._explain_by_divergence(error)
            raise
        finally:
            self._emit("on_train_end")
        return self

    def _run_epoch(self) -> bool:
        """The rest of the current epoch; True when training must stop before its end."""
        if self._order is None:
            self._order = self.batches.new_order()
        shard = (self.world.rank, self.world.size)
        for real, condition in self.batches.batches(self._order, start=self._position):
            ctx = StepContext(real, condition, self._g, self._d, self.architecture, self.step, shard)
            if self._position % self.d_steps == 0:
                self._device_step.fill_(self.step + 1)  # no synchronisation: a device-side fill
            self._discriminator_step(ctx)
            self._position += 1
            if self._position % self.d_steps:
                continue
            self._generator_step(ctx)
            self.step += 1
            if self.step % self.log_every == 0:
                self._flush_logs()
            self._emit("on_step_end")  # after the log, so a checkpoint here holds a closed window
            if self._stop_now() or (self.max_steps and self.step >= self.max_steps):
                return True
        self._order, self._position = None, 0
        return False

    def _stop_now(self) -> bool:
        """Whether to stop after this step; in a data-parallel run every rank stops at the
        same step when any one of them is asked to (a signal reaches them at different times).

        The agreed answer is kept apart from the flags: a signal handled while the ranks
        agree sets its flag after the values were sent, and writing the answer back into the
        flags would erase it. Left alone, the flag is sent at the next step's agreement."""
        if self.world.distributed:  # one process decides alone, at no cost
            self._agreed = tuple(self.world.any_of(
                [self.should_stop, self.interrupt_requested], f"agreeing whether to stop at step {self.step}"))
            return any(self._agreed)
        return self.should_stop or self.interrupt_requested

    @property
    def _interrupted(self) -> bool:
        """Whether training stopped for a signal: as the ranks agreed, in a data-parallel run."""
        return self._agreed[1] if self.world.distributed else self.interrupt_requested

    def _discriminator_step(self, ctx: StepContext) -> None:
        if self.world.distributed:
            ctx = dataclasses.replace(ctx, discriminator=self._d_update)
        self.d_optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            out = self.loss.discriminator_loss(ctx)
        out.loss.backward()
        self.d_optimizer.step()
        self.loss.after_discriminator_step(ctx)
        self._watch("d_loss", out.loss)
        self._accumulate({"d_loss": out.loss, **out.logs})

    def _generator_step(self, ctx: StepContext) -> None:
        # The discriminator's gradients from this backward pass would be thrown away
        # (its optimiser does not step here), so they are not computed at all.
        if self.world.distributed:
            ctx = dataclasses.replace(ctx, generator=self._g_update)
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
        self._watch("g_loss", out.loss)
        self._accumulate({"g_loss": out.loss, **out.logs})

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ------------------------------------------------------------------ divergence

    def _watch(self, name: str, loss: torch.Tensor) -> None:
        """Remember the first step at which ``loss`` was not finite (on the device)."""
        first = self._first_bad[name]
        bad = (first < 0) & ~torch.isfinite(loss.detach())
        self._first_bad[name] = torch.where(bad, self._device_step, first)

    def _explain_by_divergence(self, error: Exception) -> None:
        """A NaN usually surfaces as some later error (BCE refuses NaN probabilities, say);
        report the divergence, with its step, instead."""
        try:
            self.check_finite()
        except DivergenceError as divergence:
            raise divergence from error

    def check_finite(self) -> None:
        """Raise :class:`DivergenceError` if a loss or a parameter is NaN or infinite.

        Called with every log and before every checkpoint (one synchronisation), so that a
        bad state is reported with its step and is never saved."""
        firsts = torch.stack(list(self._first_bad.values())).tolist()
        for name, step in zip(self._first_bad, firsts):
            if step >= 0:
                raise DivergenceError(
                    f"{name} became NaN or infinite at step {step} (epoch {self.display_epoch}); training stopped "
                    f"and no state after the last checkpoint was saved. Lower the learning rate or check the data.")
        for label, module in (("generator", self.generator), ("discriminator", self.discriminator)):
            finite = torch.stack([p.detach().isfinite().all() for p in module.parameters()]).all()
            if not bool(finite):
                raise DivergenceError(f"a parameter of the {label} became NaN or infinite by step {self.step}; "
                                      f"training stopped and no state after the last checkpoint was saved.")

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict:
        """Everything needed to continue exactly where training stands: networks, loss
        state, optimisers, counters, the epoch's sample order and position, the logging
        window in progress, and every random stream. Only tensors and plain Python values,
        so that it loads with ``torch.load(weights_only=True)``."""
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "loss": self.loss.state_dict(),
            "g_optimizer": self.g_optimizer.state_dict(),
            "d_optimizer": self.d_optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "epoch_order": self._order,
            "epoch_position": self._position,
            "log_sums": dict(self._sums),
            "log_counts": dict(self._counts),
            "rng": get_rng_state(),
            "callbacks": self._callback_states(),
            **self._sampling_state(),
        }

    def _callback_states(self) -> dict[str, dict]:
        states: dict[str, dict] = {}
        for callback in self.callbacks:
            state = getattr(callback, "state_dict", dict)()
            if not state:
                continue
            if callback.name in states:
                raise GanzooError(f"two callbacks named {callback.name!r} keep state: a checkpoint cannot tell them "
                                  f"apart; list it once under callbacks")
            states[callback.name] = state
        return states

    def _sampling_state(self) -> dict:
        """The weights to sample from, when a callback keeps other weights than the
        trained ones: readers of a checkpoint (``ganzoo sample``) need no callback."""
        source, module = self.sampling
        if module is self.generator:
            return {}
        return {"sampling_generator": module.state_dict(), "sampling_source": source}

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.loss.load_state_dict(state["loss"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.step, self.epoch = state["step"], state["epoch"]
        self._order, self._position = state["epoch_order"], state["epoch_position"]
        self._sums = {k: v.to(self.device) for k, v in state["log_sums"].items()}
        self._counts = dict(state["log_counts"])
        set_rng_state(state["rng"])
        saved = state.get("callbacks", {})  # absent from checkpoints of older versions
        missing = sorted(set(saved) - {getattr(callback, "name", None) for callback in self.callbacks})
        if missing:
            raise GanzooError(f"the checkpoint holds the state of callback(s) {', '.join(missing)}, which the recipe no "
                              f"longer lists: resuming without them would not continue the same training")
        for callback in self.callbacks:
            if getattr(callback, "name", None) in saved:
                callback.load_state_dict(saved[callback.name])

    # ------------------------------------------------------------------ logging

    def _accumulate(self, values: dict[str, torch.Tensor]) -> None:
        if self.world.distributed:
            # Averaged over the ranks at once (no host synchronisation: a small collective in
            # the stream), so that the open window a checkpoint saves holds the global numbers.
            keys = list(values)
            means = self.world.mean(torch.stack([values[k].detach().float() for k in keys]),
                                    f"averaging the logged scalars at step {self.step + 1}")
            values = dict(zip(keys, means.unbind()))
        for key, value in values.items():
            value = value.detach()
            self._sums[key] = self._sums[key] + value if key in self._sums else value.clone()
            self._counts[key] = self._counts.get(key, 0) + 1

    def _flush_logs(self) -> None:
        """Average the scalars since the last flush; the one host read per ``log_every``."""
        self.check_finite()
        if not self._sums:
            return
        keys = list(self._sums)
        means = torch.stack([self._sums[k].float() / self._counts[k] for k in keys]).tolist()
        self._sums.clear()
        self._counts.clear()
        scalars = {"step": self.step, "epoch": self.display_epoch, **dict(zip(keys, means))}
        self.last_scalars = scalars
        self._emit("on_log", scalars)

    def log(self, scalars: dict[str, float]) -> None:
        """Report scalars computed outside the loop (evaluation metrics) at the current
        step: every callback's ``on_log`` receives them as it receives the loop's own."""
        self._emit("on_log", {"step": self.step, "epoch": self.display_epoch, **scalars})

    def _emit(self, event: str, *args: object) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)
