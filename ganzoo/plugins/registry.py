"""Components by kind and name, with the plugin that provided each.

Only the registry calls hooks. Everything else asks the registry for a class by name.

The kinds, as ``registry.get(kind, name)`` and ``registry.names(kind)`` take them, are the
keys of :data:`KINDS`: ``architecture``, ``loss``, ``dataset``, ``callback``, ``metric``,
``feature_extractor``, ``optimizer`` and ``schedule``. Any other kind is a
:class:`ganzoo.GanzooError` that lists them.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, overload

import pluggy
from pydantic import BaseModel

from ganzoo.api import (
    Architecture,
    Augment,
    Callback,
    Component,
    Dataset,
    FeatureExtractor,
    Loss,
    Metric,
    Optimizer,
    Schedule,
)
from ganzoo.api.errors import GanzooError, unknown_name_message
from ganzoo.plugins.manager import CORE_PLUGIN

# kind -> (hook that registers it, base class its components derive from)
KINDS: dict[str, tuple[str, type[Component]]] = {
    "architecture": ("register_architectures", Architecture),
    "loss": ("register_losses", Loss),
    "augmentation": ("register_augmentations", Augment),
    "dataset": ("register_datasets", Dataset),
    "callback": ("register_callbacks", Callback),
    "metric": ("register_metrics", Metric),
    "feature_extractor": ("register_feature_extractors", FeatureExtractor),
    "optimizer": ("register_optimizers", Optimizer),
    "schedule": ("register_schedules", Schedule),
}


@dataclass(frozen=True)
class Entry:
    """A registered component class and the plugin that registered it."""

    kind: str
    cls: type[Component]
    plugin: str

    @property
    def name(self) -> str:
        return self.cls.name


def split_name(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, options)`` of a component spec such as ``{name: adam, lr: 0.0002}``: the one
    place a recipe's ``{name, **options}`` form is taken apart."""
    options = dict(spec)
    return options.pop("name"), options


class UnknownComponent(GanzooError):
    """A name that no installed plugin registered for that kind."""


def check_kind(kind: str) -> str:
    """``kind`` itself when it is one of :data:`KINDS`; otherwise one clear error naming them."""
    if kind not in KINDS:
        raise GanzooError(unknown_name_message("kind of component", kind, list(KINDS)))
    return kind


RECIPES_FOLDER = "recipes"
"""The folder, inside a plugin's package, whose ``*.yaml`` files are the recipes it ships."""


def recipe_folder(plugin: object) -> Optional[Path]:
    """The ``recipes/`` folder of a plugin's package (the module its entry point names), or
    None when it has none: the convention by which a plugin ships recipes."""
    if not hasattr(plugin, "__path__"):  # a plain module, or an object with hook implementations
        return None
    folder = Path(str(importlib.resources.files(plugin.__name__) / RECIPES_FOLDER))  # type: ignore[attr-defined]
    return folder if folder.is_dir() else None


def bundled_recipes() -> Path:
    """The recipes that ship with ganzoo itself (the data package ``ganzoo.recipes``)."""
    return Path(str(importlib.resources.files("ganzoo.recipes")))


class Registry:
    """Holds every available component; a recipe picks which become active."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        self.plugins: dict[str, Optional[str]] = {}
        """Installed plugin name -> ``distribution version`` it came from (None if none)."""
        self.recipe_folders: dict[str, Path] = {CORE_PLUGIN: bundled_recipes()}
        """Plugin name -> the folder of the recipes it ships (``ganzoo``: the bundled ones)."""

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> "Registry":
        registry = cls()
        distributions = {pm.get_name(p): f"{d.project_name} {d.version}" for p, d in pm.list_plugin_distinfo()}
        names = sorted(name for name in map(pm.get_name, pm.get_plugins()) if name and name != CORE_PLUGIN)
        registry.plugins = {name: distributions.get(name) for name in names}  # the core is not an installed plugin
        for plugin in pm.get_plugins():
            name, folder = pm.get_name(plugin), recipe_folder(plugin)
            if name in registry.plugins and folder is not None:
                registry.recipe_folders[name] = folder
        for kind, (hook_name, _) in KINDS.items():
            hook = getattr(pm.hook, hook_name)
            # Each implementation is called on its own so that every component is recorded
            # with the plugin that provided it; arguments go by the names it asks for.
            for impl in reversed(hook.get_hookimpls()):
                kwargs = {"register": lambda c, k=kind, p=impl.plugin_name: registry.add(k, c, p)}
                impl.function(**{name: kwargs[name] for name in impl.argnames})
        return registry

    def add(self, kind: str, component: type, plugin: str = "<python>") -> None:
        """Register ``component`` under its ``name``; checks the class is well formed."""
        base = KINDS[check_kind(kind)][1]
        where = f"plugin {plugin!r} registered {component!r} as a {kind}"
        if not (isinstance(component, type) and issubclass(component, base)):
            raise GanzooError(f"{where}, but it is not a subclass of ganzoo.{base.__name__}")
        if not component.name or not isinstance(component.name, str):
            raise GanzooError(f"{where}, but it has no `name`")
        if not (isinstance(component.Options, type) and issubclass(component.Options, BaseModel)):
            raise GanzooError(f"{where}, but its `Options` is not a pydantic model")
        existing = self._entries[kind].get(component.name)
        if existing is not None and existing.cls is not component:
            raise GanzooError(
                f"{kind} {component.name!r} is registered twice: by plugin {existing.plugin!r} and by plugin {plugin!r}"
            )
        self._entries[kind][component.name] = Entry(kind, component, plugin)

    # One overload per kind of KINDS, so that callers get the kind's base class, not Component.
    @overload
    def get(self, kind: Literal["architecture"], name: str) -> type[Architecture]: ...
    @overload
    def get(self, kind: Literal["loss"], name: str) -> type[Loss]: ...
    @overload
    def get(self, kind: Literal["augmentation"], name: str) -> type[Augment]: ...
    @overload
    def get(self, kind: Literal["dataset"], name: str) -> type[Dataset]: ...
    @overload
    def get(self, kind: Literal["callback"], name: str) -> type[Callback]: ...
    @overload
    def get(self, kind: Literal["metric"], name: str) -> type[Metric]: ...
    @overload
    def get(self, kind: Literal["feature_extractor"], name: str) -> type[FeatureExtractor]: ...
    @overload
    def get(self, kind: str, name: str) -> type[Component]: ...
    def get(self, kind: str, name: str) -> type[Component]:
        """The class registered as ``name`` of ``kind``; an unknown name says what exists."""
        return self.entry(kind, name).cls

    def entry(self, kind: str, name: str) -> Entry:
        try:
            return self._entries[check_kind(kind)][name]
        except KeyError:
            raise UnknownComponent(unknown_name_message(kind, name, self.names(kind))) from None

    @property
    def plugin_names(self) -> list[str]:
        return list(self.plugins)

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries[check_kind(kind)])

    def entries(self, kind: str) -> list[Entry]:
        return [self._entries[kind][name] for name in self.names(kind)]
