"""Plugins: the plugin manager (the ``ganzoo`` entry-point group), the registry of every
component they provide (the only caller of hooks), and the core's own plugin of bundled
optimisers and schedules (:mod:`ganzoo.plugins.builtin`)."""

from ganzoo.plugins.manager import CORE_PLUGIN, ENTRY_POINT_GROUP, hook_names, make_plugin_manager
from ganzoo.plugins.registry import KINDS, Entry, Registry, UnknownComponent, split_name

__all__ = [
    "CORE_PLUGIN",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "Entry",
    "Registry",
    "UnknownComponent",
    "hook_names",
    "make_plugin_manager",
    "split_name",
]
