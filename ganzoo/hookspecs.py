"""The hook specifications: the whole contract between ganzoo and its plugins.

Every hook has the same shape: ganzoo passes a ``register`` callable and the plugin calls it
once per component class it provides. A component is a class with a ``name``, a nested
pydantic ``Options`` model and a docstring (see :mod:`ganzoo.components`).

Why registration instead of hooks that *build* things: installing a plugin only makes its
components *available*; a recipe decides which are *active*. The registry can therefore list,
document and validate every component without constructing any of them, and the trainer
never talks to pluggy at all.

Implementations may accept fewer arguments than a spec names (pluggy allows it), so a
new argument can be added to a spec later without breaking any plugin. ganzoo always calls
hooks with keyword arguments.
"""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")

Register = Callable[[type], None]


@hookspec
def register_architectures(register: Register) -> None:
    """Register :class:`ganzoo.Architecture` classes: a generator, a discriminator and the
    latent distribution they are trained with."""


@hookspec
def register_losses(register: Register) -> None:
    """Register :class:`ganzoo.Loss` classes: the discriminator and generator objectives,
    with access to both networks (for gradient penalties) and state of their own."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register :class:`ganzoo.Dataset` classes: each loads its samples into memory once."""


@hookspec
def register_callbacks(register: Register) -> None:
    """Register :class:`ganzoo.Callback` classes that a recipe can switch on under
    ``callbacks:`` to observe or extend training (EMA, extra logging, early stops)."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register :class:`ganzoo.Metric` classes: numbers about generated samples that
    ``ganzoo eval`` computes, and training computes every ``eval.every`` epochs."""


@hookspec
def register_feature_extractors(register: Register) -> None:
    """Register :class:`ganzoo.FeatureExtractor` classes: the networks in whose feature
    space metrics such as FID compare generated and real samples."""


@hookspec
def register_optimizers(register: Register) -> None:
    """Register :class:`ganzoo.Optimizer` classes that a recipe names under
    ``optim.generator`` and ``optim.discriminator``."""


@hookspec
def register_schedules(register: Register) -> None:
    """Register :class:`ganzoo.Schedule` classes: learning-rate schedules that a recipe
    names under ``optim.<network>.schedule``."""
