"""The training loop, and nothing but the loop.

Algorithm 1 of Goodfellow et al. (2014): ``d_steps`` discriminator updates, each on a fresh
batch, then one generator update; one such step is a unit of its own (:mod:`ganzoo.step`),
run eagerly or, with ``cuda_graph``, captured once as a CUDA graph (:mod:`ganzoo.cuda_graph`). The trainer knows no YAML, no plugin and no component
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

from pathlib import Path
from typing import Iterable, Literal, Optional, cast

import torch

from ganzoo.callback import Callback
from ganzoo.callback_state import callback_states, emit, load_callback_states
from ganzoo.callback_state import sampling as sampling_choice
from ganzoo.components import Architecture, Loss, Schedule
from ganzoo.cuda_graph import CapturedStep
from ganzoo.data import BatchStream
from ganzoo.distributed import World, update_wrappers
from ganzoo.divergence import DivergenceError, DivergenceWatch
from ganzoo.log_window import LogWindow
from ganzoo.rng import get_rng_state, set_rng_state
from ganzoo.step import Batch, TrainingStep
from ganzoo.weights import sampling_state

__all__ = ["DivergenceError", "Trainer"]  # DivergenceError: importable from here as before


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
        g_schedule: Optional[Schedule] = None,
        d_schedule: Optional[Schedule] = None,
        cuda_graph: bool = False,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.architecture = architecture
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
        # torch.compile of a Module returns a Module (OptimizedModule); its stub says Callable.
        self._g = cast(torch.nn.Module, torch.compile(generator, mode=compile)) if compile else generator
        self._d = cast(torch.nn.Module, torch.compile(discriminator, mode=compile)) if compile else discriminator
        self._g_update, self._d_update = update_wrappers(self._g, self._d, world, self.device)  # DDP when distributed
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
        self.folder: Optional[Path] = None
        """The run folder, on the process that writes it; None elsewhere (set by ``ganzoo.run``)."""
        self.recipe: dict = {}
        """The fully resolved recipe, as plain values (set by ``ganzoo.run``)."""
        self.step_path_line: Optional[str] = None
        """Under ``train.cuda_graph: auto``, which step path was taken and why (set by
        ``ganzoo.run``, which says it once training has started)."""
        self._logging = False  # inside an on_log: rows logged now wait until it is over
        self._pending: list[dict[str, float]] = []
        self._window = LogWindow(world)
        self._order: Optional[torch.Tensor] = None  # the current epoch's sample order...
        self._position = 0  # ...and how many of its batches are consumed
        self._divergence = DivergenceWatch(self.device)
        self._device_step = self._divergence.device_step  # the step in progress, on the device
        # Learning-rate schedules (None: constant), attached now so that a resumed state loads over them.
        self.schedules = {"generator": g_schedule or Schedule(), "discriminator": d_schedule or Schedule()}
        self.schedules["generator"].start(g_optimizer, self.total_steps)
        self.schedules["discriminator"].start(d_optimizer, self.total_steps)
        self._eager = TrainingStep(
            generator=self._g,
            discriminator=self._d,
            g_update=self._g_update,
            d_update=self._d_update,
            frozen=discriminator,
            architecture=architecture,
            loss=loss,
            g_optimizer=g_optimizer,
            d_optimizer=d_optimizer,
            divergence=self._divergence,
            accumulate=self._window.add,
            precision=precision,
            world=world,
        )
        self._step: TrainingStep | CapturedStep = self._eager
        """One training step (:mod:`ganzoo.step`); with ``cuda_graph``, captured once and replayed."""
        if cuda_graph:
            self._step = CapturedStep(self._eager, self._window, batches.batch_size)

    def release_world(self) -> None:
        """Drop the DistributedDataParallel wrappers once training is over. They hold the
        process group; without them, destroying the group frees it while Python still
        runs. A gloo group freed during interpreter shutdown can abort the process: the
        likely cause of one "terminate called without an active exception" at the end of
        about 30 two-process runs."""
        self._g_update, self._d_update = self._g, self._d
        self._eager.g_update, self._eager.d_update = self._g, self._d

    @property
    def device(self) -> torch.device:
        return self.batches.device

    @property
    def rank(self) -> int:
        """This process's rank in a data-parallel run (0 without one)."""
        return self.world.rank

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run folder (rank 0)."""
        return self.world.is_main

    @property
    def display_epoch(self) -> int:
        """The epoch in progress, counted from 1 (the last one once training is over)."""
        return min(self.epoch + 1, self.epochs)

    @property
    def logged_through(self) -> int:
        """The last step whose logged row cannot change: a resumed run logs again, and
        identically, everything after it (a window still open is logged when it closes)."""
        return self.step - 1 if self._window.is_open else self.step

    @property
    def data_info(self) -> dict:
        """The data's shape and condition as plain values: saved with the weights, so that
        ``ganzoo sample`` can rebuild the generator without loading the dataset."""
        return self.batches.data.info.as_dict()

    @property
    def sampling(self) -> tuple[str, torch.nn.Module]:
        """``(source, generator)``: the generator that samples are drawn from, and where it
        comes from: the first callback that offers one (``ema``), else ``trained``."""
        return sampling_choice(self.callbacks, self, self.generator)

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

    @property
    def loss(self) -> Loss:
        """The loss, held by the step that runs it: replacing it here replaces it there."""
        return self._eager.loss

    @loss.setter
    def loss(self, loss: Loss) -> None:
        self._eager.loss = loss

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
        group: list[Batch] = []
        for batch in self.batches.batches(self._order, start=self._position):
            group.append(batch)
            self._position += 1
            if len(group) < self.d_steps:
                continue
            self._step(group, self.step)
            group = []
            self.step += 1
            for schedule in self.schedules.values():
                schedule.step()
            if self.step % self.log_every == 0:
                self._flush_logs()
            self._emit("on_step_end")  # after the log, so a checkpoint here holds a closed window
            if self._stop_now() or (self.max_steps and self.step >= self.max_steps):
                return True
        if group:  # the epoch's last batches, too few for a generator update
            self._step.discriminator_updates(group, self.step)
        self._order, self._position = None, 0
        return False

    def _stop_now(self) -> bool:
        """Whether to stop after this step; in a data-parallel run every rank stops at the
        same step when any one of them is asked to (a signal reaches them at different times).

        The agreed answer is kept apart from the flags: a signal handled while the ranks
        agree sets its flag after the values were sent, and writing the answer back into the
        flags would erase it. Left alone, the flag is sent at the next step's agreement."""
        if self.world.distributed:  # one process decides alone, at no cost
            self._agreed = tuple(
                self.world.any_of(
                    [self.should_stop, self.interrupt_requested], f"agreeing whether to stop at step {self.step}"
                )
            )
            return any(self._agreed)
        return self.should_stop or self.interrupt_requested

    @property
    def _interrupted(self) -> bool:
        """Whether training stopped for a signal: as the ranks agreed, in a data-parallel run."""
        return self._agreed[1] if self.world.distributed else self.interrupt_requested

    # ------------------------------------------------------------------ divergence

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
        self._divergence.check(
            step=self.step,
            epoch=self.display_epoch,
            networks={"generator": self.generator, "discriminator": self.discriminator},
        )

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
            **self._window.state_dict(),
            "rng": get_rng_state(),
            "callbacks": callback_states(self.callbacks),
            "schedules": {network: schedule.state_dict() for network, schedule in self.schedules.items()},
            **sampling_state(self),
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.loss.load_state_dict(state["loss"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.step, self.epoch = state["step"], state["epoch"]
        self._order, self._position = state["epoch_order"], state["epoch_position"]
        self._window.load_state_dict(state, self.device)
        set_rng_state(state["rng"])
        load_callback_states(self.callbacks, state.get("callbacks", {}))  # absent from checkpoints of older versions
        for network, saved in state.get("schedules", {}).items():  # absent before schedules existed
            self.schedules[network].load_state_dict(saved)

    # ------------------------------------------------------------------ logging

    def _flush_logs(self) -> None:
        """Average the scalars since the last flush; the one host read per ``log_every``."""
        self.check_finite()
        means = self._window.close()
        if means is None:
            return
        scalars = {"step": self.step, "epoch": self.display_epoch, **means}
        self.last_scalars = scalars
        for schedule in self.schedules.values():
            schedule.on_log(scalars)
        self._emit_log(scalars)

    def log(self, scalars: dict[str, float]) -> None:
        """Report scalars computed outside the loop (evaluation metrics, a callback's own) at
        the current step: every callback's ``on_log`` receives them as a row of their own,
        as it receives the loop's (``metrics.jsonl``, the progress bar, wandb). Logged from
        an ``on_log``, the row follows the one being logged, once every callback has it."""
        row = {"step": self.step, "epoch": self.display_epoch, **scalars}
        if self._logging:
            self._pending.append(row)
        else:
            self._emit_log(row)

    def _emit_log(self, row: dict[str, float]) -> None:
        self._logging = True
        try:
            self._emit("on_log", row)
        finally:
            self._logging = False
        while self._pending:
            self._emit_log(self._pending.pop(0))

    def _emit(self, event: str, *args: object) -> None:
        emit(self.callbacks, event, self, *args)
