"""The plugin manager: one entry-point group, ``ganzoo``, for bundled and third-party plugins.

The bundled plugins under ``plugins/`` are installed packages like any other, so there is no
special path for them: what ``ganzoo plugins`` shows is exactly what is installed.
"""

from __future__ import annotations

from types import ModuleType
from typing import Iterable, Optional

import pluggy

from ganzoo import hookspecs
from ganzoo.errors import GanzooError

ENTRY_POINT_GROUP = "ganzoo"


def make_plugin_manager(
    modules: Optional[Iterable[ModuleType | object]] = None, *, entry_points: bool = True
) -> pluggy.PluginManager:
    """A fresh plugin manager.

    ``entry_points`` loads every installed plugin of the ``ganzoo`` group; ``modules`` adds
    plugins explicitly (tests build their managers this way, so no global state leaks).
    A hook implementation whose name matches no spec is an error, not silence.
    """
    pm = pluggy.PluginManager("ganzoo")
    pm.add_hookspecs(hookspecs)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for module in modules or ():
        pm.register(module)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise GanzooError(
            f"plugin {error.plugin!r} implements a hook that does not exist: {error}. "
            f"Known hooks: {', '.join(hook_names())}"
        ) from None
    return pm


def hook_names() -> list[str]:
    """The names of every hook spec, in the order the specs module declares them."""
    return [name for name in vars(hookspecs) if name.startswith("register_")]

