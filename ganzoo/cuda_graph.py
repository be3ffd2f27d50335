"""Whole-step CUDA graph capture (``train.cuda_graph``), and the contract that decides it.

On a GPU, the small networks of this zoo are bound by kernel launch latency, not arithmetic:
a step launches a few dozen tiny kernels. Captured once as one CUDA graph and replayed, the
whole step (every discriminator update with the loss's hooks, then the generator update) is
one launch. Following PyTorch's "whole network capture" recipe:

- the first ``warmup`` steps run eagerly on a side stream (lazy initialisation: optimiser
  state, cuDNN's choices); they are real training steps;
- the next full step is captured, then replayed for that step and every later one;
- batches and conditions reach the graph through static buffers copied into before each
  replay; latent codes and other random numbers are drawn inside the graph from the CUDA
  generator, which PyTorch advances at every replay;
- logged scalars are added inside the graph into the log window's device accumulators
  (:mod:`ganzoo.log_window`), which the trainer reads once per ``log_every``;
- optimisers with a step counter must be built with ``capturable=True`` (the run does so).

A step whose batches differ in shape from the captured ones (an epoch's short last batch)
runs eagerly on the same parameters. The contract: a component declares ``capturable =
True``, or ``capturable = "why not"``; one that declares nothing is not captured
(:func:`ganzoo.components.capture_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import torch

from ganzoo.components import capture_refusal
from ganzoo.log_window import LogWindow
from ganzoo.step import Batch, TrainingStep

WARMUP_STEPS = 3
"""Eager steps before the capture (PyTorch's examples use three)."""

MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class Decision:
    """Whether a run's step is captured, and why (the line ``auto`` prints)."""

    captured: bool
    reasons: tuple[str, ...] = ()
    """Why the step is not captured: one line each; empty when it is."""

    def line(self, mode: str) -> str:
        if self.captured:
            return f"train.cuda_graph={mode}: the training step is captured as one CUDA graph"
        return f"train.cuda_graph={mode}: eager training step ({'; '.join(self.reasons)})"


def setting_refusals(
    *,
    device: torch.device,
    distributed: bool = False,
    compile: object = False,
    precision: str = "fp32",
    schedules: Iterable[str] = (),
) -> list[str]:
    """Why the run's settings (not its components) keep the step from being captured.
    ``schedules`` are the recipe's ``optim.<network>.schedule`` names."""
    refusals = []
    if device.type != "cuda":
        refusals.append(f"the device is {device.type}, and CUDA graphs need a CUDA device")
    if distributed:
        refusals.append(
            "a data-parallel run is not captured (DistributedDataParallel's all-reduce runs outside the graph)"
        )
    if compile:
        refusals.append(
            f"train.compile={compile} compiles the networks instead (reduce-overhead captures its own graphs)"
        )
    if precision != "fp32":
        refusals.append(f"train.precision={precision}: autocast's weight cache does not survive capture")
    for name in dict.fromkeys(schedules):  # once each, when both networks use the same one
        if name != "constant":  # the graph keeps the learning rate it was captured with
            refusals.append(
                f"the learning-rate schedule {name!r} changes the rate between steps, which a captured "
                "optimiser step would not see"
            )
    return refusals


def schedule_names(resolved: dict) -> list[str]:
    """The ``optim.<network>.schedule`` names of a resolved recipe (``constant`` when unset)."""
    return [network.get("schedule", {}).get("name", "constant") for network in resolved["optim"].values()]


def component_refusals(components: Iterable[tuple[str, object]]) -> list[str]:
    """``(role, component or class)`` pairs -> one line per component that cannot be captured,
    naming it and its reason."""
    refusals = []
    for role, component in components:
        reason = capture_refusal(component)
        if reason is not None:
            cls = component if isinstance(component, type) else type(component)
            name = getattr(cls, "name", "") or cls.__name__
            refusals.append(f"{role} {name!r} cannot be captured: {reason}")
    return refusals


def decide(mode: str, refusals: Sequence[str]) -> Decision:
    """``off`` never captures; ``auto`` and ``on`` capture when nothing refuses (``on`` with a
    refusal is an error, reported by the caller)."""
    if mode == "off":
        return Decision(False, ("train.cuda_graph=off",))
    return Decision(not refusals, tuple(refusals))


class CapturedStep:
    """A :class:`~ganzoo.step.TrainingStep` captured once as a CUDA graph and replayed.

    The step's logged scalars go to the log window as in eager mode: the graph adds them
    into the window's accumulators (which the warm-up steps created), and each replay adds
    the captured pass's counts on the host."""

    def __init__(self, eager: TrainingStep, window: LogWindow, batch_size: int, warmup: Optional[int] = None) -> None:
        self.eager = eager
        self.window = window
        self.batch_size = batch_size
        self.warmup = WARMUP_STEPS if warmup is None else warmup
        self.graph: Optional[torch.cuda.CUDAGraph] = None
        self.static: list[Batch] = []
        self.per_replay: dict[str, int] = {}
        """How many values of each scalar one replay adds to the window."""

    def _full(self, group: Sequence[Batch]) -> bool:
        return len(group) > 0 and all(real.shape[0] == self.batch_size for real, _ in group)

    def __call__(self, group: Sequence[Batch], step: int) -> None:
        if not self._full(group):
            self.eager(group, step)
        elif self.warmup > 0:
            self._warm_up(group, step)
        else:
            if self.graph is None:
                self._capture(group, step)
            self._replay(group, step)

    def discriminator_updates(self, group: Sequence[Batch], step: int) -> None:
        self.eager.discriminator_updates(group, step)

    def _warm_up(self, group: Sequence[Batch], step: int) -> None:
        """An eager step on a side stream, as PyTorch's capture recipe asks."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.eager(group, step)
        torch.cuda.current_stream().wait_stream(side)
        self.warmup -= 1

    def _capture(self, group: Sequence[Batch], step: int) -> None:
        """Record one step into a graph (nothing runs: :meth:`_replay` runs it)."""
        self.static = [(real.clone(), None if condition is None else condition.clone()) for real, condition in group]
        for optimizer in (self.eager.g_optimizer, self.eager.d_optimizer):
            optimizer.zero_grad(set_to_none=True)  # gradients are allocated inside the graph's pool
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()

        def capture() -> None:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.eager.updates(self.static, step)

        self.per_replay = self.window.counts_per_pass(capture)
        self.graph = graph

    def _replay(self, group: Sequence[Batch], step: int) -> None:
        for (real, condition), (static_real, static_condition) in zip(group, self.static):
            static_real.copy_(real)
            if static_condition is not None and condition is not None:
                static_condition.copy_(condition)
        self.eager.mark(step)
        assert self.graph is not None
        self.graph.replay()
        self.window.count(self.per_replay)
