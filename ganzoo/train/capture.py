"""Whole-step CUDA graph capture (``train.cuda_graph``): :class:`CapturedStep` runs a
training step captured once as one CUDA graph and replayed.

Following PyTorch's "whole network capture" recipe:

- the first ``warmup`` steps run eagerly on a side stream (lazy initialisation: optimiser
  state, cuDNN's choices); they are real training steps;
- the next full step is captured, then replayed for that step and every later one;
- batches and conditions reach the graph through static buffers copied into before each
  replay; latent codes and other random numbers are drawn inside the graph from the CUDA
  generator, which PyTorch advances at every replay;
- logged scalars are added inside the graph into the log window's device accumulators
  (:mod:`ganzoo.train.log_window`), which the trainer reads once per ``log_every``;
- optimisers with a step counter are switched to ``capturable=True`` (their counter then
  lives on the device).

A step whose batches differ in shape from the captured ones (an epoch's short last batch)
runs eagerly on the same parameters. Whether a run is captured at all is the policy of
:mod:`ganzoo.api.capture`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from ganzoo.train.step import Batch, TrainingStep

WARMUP_STEPS = 3
"""Eager steps before the capture (PyTorch's examples use three)."""


class CapturedStep(TrainingStep):
    """A :class:`~ganzoo.train.step.TrainingStep` captured once as a CUDA graph and replayed.

    The step's logged scalars go to the log window as in eager mode: the graph adds them
    into the window's accumulators (which the warm-up steps created), and each replay adds
    the captured pass's counts on the host. ``batch_size`` is the size of a full batch,
    the only size that is captured."""

    def __init__(self, *, batch_size: int, warmup: Optional[int] = None, **step: Any) -> None:
        super().__init__(**step)
        if self.passes:  # the capture policy refuses them (ganzoo.api.capture.extra_pass_refusal)
            raise ValueError("a loss with extra passes on some steps cannot be captured as one CUDA graph")
        for optimizer in (self.g_optimizer, self.d_optimizer):
            make_capturable(optimizer)
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
            super().__call__(group, step)
        elif self.warmup > 0:
            self._warm_up(group, step)
        else:
            if self.graph is None:
                self._capture(group, step)
            self._replay(group, step)

    def _warm_up(self, group: Sequence[Batch], step: int) -> None:
        """An eager step on a side stream, as PyTorch's capture recipe asks."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            super().__call__(group, step)
        torch.cuda.current_stream().wait_stream(side)
        self.warmup -= 1

    def _capture(self, group: Sequence[Batch], step: int) -> None:
        """Record one step into a graph (nothing runs: :meth:`_replay` runs it)."""
        self.static = [(real.clone(), None if condition is None else condition.clone()) for real, condition in group]
        for optimizer in (self.g_optimizer, self.d_optimizer):
            optimizer.zero_grad(set_to_none=True)  # gradients are allocated inside the graph's pool
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()

        def capture() -> None:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.body(self.static, step)

        self.per_replay = self.window.counts_per_pass(capture)
        self.graph = graph

    def _replay(self, group: Sequence[Batch], step: int) -> None:
        for (real, condition), (static_real, static_condition) in zip(group, self.static):
            static_real.copy_(real)
            if static_condition is not None and condition is not None:
                static_condition.copy_(condition)
        self.mark(step)
        assert self.graph is not None
        self.graph.replay()
        self.window.count(self.per_replay)


def make_capturable(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """torch's optimisers with a step counter (Adam, AdamW, RMSprop) are captured only with
    ``capturable=True`` (the counter then lives on the device); one without that option
    (SGD) needs nothing. Called before the optimiser's first step creates any state."""
    if "capturable" in optimizer.defaults:
        optimizer.defaults["capturable"] = True
        for group in optimizer.param_groups:
            group["capturable"] = True
    return optimizer
