"""The plugin manager: one entry-point group, ``ganzoo``, for bundled and third-party plugins.

The bundled plugins under ``plugins/`` are installed packages like any other, so there is no
special path for them: what ``ganzoo plugins`` shows is exactly what is installed.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Union

import pluggy

from ganzoo.api import hookspecs
from ganzoo.api.errors import GanzooError
from ganzoo.plugins import builtin

CORE_PLUGIN = "ganzoo"
"""The name the core's own hook implementations (the bundled optimisers and schedules) go by."""

ENTRY_POINT_GROUP = "ganzoo"

Plugins = Union[Iterable[object], Mapping[str, object]]  # modules, or any objects with hook implementations (pluggy)


def make_plugin_manager(modules: Optional[Plugins] = None, *, entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh plugin manager.

    ``entry_points`` loads every installed plugin of the ``ganzoo`` group (named by its
    entry point); ``modules`` adds plugins explicitly, named by module or by the keys of a
    mapping (tests build their managers this way, so no global state leaks). A hook
    implementation that matches no spec, takes an argument its spec lacks, or a
    ``register_*`` function that forgot ``@ganzoo.hookimpl`` is an error, not silence.
    """
    pm = pluggy.PluginManager("ganzoo")
    pm.add_hookspecs(hookspecs)
    named = modules.items() if isinstance(modules, Mapping) else ((None, m) for m in modules or ())
    pm.register(builtin, name=CORE_PLUGIN)  # the bundled optimisers and schedules
    try:
        if entry_points:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for name, module in named:
            pm.register(module, name=name)
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise GanzooError(
            f"plugin {_name(error.plugin)}: {' '.join(str(error).split())}. Known hooks: {', '.join(hook_names())}"
        ) from None
    for plugin in pm.get_plugins():
        _check_markers(pm, plugin)
    return pm


def _check_markers(pm: pluggy.PluginManager, plugin: object) -> None:
    """A function named like a hook but not marked as one would be ignored by pluggy."""
    implemented = {impl.function for hook in pm.get_hookcallers(plugin) or () for impl in hook.get_hookimpls()}
    for name in hook_names():
        function = getattr(plugin, name, None)
        if callable(function) and function not in implemented:
            raise GanzooError(
                f"plugin {pm.get_name(plugin)!r} defines {name} without @ganzoo.hookimpl, so it would never be called"
            )


def hook_names() -> list[str]:
    """The names of every hook spec, in the order the specs module declares them."""
    return [name for name in vars(hookspecs) if name.startswith("register_")]


def _name(plugin: object) -> str:
    return repr(getattr(plugin, "__name__", plugin))
