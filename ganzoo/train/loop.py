"""The training loop, and nothing but the loop.

Algorithm 1 of Goodfellow et al. (2014): the loop draws each epoch's batches, hands each
group of ``d_steps`` of them to the training step it was given (:mod:`ganzoo.train.step`,
eager or captured as a CUDA graph), steps the learning-rate schedules, logs, and tells the
callbacks what happened. It reads no YAML and builds nothing: what it trains arrives built
(:mod:`ganzoo.run.build` builds it from a recipe).

Logged scalars are summed on the device by the step's log window and read back once every
``log_every`` steps: no host synchronisation per step. In a data-parallel run, the ranks
agree every step on whether to stop.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional

import torch

from ganzoo.api import Architecture, Callback, DivergenceError, Loss, Schedule
from ganzoo.train.batches import BatchStream
from ganzoo.train.callbacks import callback_states, emit, load_callback_states, sampling_choice
from ganzoo.train.rng import OwnStreams, get_rng_state, set_rng_state
from ganzoo.train.step import Batch, TrainingStep

NETWORKS = ("generator", "discriminator")


@dataclass
class Work:
    """One item of training's work: a whole step (``d_steps`` discriminator updates, then the
    generator's) on ``group``, or discriminator updates alone (an epoch's last batches)."""

    group: list[Batch]
    whole_step: bool


class Trainer:
    """Trains with ``stepper`` (the networks, loss and optimisers of one run, and how to
    update them once) on ``batches``.

    A *step* is one generator update (after ``d_steps`` discriminator updates); an *epoch*
    is one pass over the data. With ``d_steps=1`` and MNIST at batch 32, an epoch is 1,875
    steps, as in the source article. ``schedules`` maps each network to its learning-rate
    schedule (absent: constant).
    """

    def __init__(
        self,
        stepper: TrainingStep,
        batches: BatchStream,
        *,
        epochs: int = 1,
        max_steps: Optional[int] = None,
        log_every: int = 200,
        callbacks: Iterable[Callback] = (),
        schedules: Optional[Mapping[str, Schedule]] = None,
    ) -> None:
        self.stepper = stepper
        """The training step: what one step does to the networks (``self.step`` counts steps)."""
        self.batches = batches
        self.epochs = epochs
        self.max_steps = max_steps
        self.log_every = log_every
        self.callbacks = list(callbacks)
        self.world = stepper.world
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
        """The run folder, on the process that writes it; None elsewhere (set by the run)."""
        self.recipe: dict = {}
        """The fully resolved recipe, as plain values (set by the run)."""
        self._epoch_ending = False  # inside on_epoch_end: display_epoch is the epoch that just ended
        self._logging = False  # inside an on_log: rows logged now wait until it is over
        self._pending: list[dict[str, float]] = []
        self._order: Optional[torch.Tensor] = None  # the current epoch's sample order...
        self._position = 0  # ...and how many of its batches are consumed
        self.streams: Optional[OwnStreams] = None
        """A population member's own random streams (its sample order, its latents, and
        its checkpoints' ``rng``); None: the process's global ones, as a run alone uses."""
        # Attached now, so that a resumed state loads over them.
        self.schedules = {network: (schedules or {}).get(network) or Schedule() for network in NETWORKS}
        self.schedules["generator"].start(stepper.g_optimizer, self.total_steps)
        self.schedules["discriminator"].start(stepper.d_optimizer, self.total_steps)

    # ------------------------------------------------------------------ what the step holds

    @property
    def generator(self) -> torch.nn.Module:
        return self.stepper.generator

    @property
    def discriminator(self) -> torch.nn.Module:
        return self.stepper.discriminator

    @property
    def architecture(self) -> Architecture:
        return self.stepper.architecture

    @property
    def loss(self) -> Loss:
        return self.stepper.loss

    @property
    def g_optimizer(self) -> torch.optim.Optimizer:
        return self.stepper.g_optimizer

    @property
    def d_optimizer(self) -> torch.optim.Optimizer:
        return self.stepper.d_optimizer

    @property
    def d_steps(self) -> int:
        return self.stepper.d_steps

    @property
    def device(self) -> torch.device:
        return self.stepper.device

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
        """The epoch in progress, counted from 1 (the last one once training is over); in
        ``on_epoch_end``, the epoch that just ended, so that a row logged there carries it."""
        return self.epoch if self._epoch_ending else min(self.epoch + 1, self.epochs)

    @property
    def learning_rates(self) -> dict[str, float]:
        """Each network's learning rate now: that of its optimiser's first parameter group
        (the one the recipe's ``optim.<network>.lr`` sets), as the schedule has moved it."""
        optimizers = {"generator": self.g_optimizer, "discriminator": self.d_optimizer}
        return {network: float(optimizer.param_groups[0]["lr"]) for network, optimizer in optimizers.items()}

    @property
    def logged_through(self) -> int:
        """The last step whose logged row cannot change: a resumed run logs again, and
        identically, everything after it (a window still open is logged when it closes)."""
        return self.step - 1 if self.stepper.window.is_open else self.step

    @property
    def data_info(self) -> dict:
        """The data's shape and condition as plain values: saved with the weights, so that
        ``ganzoo sample`` can rebuild the generator without loading the dataset."""
        return self.batches.data.info.as_dict()

    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The generator that samples are drawn from: the first callback's that offers one
        (``ema``), else the trained one."""
        return sampling_choice(self.callbacks, self, self.generator)[1]

    @property
    def sampling_source(self) -> str:
        """Where :attr:`sampling_generator` comes from: the callback's name, or ``trained``."""
        return sampling_choice(self.callbacks, self, self.generator)[0]

    @property
    def sampling(self) -> tuple[str, torch.nn.Module]:
        """Deprecated: ``(sampling_source, sampling_generator)``."""
        warnings.warn(
            "TrainingRun.sampling is deprecated: read sampling_source and sampling_generator",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.sampling_source, self.sampling_generator

    @property
    def steps_per_epoch(self) -> int:
        return len(self.batches) // self.d_steps

    @property
    def total_steps(self) -> int:
        total = self.steps_per_epoch * self.epochs
        return min(total, self.max_steps) if self.max_steps else total

    # ------------------------------------------------------------------ loop

    def fit(self) -> "Trainer":
        """Train until the last epoch or ``max_steps``, a stop asked for, or an error."""
        with self.session():
            for work in self.work():
                self.execute(work)
        return self

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Training from its start to its end: ``on_train_start``, the status its end leaves
        (finished, interrupted, aborted or failed, by what the body raised) and
        ``on_train_end``, whatever happened. :meth:`fit` runs :meth:`work` inside it; a
        population runs several trainers' sessions side by side."""
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"an epoch of {len(self.batches)} batches holds no step of {self.d_steps} discriminator updates"
            )
        self.status = "running"
        self.generator.train()
        self.discriminator.train()
        self._emit("on_train_start")
        try:
            yield
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

    def work(self) -> Iterator[Work]:
        """The updates training still has to make, in order, each to be run (:meth:`execute`)
        before the next is asked for: after each step, the bookkeeping (schedules, logs,
        ``on_step_end``, the stop), and at each epoch's end the order of the next."""
        while self.epoch < self.epochs and not self._reached_max_steps():
            if self._order is None:
                self._order = self.batches.new_order(self.streams.cpu if self.streams else None)
            group: list[Batch] = []
            for batch in self.batches.batches(self._order, start=self._position):
                group.append(batch)
                self._position += 1
                if len(group) < self.d_steps:
                    continue
                yield Work(group, whole_step=True)
                group = []
                if self._after_step():
                    return
            if group:  # the epoch's last batches, too few for a generator update
                yield Work(group, whole_step=False)
            self._order, self._position = None, 0
            self.epoch += 1
            self._end_epoch()
            if self._stop_now():  # a callback at the epoch's end (an evaluation) asked to stop
                return

    def execute(self, work: Work) -> None:
        """Run one item of :meth:`work` with this trainer's own step."""
        if work.whole_step:
            self.stepper(work.group, self.step)
        else:
            self.stepper.discriminator_only(work.group, self.step)

    def _after_step(self) -> bool:
        """A step is done: count it, step the schedules, log, tell the callbacks; True when
        training stops here."""
        self.step += 1
        for schedule in self.schedules.values():
            schedule.step()
        if self.step % self.log_every == 0:
            self._flush_logs()
        self._emit("on_step_end")  # after the log, so a checkpoint here holds a closed window
        return self._stop_now() or self._reached_max_steps()

    def _reached_max_steps(self) -> bool:
        return bool(self.max_steps and self.step >= self.max_steps)

    def _end_epoch(self) -> None:
        """``on_epoch_end``, with rows logged from it carrying the epoch that just ended."""
        self._epoch_ending = True
        try:
            self._emit("on_epoch_end")
        finally:
            self._epoch_ending = False

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
        """A NaN usually surfaces as some later error; report the divergence, with its step,
        instead. Binary cross-entropy refuses probabilities outside [0, 1] (NaN included):
        that happens when D's activations overflow even while its parameters stay finite (a
        learning rate of 1e30, data scaled by 1e300), so it is a divergence of its own."""
        try:
            self.check_finite()
        except DivergenceError as divergence:
            raise divergence from error
        if isinstance(error, RuntimeError) and "should be between 0 and 1" in str(error):
            raise DivergenceError(
                f"D's output became NaN or left [0, 1] at step {self.step + 1} (epoch {self.display_epoch}): its "
                f"activations overflowed; training stopped and no state after the last checkpoint was saved. "
                f"Lower the learning rate or check the data."
            ) from error

    def check_finite(self) -> None:
        """Raise :class:`DivergenceError` if a loss or a parameter is NaN or infinite.

        Called with every log and before every checkpoint (one synchronisation), so that a
        bad state is reported with its step and is never saved."""
        self.stepper.divergence.check(
            step=self.step,
            epoch=self.display_epoch,
            networks={"generator": self.generator, "discriminator": self.discriminator},
        )

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict:
        """Everything needed to continue exactly where training stands: networks, loss
        state, optimisers, counters, the epoch's sample order and position, the logging
        window in progress, every random stream, and the augmentation's state (ADA's p).
        Only tensors and plain Python values, so that it loads with
        ``torch.load(weights_only=True)``."""
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
            **self.stepper.window.state_dict(),
            "rng": self.streams.state() if self.streams else get_rng_state(),
            "callbacks": callback_states(self.callbacks),
            "schedules": {network: schedule.state_dict() for network, schedule in self.schedules.items()},
            "augment": self.stepper.augment_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.loss.load_state_dict(state["loss"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        self.step, self.epoch = state["step"], state["epoch"]
        self._order, self._position = state["epoch_order"], state["epoch_position"]
        self.stepper.window.load_state_dict(state, self.device)
        if self.streams:
            self.streams.load(state["rng"])
        else:
            set_rng_state(state["rng"])
        load_callback_states(self.callbacks, state.get("callbacks", {}))  # a checkpoint may hold none
        for network, saved in state.get("schedules", {}).items():  # nor schedules
            self.schedules[network].load_state_dict(saved)
        self.stepper.load_augment_state(state.get("augment", {}))  # nor an augmentation

    # ------------------------------------------------------------------ logging

    def _flush_logs(self) -> None:
        """Average the scalars since the last flush; the one host read per ``log_every``."""
        self.check_finite()
        means = self.stepper.window.close()
        if means is None:
            return
        scalars = {"step": self.step, "epoch": self.display_epoch, **means, **self._schedule_scalars()}
        self.last_scalars = scalars
        for schedule in self.schedules.values():
            schedule.on_log(scalars)
        self._emit_log(scalars)

    def _schedule_scalars(self) -> dict[str, float]:
        """``lr/<network>`` for each network, and what each schedule logs of its own
        (``schedule/<network>/<key>``): read here, once a log, never per step."""
        scalars = {f"lr/{network}": lr for network, lr in self.learning_rates.items()}
        for network, schedule in self.schedules.items():
            scalars.update({f"schedule/{network}/{key}": float(v) for key, v in schedule.log_values().items()})
        return scalars

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
