"""Whether K copies of a recipe can train as one population (``train.population``): the
promise a component declares, and the one policy ``ganzoo check`` and ``ganzoo run`` apply.

A population stacks the K members' parameters and runs each update once for all of them
with ``torch.func.vmap``: on a GPU, where a small GAN's step is bound by kernel launches,
K runs then launch the kernels of one. Every architecture, loss and callback of the recipe
declares whether it can be part of that, with a class attribute ``stackable = True`` or
``stackable = "the reason it cannot"``; one that declares nothing is not stacked.
"""

from __future__ import annotations

from typing import Iterable, Optional

from ganzoo.api.declarations import component_name, refusal
from ganzoo.api.loss import passes_of

STACK_UNDECLARED = "it does not declare that K copies of it can train as one population (stackable = True)"

MAX_MEMBERS = 64
"""The largest population: K copies of the networks and optimiser state live on one device."""


def stack_refusal(component: object) -> Optional[str]:
    """Why an architecture, loss or callback (a class or an instance) cannot be part of a
    population, or None when it can.

    ``stackable = True`` promises, for an architecture, that its networks run under
    ``torch.func.vmap`` with their parameters stacked: no buffer changed in place (batch
    norm's running statistics are), and no random number drawn inside them; for a loss,
    that it keeps no state of its own (no buffers, nothing remembered between calls), takes
    its random numbers from ``ctx.latent`` only, and makes the same calls to it at every
    update; its ``after_*`` hooks run on each member's own networks. For a callback, that
    it works between steps on its own run (its trainer's networks, its folder), and never
    changes what the networks compute inside a step (a forward hook does). A loss whose
    instance declares extra passes (``Loss.extra_passes``) is refused whatever it declares:
    the batched step makes the two updates alone."""
    reason = refusal(component, "stackable", STACK_UNDECLARED)
    if reason is None and passes_of(component):
        names = ", ".join(extra.name for extra in passes_of(component))
        return f"its extra passes ({names}) run on some updates only, and the batched step runs none"
    return reason


def population_refusals(
    *, members: int, compile: object, cuda_graph: str, distributed: bool, components: Iterable[tuple[str, object]]
) -> list[str]:
    """Why a recipe with ``train.population: members`` cannot train as one: one line each,
    for its settings and for each ``(role, component)`` that cannot be stacked."""
    if members <= 1:
        return []
    refusals = []
    if compile:
        refusals.append(f"train.compile={compile} compiles one run's networks, not a population's batched step")
    if cuda_graph == "on":
        refusals.append("a population's batched step is not captured as a CUDA graph: set train.cuda_graph to auto")
    if distributed:
        refusals.append("a population trains in one process: it cannot also be data-parallel")
    for role, component in components:
        reason = stack_refusal(component)
        if reason is not None:
            refusals.append(f"{role} {component_name(component)!r} cannot join a population: {reason}")
    return refusals
