"""``ganzoo plugins``: the installed plugins, their components and every option."""

from __future__ import annotations

import argparse
import json
import types
import typing

from pydantic import BaseModel

from ganzoo import __version__
from ganzoo.plugins.registry import CORE_PLUGIN, KINDS, Registry

NAME = "plugins"
HELP = "list installed plugins, their components and options"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def type_name(annotation: object) -> str:
    """``int``, ``one of 'normal', 'uniform'``, ``float or null``: types as a user reads them."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else type_name(a) for a in args)
    if origin is not None:
        return str(annotation).replace("typing.", "")
    return getattr(annotation, "__name__", str(annotation))


def describe_options(model: type[BaseModel]) -> list[dict]:
    """The fields of an options model: name, type, default, whether required, help text."""
    return [
        {
            "name": name,
            "type": type_name(field.annotation),
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
            doc = (entry.cls.__doc__ or "").strip().splitlines()
            row = {
                "kind": kind,
                "name": entry.name,
                "plugin": entry.plugin,
                "summary": doc[0] if doc else "",
                "options": describe_options(entry.cls.Options),
            }
            sampling = describe_options(getattr(entry.cls, "SamplingOptions", BaseModel))
            if sampling:
                row["sampling_options"] = sampling
            rows.append(row)
    return rows


def _print_option(option: dict, label: str = "") -> None:
    default = "required" if option["required"] else f"default {option['default']!r}"
    help_text = f"  {option['help']}" if option["help"] else ""
    print(f"      {label}{option['name']} ({option['type']}, {default}){help_text}")


def execute(args: argparse.Namespace, registry: Registry) -> int:
    components = describe_plugins(registry)
    if args.json:
        plugins = [{"name": p, "distribution": d} for p, d in registry.plugins.items()]
        print(json.dumps({"plugins": plugins, "components": components}, indent=2, default=str))
        return 0
    if not registry.plugin_names:
        print("no plugins installed (pip install -e plugins/ganzoo_vanilla -e plugins/ganzoo_datasets)")
    core = {CORE_PLUGIN: f"the core, ganzoo {__version__}"}  # its bundled optimisers and schedules
    for plugin, distribution in {**core, **registry.plugins}.items():
        print(f"{plugin} ({distribution or 'not installed from a package'})")
        for row in (r for r in components if r["plugin"] == plugin):
            print(f"  {row['kind']} {row['name']}: {row['summary']}")
            for option in row["options"]:
                _print_option(option)
            for option in row.get("sampling_options", []):
                _print_option(option, "sampling option ")
    return 0
