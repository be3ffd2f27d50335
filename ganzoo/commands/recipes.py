"""``ganzoo recipes``: the recipes that ship with ganzoo and with the installed plugins, by
name. Any of these names works where a recipe path does: ``ganzoo run dcgan_mnist``."""

from __future__ import annotations

import argparse
import json

from ganzoo.plugins.registry import Registry
from ganzoo.recipe.library import named_recipes

NAME = "recipes"
HELP = "list the recipes that ship with ganzoo and its plugins (run one by name)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output, with each recipe's path")


def execute(args: argparse.Namespace, registry: Registry) -> int:
    recipes = named_recipes(registry)
    if args.json:
        rows = [{"name": r.name, "plugin": r.plugin, "summary": r.summary, "path": str(r.path)} for r in recipes]
        print(json.dumps(rows, indent=2))
        return 0
    width = max((len(r.name) for r in recipes), default=0)
    plugin_width = max((len(r.plugin) for r in recipes), default=0)
    for recipe in recipes:
        print(f"{recipe.name:<{width}}  {recipe.plugin:<{plugin_width}}  {recipe.summary}".rstrip())
    for plugin, folder in registry.recipe_folders.items():
        print(f"({plugin}'s recipes are in {folder})")
    print("Run one by name (ganzoo run NAME), see it whole (ganzoo check NAME --print), or extend it (extends: NAME).")
    return 0
