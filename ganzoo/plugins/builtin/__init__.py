"""The core's own plugin: the bundled optimisers and learning-rate schedules, and the
``none`` augmentation.

Why the core and not the vanilla plugin: a recipe's ``optim`` section defaults to ``adam``
with a ``constant`` schedule, and its ``augment`` section to ``none``, so these must exist
whatever plugins are installed (a recipe made only of a third-party package's components
still trains). They are registered through the same hooks as a plugin's, so a plugin's
optimiser, schedule or augmentation is in every way their equal; the plugin manager always
registers this module, under the name ``ganzoo``.
"""

from __future__ import annotations

from ganzoo.api.hookspecs import Register, hookimpl
from ganzoo.plugins.builtin import augmentations, optimizers, schedules


@hookimpl
def register_optimizers(register: Register) -> None:
    for optimizer in optimizers.BUNDLED:
        register(optimizer)


@hookimpl
def register_schedules(register: Register) -> None:
    for schedule in schedules.BUNDLED:
        register(schedule)


@hookimpl
def register_augmentations(register: Register) -> None:
    register(augmentations.NoAugmentation)
