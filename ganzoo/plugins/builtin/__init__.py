"""The core's own plugin: the bundled optimisers and learning-rate schedules.

Why the core and not the vanilla plugin: a recipe's ``optim`` section defaults to ``adam``
with a ``constant`` schedule, so these must exist whatever plugins are installed (a recipe
made only of a third-party package's components still trains). They are registered
through the same hooks as a plugin's, so a plugin's optimiser or schedule is in every way
their equal; the plugin manager always registers this module, under the name ``ganzoo``.
"""

from __future__ import annotations

from ganzoo.api.hookspecs import Register, hookimpl
from ganzoo.plugins.builtin import optimizers, schedules


@hookimpl
def register_optimizers(register: Register) -> None:
    for optimizer in optimizers.BUNDLED:
        register(optimizer)


@hookimpl
def register_schedules(register: Register) -> None:
    for schedule in schedules.BUNDLED:
        register(schedule)
