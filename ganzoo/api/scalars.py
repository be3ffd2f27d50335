"""How a logged scalar is named: by the loss that logs it, else by the core.

The curves, the progress bar, the HTML report and the W&B report builder all ask here, so
that ``d_real`` reads ``D(x)`` for the probability losses and ``critic(x)`` for a critic,
as each loss says in its ``scalars``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class ScalarInfo:
    """How the curves, the progress bar and the reports name a logged scalar."""

    label: str
    """Short: a legend entry, a column heading, a progress-bar field (``D(x)``)."""
    description: str = ""
    """One sentence: what the number means for this loss."""
    probability: bool = False
    """A probability: the curves draw it in [0, 1], with the 0.5 of the equilibrium."""
    group: str = ""
    """The plot it is drawn in beside the losses and scores (``curves/<group>.png``), with
    the other scalars of its group; empty: no plot of its own."""


CORE: dict[str, ScalarInfo] = {
    "d_loss": ScalarInfo("d_loss", "the discriminator's loss, averaged over the logged steps"),
    "g_loss": ScalarInfo("g_loss", "the generator's loss, averaged over the logged steps"),
    "d_real": ScalarInfo("D(x)", "mean score D gives real samples", probability=True),
    "d_fake": ScalarInfo("D(G(z))", "mean score D gives generated samples", probability=True),
    "lr/generator": ScalarInfo("lr of G", "the generator's learning rate when the row was logged"),
    "lr/discriminator": ScalarInfo("lr of D", "the discriminator's learning rate when the row was logged"),
    "d_train": ScalarInfo(
        "D(training images)",
        "D's mean raw output on a fixed batch of training images, not augmented",
        group="overfitting",
    ),
    "d_held_out": ScalarInfo(
        "D(held-out images)",
        "D's mean raw output on a fixed batch of real images it never trains on: far from D(training "
        "images), D has memorised the training set",
        group="overfitting",
    ),
}
"""The trainer's own scalars (the losses, each network's learning rate), and the two that
most losses log under the names of the original GAN (a loss whose scores are something else
says so in its ``scalars``)."""

Infos = Mapping[str, ScalarInfo]


def scalar_infos(*components: Optional[Any]) -> dict[str, ScalarInfo]:
    """Every name known for the scalars of ``components`` (a ``ganzoo.Loss``, a
    ``ganzoo.Augment``: classes or instances; None for none): the core's, overridden by
    each component's own ``scalars``."""
    infos = dict(CORE)
    for component in components:
        infos.update(getattr(component, "scalars", {}) if component is not None else {})
    return infos


def label(key: str, infos: Infos = CORE) -> str:
    """The label of ``key``; the key itself when nobody named it."""
    info = infos.get(key)
    return info.label if info else key
