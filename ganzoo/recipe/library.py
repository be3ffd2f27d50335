"""Recipes found by name: the ones that ship with ganzoo and those that plugins ship.

A recipe's name is its file name without ``.yaml``. ganzoo's own recipes are the data package
``ganzoo.recipes`` (the repository's ``recipes/`` folder); a plugin ships recipes in a
``recipes/`` folder inside its package (:func:`ganzoo.plugins.registry.recipe_folder`). A
name works wherever a path does (``ganzoo run dcgan_mnist``, ``ganzoo check``,
``extends: dcgan_mnist``), and a path that exists always wins over a name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ganzoo.plugins.registry import CORE_PLUGIN, Registry
from ganzoo.recipe import bounded_yaml

SUFFIX = ".yaml"


@dataclass(frozen=True)
class NamedRecipe:
    """A recipe that ships with ganzoo or with a plugin."""

    name: str
    plugin: str
    """The plugin that ships it (``ganzoo`` for the bundled ones)."""
    path: Path

    @property
    def summary(self) -> str:
        """The first sentence of the recipe's header comment (what it trains), or ''."""
        try:
            text = bounded_yaml.read_text(self.path)
        except (OSError, UnicodeDecodeError, bounded_yaml.BoundError):
            return ""
        return first_sentence(header_comment(text))


def header_comment(text: str) -> str:
    """The first paragraph of the comment a recipe opens with, as one line (an indented
    comment line, such as an example command, ends it)."""
    words = []
    for line in text.splitlines():
        body = line[1:] if line.startswith("#") else None
        if body is None or not body.strip() or body.startswith("   "):
            break
        words.append(body.strip())
    return " ".join(words)


def first_sentence(text: str) -> str:
    """``text`` up to the end of its first sentence."""
    match = re.search(r"[.!?](?=\s|$)", text)
    return text[: match.end()] if match else text


def named_recipes(registry: Registry) -> list[NamedRecipe]:
    """Every recipe shipped by ganzoo and the installed plugins, by plugin then name."""
    recipes = []
    for plugin, folder in sorted(registry.recipe_folders.items(), key=lambda item: (item[0] != CORE_PLUGIN, item[0])):
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            if path.is_file():
                recipes.append(NamedRecipe(path.stem, plugin, path))
    return recipes


class RecipeNotFound(Exception):
    """A recipe reference that is neither a file nor a recipe's name; the message says why."""


def is_name(text: str) -> bool:
    """Whether ``text`` could be a recipe's name: a bare file name, with or without ``.yaml``."""
    return bool(text) and "/" not in text and "\\" not in text and text not in (".", "..")


def find_named(registry: Registry, text: str) -> Optional[Path]:
    """The shipped recipe named ``text`` (``dcgan_mnist`` or ``dcgan_mnist.yaml``), or None;
    a name that two plugins ship raises :class:`RecipeNotFound` naming both."""
    name = text.removesuffix(SUFFIX)
    matches = [recipe for recipe in named_recipes(registry) if recipe.name == name]
    if len(matches) > 1:
        shipped = " and ".join(f"{r.plugin} ({r.path})" for r in matches)
        raise RecipeNotFound(f"the recipe name {name!r} is shipped by {shipped}: give the path of the one you mean")
    return matches[0].path if matches else None


def resolve(registry: Registry, reference: str, relative_to: Path) -> Path:
    """The file a recipe reference names: ``relative_to / reference`` when it exists, else the
    shipped recipe of that name; :class:`RecipeNotFound` when neither exists."""
    path = relative_to / reference
    if path.exists() or not is_name(reference):
        return path
    return find_named(registry, reference) or path


def not_found_message(registry: Registry, reference: str) -> str:
    """Why a recipe reference found nothing: no such file and no recipe of that name, with
    the shipped recipe it probably meant (a path's file name, or a close name)."""
    name = Path(reference).name.removesuffix(SUFFIX)
    names = sorted({recipe.name for recipe in named_recipes(registry)})
    if not is_name(reference):
        if name in names:
            return f"file not found; the recipe {name!r} ships with {_shipper(registry, name)}: write just {name}"
        return "file not found"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"file not found, and no recipe is named {name!r}{hint} (`ganzoo recipes` lists them)"


def _shipper(registry: Registry, name: str) -> str:
    plugins = sorted({recipe.plugin for recipe in named_recipes(registry) if recipe.name == name})
    return " and ".join(plugins)
