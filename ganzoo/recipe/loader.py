"""Recipe loading: the file and everything it ``extends``, then the command-line overrides,
then validation (stages 1 and 2 of loading here; 3 and 4 in :mod:`ganzoo.recipe.validation`)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml
from pydantic import ValidationError

from ganzoo.api.errors import Problem, RecipeError
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import bounded_yaml
from ganzoo.recipe.compatibility import compatibility_problems
from ganzoo.recipe.library import RecipeNotFound, not_found_message, resolve
from ganzoo.recipe.schema import COMPONENT_LISTS, COMPONENT_PATHS, DATA_KEYS, RESOLVED_ORDER, Recipe, RecipeModel
from ganzoo.recipe.sources import COMMAND_LINE, Sources
from ganzoo.recipe.validation import capture_problems, population_problems, pydantic_problems, resolve_components


def _is_component(path: tuple[str, ...]) -> bool:
    """Sections whose ``name`` picks a component (and whose other keys are its options),
    items of the lists of components (``callbacks.0``) included."""
    if path and path[-1].isdigit() and path[:-1] in COMPONENT_LISTS:
        return True
    return path in COMPONENT_PATHS


def _renames_component(path: tuple[str, ...], old: Any, new: Any) -> bool:
    return (
        _is_component(path)
        and isinstance(old, dict)
        and isinstance(new, dict)
        and new.get("name", old.get("name")) != old.get("name")
    )


def _merge(base: dict[str, Any], update: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Deep merge; a component section whose ``name`` changes is replaced, not merged,
    because the old component's options mean nothing to the new one. Lists are replaced."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        old, here = merged.get(key), (*path, key)
        if isinstance(old, dict) and isinstance(value, dict) and not _renames_component(here, old, value):
            merged[key] = _merge(old, value, here)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, problems: list[Problem]) -> Optional[dict[str, Any]]:
    where = _display(path)
    try:
        text = bounded_yaml.read_text(path)  # a regular file of bounded size: never /dev/zero or a FIFO
    except FileNotFoundError:
        problems.append(Problem(where, "", "file not found"))
        return None
    except (OSError, UnicodeDecodeError, bounded_yaml.BoundError) as error:
        problems.append(Problem(where, "", f"cannot read: {error}"))
        return None
    try:
        tree = bounded_yaml.load(text)  # bounded depth and expansion, string keys only
    except bounded_yaml.BoundError as error:
        problems.append(Problem(where, error.key, str(error)))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.append(Problem(where, "", f"invalid YAML at {at}{reason}"))
        return None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        problems.append(Problem(where, "", f"a recipe must be a mapping of sections, got {type(tree).__name__}"))
        return None
    if tree and not set(tree) & RECIPE_KEYS:  # not a recipe: its keys are not repeated back (they may be secrets)
        sections = ", ".join(sorted(RECIPE_KEYS))
        problems.append(
            Problem(where, "", f"not a ganzoo recipe: none of its {len(tree)} top-level key(s) is one of {sections}")
        )
        return None
    return tree


RECIPE_KEYS = {*RecipeModel.model_fields, "extends"}
"""The keys a recipe file's top level may hold."""


def _read_chain(
    path: Path, registry: Registry, sources: Sources, problems: list[Problem], chain: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """The file merged over everything it extends, bases first."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(_display(p) for p in (*chain, path))
        problems.append(Problem(_display(chain[-1]), "extends", f"circular extends: {cycle}"))
        return {}
    tree = _read_yaml(path, problems)
    if tree is None:
        return {}
    bases = tree.pop("extends", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        problems.append(Problem(_display(path), "extends", "expected a file name or a list of file names"))
        bases = []
    merged: dict[str, Any] = {}
    for base in bases:
        found = _base(registry, base, path, problems)
        if found is not None:
            merged = _merge(merged, _read_chain(found, registry, sources, problems, (*chain, path)))
    sources.record(tree, _display(path))
    return _merge(merged, tree)


def _base(registry: Registry, base: str, recipe: Path, problems: list[Problem]) -> Optional[Path]:
    """The file ``extends: base`` of ``recipe`` names (a path relative to the recipe's folder,
    or a shipped recipe's name), or None with a problem that says how it was looked for."""
    try:
        found = resolve(registry, base, recipe.parent)
    except RecipeNotFound as error:
        problems.append(Problem(_display(recipe), "extends", str(error)))
        return None
    if found.exists():
        return found
    where = f"a path in extends: is relative to the folder of the recipe that has it, so this one names {_display(Path(os.path.normpath(found)))}"
    problems.append(Problem(_display(recipe), "extends", f"{base!r}: {where}: {not_found_message(registry, base)}"))
    return None


def parse_overrides(overrides: Iterable[str], problems: list[Problem]) -> list[tuple[list[str], Any]]:
    """``a.b=value`` pairs; values are YAML scalars or flow collections (``[1, 2]``)."""
    parsed = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if len(key) > bounded_yaml.MAX_KEY:
            problems.append(
                Problem(
                    COMMAND_LINE,
                    "",
                    f"an override key of {len(key):,} characters; keys are at most {bounded_yaml.MAX_KEY}",
                )
            )
            continue
        parts = key.strip().split(".")
        if not sep or not all(parts):
            problems.append(Problem(COMMAND_LINE, item, "expected an override of the form section.key=value"))
            continue
        try:
            value = bounded_yaml.load(raw) if raw.strip() else None
        except bounded_yaml.BoundError as error:
            problems.append(Problem(COMMAND_LINE, key, str(error)))
            continue
        except yaml.YAMLError as error:
            problems.append(
                Problem(COMMAND_LINE, key, f"cannot parse value {raw!r}: {getattr(error, 'problem', error)}")
            )
            continue
        parsed.append((parts, value))
    return parsed


def _item(items: list[Any], part: str, where: str, key: str, problems: list[Problem]) -> Optional[int]:
    """The index ``part`` names in the list at ``where``; None (and a problem) when it names none."""
    if not part.isdigit():
        problems.append(Problem(COMMAND_LINE, key, f"{where} is a list: expected an item number, got {part!r}"))
        return None
    if int(part) >= len(items):
        problems.append(
            Problem(
                COMMAND_LINE,
                key,
                f"{where} has {len(items)} item(s), so no item {part}; set the whole list ({where}=[...]) to add one",
            )
        )
        return None
    return int(part)


def _apply_override(tree: dict[str, Any], parts: list[str], value: Any, problems: list[Problem]) -> bool:
    """Set one dotted key (a number picks an item of a list: ``callbacks.0.every``); True when
    it replaced a whole component section."""
    key = ".".join(parts)
    node: Any = tree
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth])
        if isinstance(node, list):
            index = _item(node, part, where, key, problems)
            if index is None:
                return False
            here: Any = index
        elif depth + 1 < len(parts) and part not in node and parts[depth + 1].isdigit():
            problems.append(
                Problem(
                    COMMAND_LINE,
                    key,
                    f"{'.'.join(parts[: depth + 1])} is not set, so it has no item "
                    f"{parts[depth + 1]}; set the whole list to add one",
                )
            )
            return False
        else:
            here = part
        if depth + 1 == len(parts):
            break
        if isinstance(node, dict):
            node.setdefault(here, {})
        if not isinstance(node[here], (dict, list)):
            where = ".".join(parts[: depth + 1])
            problems.append(
                Problem(COMMAND_LINE, key, f"{where} is a value ({type(node[here]).__name__}), not a section")
            )
            return False
        node = node[here]
    replaced = (
        parts[-1] == "name"
        and _is_component(tuple(parts[:-1]))
        and isinstance(node, dict)
        and node.get("name") != value
    )
    if replaced:
        node.clear()  # a different component: the old one's options do not apply
    node[here] = value
    return replaced


