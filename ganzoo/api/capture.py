"""Whether a training step can be captured as one CUDA graph (``train.cuda_graph``): the
contract a component declares, and the one policy that ``ganzoo check`` and ``ganzoo run``
both apply.

On a GPU, the small networks of this zoo are bound by kernel launch latency: captured once
and replayed, a whole step is one launch (:mod:`ganzoo.train.capture` does it). Whether it
can be depends on the run's settings (a CUDA device, one process, no ``torch.compile``,
fp32, constant learning rates) and on every component the step runs: each declares it with a
class attribute, ``capturable = True`` or ``capturable = "the reason it cannot"``. A
component that declares nothing, as any third-party one written without the contract, is
not captured; nor is a loss with extra passes on some steps (``Loss.extra_passes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from ganzoo.api.declarations import component_name, refusal
from ganzoo.api.errors import Problem
from ganzoo.api.loss import passes_of

CAPTURE_UNDECLARED = "it does not declare that it can be captured (capturable = True)"

MODES = ("auto", "on", "off")
"""``train.cuda_graph``: capture when everything allows it (``auto``), insist (``on``), never (``off``)."""


def capture_refusal(component: object) -> Optional[str]:
    """Why an architecture, loss or callback (a class or an instance) cannot be part of a
    training step captured as one CUDA graph, or None when it can.

    ``capturable = True`` promises that everything the component does during a step is
    device work that reads no tensor value on the host, keeps the tensors it updates (in
    place: ``copy_``, ``clamp_``, ``fill_``) and takes its random numbers from the CUDA
    generator. A loss of a captured step sees ``ctx.step`` of the captured step only.
    Callbacks run between steps, outside the graph: one can be captured when it never
    replaces a tensor the step holds (parameters, optimiser state, a loss's buffers)."""
    return refusal(component, "capturable", CAPTURE_UNDECLARED)


@dataclass(frozen=True)
class Decision:
    """Whether a run's step is captured, and why not (the line ``auto`` prints)."""

    mode: str
    captured: bool
    reasons: tuple[str, ...] = ()
    """Why the step is not captured: one line each; empty when it is."""

    @property
    def line(self) -> str:
        if self.captured:
            return f"train.cuda_graph={self.mode}: the training step is captured as one CUDA graph"
        return f"train.cuda_graph={self.mode}: eager training step ({'; '.join(self.reasons)})"

    def problems(self, source: str = "") -> list[Problem]:
        """``on`` that cannot be honoured: one recipe problem per reason (none otherwise)."""
        if self.mode != "on" or self.captured:
            return []
        return [Problem(source, "train.cuda_graph", f"on, but {reason}") for reason in self.reasons]


def setting_refusals(
    *,
    device_type: str,
    distributed: bool = False,
    compile: object = False,
    precision: str = "fp32",
    schedules: Iterable[str] = (),
) -> list[str]:
    """Why the run's settings (not its components) keep the step from being captured.
    ``schedules`` are the recipe's ``optim.<network>.schedule`` names."""
    refusals = []
    if device_type != "cuda":
        refusals.append(f"the device is {device_type}, and CUDA graphs need a CUDA device")
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


def extra_pass_refusal(component: object) -> Optional[str]:
    """Why a loss (an instance: its passes depend on its options) whose ``extra_passes``
    run on some steps only keeps the step from being captured, or None. One graph replays
    one fixed sequence of kernels, and the steps with a pass differ from those without."""
    passes = passes_of(component)
    if not passes:
        return None
    listed = ", ".join(f"{p.name} every {p.every} {p.network} updates" for p in passes)
    return (
        f"it runs extra passes on some steps only ({listed}), and one captured graph replays the same step "
        "every time (an eager step launches each kernel from the host, which costs most on small networks: "
        "docs/speed.md)"
    )


def component_refusals(components: Iterable[tuple[str, object]]) -> list[str]:
    """``(role, component or class)`` pairs -> one line per component that cannot be captured,
    naming it and its reason."""
    refusals = []
    for role, component in components:
        reason = capture_refusal(component) or extra_pass_refusal(component)
        if reason is not None:
            refusals.append(f"{role} {component_name(component)!r} cannot be captured: {reason}")
    return refusals


def decide(mode: str, refusals: Iterable[str]) -> Decision:
    """``off`` never captures; ``auto`` and ``on`` capture when nothing refuses (``on`` with a
    refusal is an error: :meth:`Decision.problems`)."""
    if mode == "off":
        return Decision(mode, False, ("train.cuda_graph=off",))
    reasons = tuple(refusals)
    return Decision(mode, not reasons, reasons)


def capture_decision(
    mode: str,
    *,
    device_type: str,
    distributed: bool,
    compile: object,
    precision: str,
    schedules: Iterable[str],
    components: Iterable[tuple[str, object]],
) -> Decision:
    """The capture policy: ``train.cuda_graph`` set to ``mode``, for a run with these
    settings and these ``(role, component)`` pairs (classes or instances)."""
    settings = setting_refusals(
        device_type=device_type, distributed=distributed, compile=compile, precision=precision, schedules=schedules
    )
    return decide(mode, settings + component_refusals(components))
