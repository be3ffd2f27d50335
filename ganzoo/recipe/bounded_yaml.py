"""YAML read within bounds: recipes come from anywhere, and ``yaml.safe_load`` alone
neither limits what it reads nor what a document expands to.

A few hundred bytes of anchors and aliases (a "billion laughs") load in milliseconds as
shared objects, then expand to billions of values as soon as anything walks, copies or
validates them; ``extends: /dev/zero`` never ends and a FIFO never answers; thousands of
nested brackets exhaust Python's recursion; a key such as ``5`` or ``true`` is no option
name. :func:`read_text` and :func:`load` refuse each of these, up front, with one line
(:class:`BoundError`) that names the limit and, where there is one, the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ganzoo.files import safe

MAX_BYTES = 1_000_000
"""Largest YAML file read (a recipe is a few kilobytes)."""
MAX_DEPTH = 64
"""Deepest nesting of sections, lists and mappings (a recipe nests four or five levels)."""
MAX_VALUES = 50_000
"""Most values a document may expand to, every alias counted as often as it is used."""
MAX_KEY = 200
"""Longest key, and longest dotted key of an override (a recipe's are a few dozen characters)."""


class BoundError(ValueError):
    """A YAML file or document over a limit; ``key`` is the dotted key where it was found."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def read_text(path: Path) -> str:
    """The text of ``path``, a regular file of at most :data:`MAX_BYTES`. Raises
    :class:`BoundError` for anything else (a device, a FIFO, a folder, a larger file), without
    reading it, so that nothing blocks; ``OSError`` and ``UnicodeDecodeError`` pass through."""
    try:
        return safe.read_text(path, limit=MAX_BYTES, what="recipe")
    except safe.UnsafeFile as error:
        raise BoundError(f"{error.reason}; a recipe is a YAML file of a few kilobytes") from None


def load(text: str) -> Any:
    """``yaml.safe_load(text)``, refused with :class:`BoundError` when it nests deeper than
    :data:`MAX_DEPTH`, expands to more than :data:`MAX_VALUES` values or has a key that is
    not a string. ``yaml.YAMLError`` passes through."""
    if len(text) > MAX_BYTES:
        raise BoundError(f"larger than {MAX_BYTES:,} characters; a recipe is a few kilobytes")
    if _flow_depth(text) > MAX_DEPTH or _block_depth(text) > MAX_DEPTH:
        raise BoundError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        tree = yaml.safe_load(text)
    except RecursionError:  # nesting that both counts missed (they are estimates)
        raise BoundError(f"nested more than {MAX_DEPTH} levels deep") from None
    check_tree(tree)
    return tree


def check_tree(tree: Any) -> None:
    """Walk ``tree`` as a full expansion would (without expanding it) and raise
    :class:`BoundError` at the first value past a limit, or at a key that is not a string."""
    seen = 0
    stack: list[tuple[Any, tuple[str, ...]]] = [(tree, ())]
    while stack:
        node, path = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise BoundError(
                f"expands to more than {MAX_VALUES:,} values (YAML aliases repeat what they point "
                f"at); a recipe has a few hundred",
                ".".join(path[:2]),
            )
        if len(path) > MAX_DEPTH:
            raise BoundError(f"nested more than {MAX_DEPTH} levels deep", ".".join(path[:MAX_DEPTH]))
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    shown = "null" if key is None else str(key).lower() if isinstance(key, bool) else repr(key)
                    raise BoundError(
                        f"keys must be names, got {type(key).__name__} {shown}", ".".join((*path, str(key)))
                    )
                if len(key) > MAX_KEY:
                    raise BoundError(f"a key of {len(key):,} characters; keys are at most {MAX_KEY}", ".".join(path))
                stack.append((value, (*path, key)))
        elif isinstance(node, list):
            stack.extend((value, (*path, str(index))) for index, value in enumerate(node))


def _flow_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside quotes and comments (an upper bound
    good enough to refuse a bracket bomb before the recursive parser sees it)."""
    depth = deepest = 0
    quote = ""
    comment = False
    for char in text:
        if comment:
            comment = char != "\n"
        elif quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _block_depth(text: str) -> int:
    """The deepest nesting by indentation (each deeper indentation, and each ``- `` that
    opens a list item, is a level): the parser recurses once per level, slowly."""
    indents: list[int] = []
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while indents and indents[-1] >= indent:
            indents.pop()
        indents.append(indent)
        dashes = 0
        while stripped.startswith("- "):
            dashes += 1
            stripped = stripped[2:].lstrip(" ")
        deepest = max(deepest, len(indents) + dashes)
    return deepest
