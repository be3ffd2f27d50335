"""``ganzoo check``: validate a recipe, every problem at once, without training."""

from __future__ import annotations

import argparse
import sys

from ganzoo.commands.arguments import EPILOG, add_overrides
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import load_recipe
from ganzoo.recipe.population import members

NAME = "check"
HELP = "validate a recipe without training"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("recipe", help="path to a recipe YAML file")
    add_overrides(parser)
    parser.add_argument("--print", action="store_true", dest="show", help="print the fully resolved recipe")


def execute(args: argparse.Namespace, registry: Registry) -> int:
    recipe = load_recipe(args.recipe, registry, args.overrides)
    if recipe.config.train.population > 1:
        members(recipe, registry)  # each member's values make a valid recipe of its own
    if args.show:
        print(recipe.to_yaml(), end="")
    print(f"{args.recipe}: ok", file=sys.stderr if args.show else sys.stdout)
    return 0
