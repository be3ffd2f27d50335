"""``ganzoo plugins``: the installed plugins, their components and every option; with a NAME,
one plugin or one component."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import types
import typing
from typing import Any, Iterable, Optional

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ganzoo import __version__
from ganzoo.api.errors import GanzooError, unknown_name_message
from ganzoo.plugins.registry import CORE_PLUGIN, KINDS, Registry

NAME = "plugins"
HELP = "list installed plugins, their components and options (or one of them, by name)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help="show only this plugin, or this component (a name, or KIND:NAME)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


# --------------------------------------------------------------------------- types as a person writes them


def _bounds(metadata: Iterable[Any]) -> str:
    """``> 0``, ``>= 0``, ``in [0, 1)``: pydantic's constraints (``PositiveInt``,
    ``Field(ge=0, lt=1)``) as a reader writes them; other constraints are left out."""
    flat = [inner for item in metadata for inner in (item.metadata if isinstance(item, FieldInfo) else [item])]
    low: Optional[tuple[str, Any]] = None
    high: Optional[tuple[str, Any]] = None
    for item in flat:
        if isinstance(item, annotated_types.Gt):
            low = ("(", item.gt)
        elif isinstance(item, annotated_types.Ge):
            low = ("[", item.ge)
        elif isinstance(item, annotated_types.Lt):
            high = (")", item.lt)
        elif isinstance(item, annotated_types.Le):
            high = ("]", item.le)
    if low and high:
        return f"in {low[0]}{low[1]}, {high[1]}{high[0]}"
    if low:
        return f"{'>' if low[0] == '(' else '>='} {low[1]}"
    if high:
        return f"{'<' if high[0] == ')' else '<='} {high[1]}"
    return ""


def type_name(annotation: object, metadata: Iterable[Any] = ()) -> str:
    """``int > 0``, ``one of 'normal', 'uniform'``, ``float or null``, ``[float, float] in [0, 1)``:
    a type and its constraints as a user reads them."""
    bounds = _bounds(metadata)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0], [*args[1:], *metadata])
    if origin is typing.Literal:
        text = "one of " + ", ".join(repr(a) for a in args)
    elif origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else type_name(a) for a in args)
    elif origin is tuple and args and args[-1] is not Ellipsis:
        items = [type_name(a) for a in args]
        shared = {item.partition(" ")[2] for item in items}
        if len(shared) == 1 and shared != {""}:  # every item has the same bounds: say them once
            return f"[{', '.join(item.partition(' ')[0] for item in items)}] {shared.pop()}"
        text = f"[{', '.join(items)}]"
    elif origin in (list, tuple, typing.Sequence) or (origin is not None and origin.__name__ == "Sequence"):
        text = f"list of {type_name(args[0])}" if args else "list"
    elif origin is dict:
        text = f"mapping of {type_name(args[0])} to {type_name(args[1])}" if args else "mapping"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        text = "mapping"
    elif annotation is type(None):
        text = "null"
    else:
        text = getattr(annotation, "__name__", str(annotation).replace("typing.", ""))
    return f"{text} {bounds}" if bounds else text


# --------------------------------------------------------------------------- summaries


ROLE = re.compile(r":[a-z:]+:`~?([^`]+)`")


def plain_text(text: str) -> str:
    """reST markup as plain text: ``code``, *emphasis* and :class:`ganzoo.X` roles unwrapped."""
    text = ROLE.sub(lambda m: m.group(1), text)
    return re.sub(r"``([^`]+)``", r"\1", text)


def summary(cls: type) -> str:
    """The first paragraph of a component's docstring, whole, on one line, without markup."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    return plain_text(" ".join(doc.split("\n\n", 1)[0].split()))


# --------------------------------------------------------------------------- listing


def describe_options(model: type[BaseModel]) -> list[dict]:
    """The fields of an options model: name, type (as a person writes it), default, whether
    required, help text."""
    return [
        {
            "name": name,
            "type": type_name(field.annotation, field.metadata),
            "default": None if field.is_required() else field.get_default(call_default_factory=True),
            "required": field.is_required(),
            "help": field.description or "",
        }
        for name, field in model.model_fields.items()
    ]


def describe_plugins(registry: Registry) -> list[dict]:
    """Every component with its plugin, summary and options (name, type, default, help); an
    architecture that declares sampling options (``ganzoo sample --truncation``) lists them
    under ``sampling_options``."""
    rows = []
    for kind in KINDS:
        for entry in registry.entries(kind):
            row = {
                "kind": kind,
                "name": entry.name,
                "plugin": entry.plugin,
                "summary": summary(entry.cls),
                "options": describe_options(entry.cls.Options),
            }
            sampling = describe_options(getattr(entry.cls, "SamplingOptions", BaseModel))
            if sampling:
                row["sampling_options"] = sampling
            rows.append(row)
    return rows


def _select(components: list[dict], plugins: dict[str, Any], name: str) -> tuple[dict[str, Any], list[dict]]:
    """The plugins and components ``name`` picks: a plugin, or a component (``KIND:NAME`` when
    the name alone is in several kinds)."""
    if name in plugins:
        return {name: plugins[name]}, [c for c in components if c["plugin"] == name]
    kind, _, component = name.rpartition(":")
    chosen = [c for c in components if c["name"] == component and kind in ("", c["kind"])]
    return {c["plugin"]: plugins[c["plugin"]] for c in chosen}, chosen


def _print_option(option: dict, label: str = "") -> None:
    default = "required" if option["required"] else f"default {option['default']!r}"
    help_text = f"  {option['help']}" if option["help"] else ""
    print(f"      {label}{option['name']} ({option['type']}, {default}){help_text}")


def _print(plugins: dict[str, Any], components: list[dict]) -> None:
    for plugin, distribution in plugins.items():
        print(f"{plugin} ({distribution or 'not installed from a package'})")
        for row in (r for r in components if r["plugin"] == plugin):
            print(f"  {row['kind']} {row['name']}: {row['summary']}")
            for option in row["options"]:
                _print_option(option)
            for option in row.get("sampling_options", []):
                _print_option(option, "sampling option ")


def execute(args: argparse.Namespace, registry: Registry) -> int:
    components = describe_plugins(registry)
    core = {CORE_PLUGIN: f"the core, ganzoo {__version__}"}  # its bundled optimisers and schedules
    plugins: dict[str, Any] = {**core, **registry.plugins}
    if args.name:
        plugins, components = _select(components, plugins, args.name)
        if not plugins:
            known = sorted({*registry.plugins, *(c["name"] for c in describe_plugins(registry))})
            raise GanzooError(unknown_name_message("plugin or component", args.name, known))
    if args.json:
        listed = [{"name": p, "distribution": d} for p, d in plugins.items()]
        print(json.dumps({"plugins": listed, "components": components}, indent=2, default=str))
        return 0
    if not registry.plugin_names and not args.name:
        print("no plugins installed (pip install -e plugins/ganzoo_vanilla -e plugins/ganzoo_datasets)")
    _print(plugins, components)
    return 0
