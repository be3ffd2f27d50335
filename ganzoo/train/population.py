"""K runs in one step: a population's members trained side by side, each update made once
for all of them with ``torch.func.vmap`` over their stacked parameters.

Each member keeps what a run alone has: its networks, loss, optimisers, schedules, log
window and divergence watch (its own :class:`~ganzoo.train.step.TrainingStep`), its trainer
with its callbacks and run folder, and its random streams
(:class:`~ganzoo.train.rng.OwnStreams`). Only the forward and backward passes are batched:
the members' parameters are stacked (``torch.stack``, through which each member's gradient
flows back to its own tensors), the loss runs once under ``vmap``, and then each member's
own optimiser steps. The members therefore train as they would alone, up to the rounding of
the batched kernels.

The latents are the one thing drawn inside an update, and ``vmap`` cannot draw from K
streams. So the first update of each kind runs member by member, exactly as alone, and
records the calls its loss makes to ``ctx.latent``; from then on each member's latents are
drawn from its own stream before the batched update, in that order, and handed to it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import sys
from typing import Any, Iterator, Literal, Mapping, Optional, Sequence

import torch

from ganzoo.api import GanzooError, StepContext
from ganzoo.api.declarations import component_name
from ganzoo.train.loop import Trainer, Work
from ganzoo.train.rng import OwnStreams
from ganzoo.train.step import Batch, TrainingStep

Role = Literal["discriminator", "generator"]


@dataclasses.dataclass
class RecordingContext(StepContext):
    """A member's context for an update made alone: its latents from its own stream, and the
    size of each draw remembered (what the batched updates will hand over)."""

    drawn: list[int] = dataclasses.field(default_factory=list)

    def latent(self, n: Optional[int] = None) -> torch.Tensor:
        self.drawn.append(n or self.batch_size)
        return super().latent(n)


@dataclasses.dataclass
class DrawnContext(StepContext):
    """A member's context inside the batched update: ``latent`` hands out the latents drawn
    for it beforehand, in the order its loss asked for them the first time."""

    drawn: list[torch.Tensor] = dataclasses.field(default_factory=list)

    def latent(self, n: Optional[int] = None) -> torch.Tensor:
        n = n or self.batch_size
        if not self.drawn or self.drawn[0].shape[0] != n:
            raise GanzooError(
                f"the loss asked for {n} latents where its first update asked for "
                f"{self.drawn[0].shape[0] if self.drawn else 'no more'}: a population needs a loss that "
                "draws the same latents at every update"
            )
        return self.drawn.pop(0)


class Functional:
    """A network as the loss calls it, with a member's stacked parameters in place of its own
    (``torch.func.functional_call`` on a parameterless copy)."""

    def __init__(self, skeleton: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
        self.skeleton = skeleton
        self.state = state

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return torch.func.functional_call(self.skeleton, self.state, args, kwargs)


def skeleton(network: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``network`` with no storage: the code of its forward, for functional calls."""
    return copy.deepcopy(network).to("meta")


