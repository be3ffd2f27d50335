"""The one lookup of how a logged scalar is named: by the loss that logs it, else by the core.

The curves, the progress bar, the HTML report and the W&B report builder all ask here, so
that ``d_real`` reads ``D(x)`` for the probability losses and ``critic(x)`` for a critic,
as each loss says in its ``scalars``.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ganzoo.components import Loss, ScalarInfo

CORE: dict[str, ScalarInfo] = {
    "d_loss": ScalarInfo("d_loss", "the discriminator's loss, averaged over the logged steps"),
    "g_loss": ScalarInfo("g_loss", "the generator's loss, averaged over the logged steps"),
    "d_real": ScalarInfo("D(x)", "mean score D gives real samples", probability=True),
    "d_fake": ScalarInfo("D(G(z))", "mean score D gives generated samples", probability=True),
}
"""The trainer's own scalars, and the two that most losses log under the names of the
original GAN (a loss whose scores are something else says so in its ``scalars``)."""

Infos = Mapping[str, ScalarInfo]


def scalar_infos(loss: Optional[type[Loss]] = None) -> dict[str, ScalarInfo]:
    """Every name known for the scalars of ``loss`` (the core's, overridden by the loss's)."""
    return {**CORE, **(loss.scalars if loss is not None else {})}


def label(key: str, infos: Infos = CORE) -> str:
    """The label of ``key``; the key itself when nobody named it."""
    info = infos.get(key)
    return info.label if info else key


def infos_for_recipe(recipe: Mapping[str, Any]) -> dict[str, ScalarInfo]:
    """The names for a run of a resolved recipe (``recipe.yaml`` of a run folder), from the
    installed plugin that provides its loss; the core's alone when it is not installed."""
    from ganzoo.plugins import make_plugin_manager  # the plugin host, only when a report asks
    from ganzoo.registry import Registry

    loss = recipe.get("loss") if isinstance(recipe.get("loss"), dict) else {}
    name = loss.get("name") if isinstance(loss, dict) else None
    registry = Registry.from_plugin_manager(make_plugin_manager())
    if not isinstance(name, str) or name not in registry.names("loss"):
        return scalar_infos()
    return scalar_infos(registry.get("loss", name))