def load_recipe(path: str | Path, registry: Registry, overrides: Iterable[str] = ()) -> Recipe:
    """Read, compose, override and validate a recipe; raise :class:`RecipeError` listing
    every problem found."""
    problems: list[Problem] = []
    try:
        path = resolve(registry, str(path), Path())
    except RecipeNotFound as error:
        raise RecipeError([Problem(str(path), "", str(error))]) from None
    sources = Sources(_display(path))
    if path.exists() or path.is_symlink():
        tree = _read_chain(path, registry, sources, problems)
    else:  # neither a file nor a shipped recipe's name: say which names exist
        problems.append(Problem(_display(path), "", not_found_message(registry, str(path))))
        tree = {}
    for parts, value in parse_overrides(overrides, problems):
        if _apply_override(tree, parts, value, problems):  # a new component: its whole section is the command line's
            sources.record({"name": value}, COMMAND_LINE, ".".join(parts[:-1]))
        else:
            sources.record(value, COMMAND_LINE, ".".join(parts))
    try:
        bounded_yaml.check_tree(tree)  # every file was within bounds; their merge with the overrides must be too
    except bounded_yaml.BoundError as error:
        problems.append(Problem(sources.of(error.key), error.key, str(error)))
    if problems:  # nothing sensible to validate in a file that could not be read
        raise RecipeError(problems)
    return _validated(tree, path, sources, registry)


def derive(recipe: Recipe, registry: Registry, overrides: Iterable[str]) -> Recipe:
    """``recipe`` with ``overrides`` applied over its resolved keys, validated again (a
    member of a population, say); problems name the recipe's file."""
    problems: list[Problem] = []
    tree = copy.deepcopy(recipe.resolved)
    for parts, value in parse_overrides(overrides, problems):
        _apply_override(tree, parts, value, problems)
    if problems:
        raise RecipeError(problems)
    return _validated(tree, recipe.path, Sources(_display(recipe.path)), registry)


def override_text(key: str, value: Any) -> str:
    """``key=value`` with the value written as YAML reads it back (``[0.5, 0.999]``, ``bce``)."""
    return f"{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"


def _validated(tree: dict[str, Any], path: Path, sources: Sources, registry: Registry) -> Recipe:
    """Stages 3 and 4: the composed tree validated, its components resolved and checked."""
    problems: list[Problem] = []
    config = None
    try:
        config = RecipeModel.model_validate(tree)
    except ValidationError as error:
        problems.extend(pydantic_problems(error, RecipeModel, "", sources))
    components = resolve_components(tree, registry, sources, problems)
    if not problems:  # components that exist, with valid options: do they fit together?
        problems.extend(compatibility_problems(components, registry, sources.of))
    if problems or config is None:
        raise RecipeError(problems)
    sections = config.model_dump(mode="json")
    resolved = {**sections, **components, "eval": {**sections["eval"], **components["eval"]}}
    resolved["data"].update({key: sections["data"][key] for key in DATA_KEYS if key in resolved["data"]})
    problems.extend(capture_problems(config, resolved, registry, sources))
    problems.extend(population_problems(config, resolved, registry, sources))
    if problems:
        raise RecipeError(problems)
    return Recipe(path=path, config=config, resolved={key: resolved[key] for key in RESOLVED_ORDER})