class PopulationStep:
    """One step of every member at once (see the module's docstring)."""

    def __init__(self, steps: Sequence[TrainingStep], streams: Sequence[OwnStreams]) -> None:
        self.steps = list(steps)
        self.streams = list(streams)
        first = self.steps[0]
        self.loss = first.loss  # members differ in seeds and optimisers only: one loss's code serves
        self.architecture = first.architecture
        self.device = first.device
        self.skeletons = {"generator": skeleton(first.generator), "discriminator": skeleton(first.discriminator)}
        self.draws: dict[Role, Optional[list[int]]] = {"discriminator": None, "generator": None}
        """The latent sizes each kind of update draws, once its first update has shown them."""
        self.warned = False

    def run(self, works: Mapping[int, Work], trainers: Sequence[Trainer]) -> dict[int, Exception]:
        """The work of the members still training (``works``, by member), which is the same
        kind of work for all: a slot whose member has stopped is filled with another's batches
        and its result is not used. Returns the error of each member whose own update failed
        (a divergence): it takes no further part, and the others' step goes on."""
        filler = next(iter(works.values()))
        groups = [works[k].group if k in works else filler.group for k in range(len(self.steps))]
        step = trainers[next(iter(works))].step
        active = sorted(works)
        failed: dict[int, Exception] = {}
        for k in active:
            self.steps[k].mark(step)
        for i in range(len(filler.group)):
            active = self.update("discriminator", [group[i] for group in groups], step, active, failed)
        if filler.whole_step and active:
            self.update("generator", [group[-1] for group in groups], step, active, failed)
        return failed

    def update(
        self, role: Role, batches: Sequence[Batch], step: int, active: list[int], failed: dict[int, Exception]
    ) -> list[int]:
        """One update of every active member; the members still active after it.

        An error of the batched passes cannot say which member caused it (a NaN in one
        member's D fails the whole batch), so the update is then made member by member with
        the latents already drawn, and only the members whose own update fails drop out."""
        if self.draws[role] is None:  # the first: member by member, recording the draws
            drawn = self._alone(role, batches, step, active, failed)
            if drawn is not None:
                self.draws[role] = drawn
            return [k for k in active if k not in failed]
        latents = self._draw(role, active)
        try:
            losses, logs = self._batched(role, batches, step, active, latents)
        except GanzooError:
            raise
        except Exception as error:
            self._warn_once(role, step, error)
            self._alone(role, batches, step, active, failed, latents)
            return [k for k in active if k not in failed]
        self._apply(role, batches, step, active, losses, logs)
        return active

    def _warn_once(self, role: Role, step: int, error: Exception) -> None:
        """Say the first time a batched update failed and was made member by member: it
        costs speed, not results (a batched kernel can turn one member's overflow into a
        NaN where the member's own kernels stay finite)."""
        if not self.warned:
            self.warned = True
            print(
                f"ganzoo: warning: the population's batched {role} update failed at step {step + 1} "
                f"({str(error).splitlines()[0]}); that update, and any other that fails so, was made member "
                "by member, as each member's run would make it alone",
                file=sys.stderr,
            )

    # ------------------------------------------------------------------ member by member

    def _alone(
        self,
        role: Role,
        batches: Sequence[Batch],
        step: int,
        active: Sequence[int],
        failed: dict[int, Exception],
        latents: Optional[Sequence[torch.Tensor]] = None,
    ) -> Optional[list[int]]:
        """Each member's update made alone, as its run would make it (a member whose update
        fails is added to ``failed``), with ``latents`` (stacked, as :meth:`_draw` gives
        them) or drawing its own; the latent sizes drawn, None when every member failed."""
        seen: Optional[list[int]] = None
        for k in active:
            member = self.steps[k]
            real, condition = batches[k]
            parts = (real, condition, member.generator, member.discriminator, member.architecture, step)
            ctx: StepContext = (
                RecordingContext(*parts, latent_stream=self.streams[k].device)
                if latents is None
                else DrawnContext(*parts, drawn=[z[k] for z in latents])
            )
            try:
                (member.update_generator if role == "generator" else member.update_discriminator)(ctx)
            except Exception as error:
                failed[k] = error
                continue
            if isinstance(ctx, RecordingContext):
                if seen is not None and ctx.drawn != seen:
                    raise GanzooError(f"the members' {role} updates drew different latents ({seen} and {ctx.drawn})")
                seen = ctx.drawn
        return seen

    # ------------------------------------------------------------------ all at once

    def _batched(
        self, role: Role, batches: Sequence[Batch], step: int, active: Sequence[int], latents: list[torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Every member's loss in one ``vmap`` over the stacked parameters, and its gradients
        (each member's reach its own parameters only); the losses and logs, by member."""
        other: Role = "discriminator" if role == "generator" else "generator"
        # A stopped member's slot computes with an active member's weights, detached: its own
        # may be NaN (a divergence), which would fail the whole batched kernel.
        slots = [k if k in active else active[0] for k in range(len(self.steps))]
        grads = [k in active for k in range(len(self.steps))]
        trained = stacked([getattr(self.steps[k], role) for k in slots], grads)
        with torch.no_grad():
            fixed = stacked([getattr(self.steps[k], other) for k in slots], [False] * len(slots))
        real = torch.stack([batch[0] for batch in batches])
        conditions = [batch[1] for batch in batches]
        condition = torch.stack(conditions) if conditions[0] is not None else None  # type: ignore[arg-type]

        def objective(trained_state, fixed_state, real, condition, drawn):
            states = {role: trained_state, other: fixed_state}
            ctx = DrawnContext(
                real,
                condition,
                Functional(self.skeletons["generator"], states["generator"]),
                Functional(self.skeletons["discriminator"], states["discriminator"]),
                self.architecture,
                step,
                drawn=list(drawn),
            )
            out = self.loss.generator_loss(ctx) if role == "generator" else self.loss.discriminator_loss(ctx)
            return out.loss, out.logs

        for k in active:
            self._optimizer(k, role).zero_grad(set_to_none=True)
        in_dims = (0, 0, 0, None if condition is None else 0, 0)
        with self._autocast(), self._explained(role):
            losses, logs = torch.func.vmap(objective, in_dims=in_dims, randomness="error")(
                trained, fixed, real, condition, latents
            )
        losses.sum().backward()
        return losses, logs

    def _apply(
        self,
        role: Role,
        batches: Sequence[Batch],
        step: int,
        active: Sequence[int],
        losses: torch.Tensor,
        logs: dict[str, torch.Tensor],
    ) -> None:
        """Each active member's own optimiser step, loss hooks, divergence watch and log."""
        name = "g_loss" if role == "generator" else "d_loss"
        for k in active:
            member = self.steps[k]
            self._optimizer(k, role).step()
            ctx = member.context(batches[k], step)
            (member.loss.after_generator_step if role == "generator" else member.loss.after_discriminator_step)(ctx)
            member.divergence.watch(name, losses[k])
            member.window.add({name: losses[k], **{key: value[k] for key, value in logs.items()}}, step + 1)

    def _optimizer(self, k: int, role: Role) -> torch.optim.Optimizer:
        return self.steps[k].g_optimizer if role == "generator" else self.steps[k].d_optimizer

    def _draw(self, role: Role, active: Sequence[int]) -> list[torch.Tensor]:
        """The latents of one update, for every member from its own stream, stacked: one
        tensor per draw its loss makes. A stopped member's slot gets zeros."""
        sizes = self.draws[role] or []
        per_member: dict[int, list[torch.Tensor]] = {
            k: [self.architecture.sample_latent(n, device=self.device, generator=self.streams[k].device) for n in sizes]
            for k in active
        }
        some = per_member[active[0]]
        slots = [per_member.get(k) or [torch.zeros_like(z) for z in some] for k in range(len(self.steps))]
        return [torch.stack([slot[i] for slot in slots]) for i in range(len(sizes))]

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.steps[0].precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def _explained(self, role: Role) -> Iterator[None]:
        """vmap refuses a random draw inside the update: say which components broke the
        promise of ``stackable``."""
        try:
            yield
        except RuntimeError as error:
            if "random" not in str(error):
                raise
            raise GanzooError(
                f"the {role} update of the population drew random numbers other than ctx.latent's "
                f"({str(error).splitlines()[0]}); loss {component_name(self.loss)!r} and architecture "
                f"{component_name(self.architecture)!r} declare stackable = True, which promises it does not"
            ) from None


def stacked(networks: Sequence[torch.nn.Module], grads: Sequence[bool]) -> dict[str, torch.Tensor]:
    """The members' parameters and buffers, each stacked along a new first dimension; where
    ``grads`` says so, a member's gradient flows back to its own parameters."""
    states = [{**dict(network.named_parameters()), **dict(network.named_buffers())} for network in networks]
    return {
        name: torch.stack([state[name] if grad else state[name].detach() for state, grad in zip(states, grads)])
        for name in states[0]
    }


def fit_population(trainers: Sequence[Trainer], step: PopulationStep) -> dict[int, Exception]:
    """Train the members side by side, each in its own session (its callbacks, its status).

    A member that fails on its own (a divergence) ends there, with its run folder saying so,
    and the others go on; its error is returned by member. An error of the batched step, or
    a Ctrl-C, ends every member's session with it."""
    failures: dict[int, Exception] = {}
    with contextlib.ExitStack() as everyone:
        sessions = []
        for trainer in trainers:
            session = contextlib.ExitStack()
            session.enter_context(trainer.session())
            everyone.push(session)
            sessions.append(session)
        works: dict[int, Iterator[Work]] = {k: trainer.work() for k, trainer in enumerate(trainers)}
        while works:
            items: dict[int, Work] = {}
            for k in list(works):
                try:
                    items[k] = next(works[k])
                except StopIteration:
                    del works[k]
                    sessions[k].close()  # finished, or stopped: its outputs end now
                except Exception as error:
                    del works[k]
                    failures[k] = _end_failed(sessions[k], error)
            if items:
                for k, failure in step.run(items, trainers).items():
                    del works[k]
                    failures[k] = _end_failed(sessions[k], failure)
    return failures


def _end_failed(session: contextlib.ExitStack, error: Exception) -> Exception:
    """End a failed member's session (its outputs say so); the error as the session explains
    it (a NaN's later symptom reported as the divergence it is)."""
    try:
        session.__exit__(type(error), error, error.__traceback__)
    except Exception as explained:
        return explained
    return error
