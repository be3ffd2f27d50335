"""Which file (or the command line) set each key of a recipe: problems name it."""

from __future__ import annotations

from typing import Any

COMMAND_LINE = "command line"


class Sources:
    """Which file set each dotted key; problems are reported against it."""

    def __init__(self, default: str) -> None:
        self.default = default
        self._by_key: dict[str, str] = {}

    def record(self, tree: Any, source: str, prefix: str = "") -> None:
        if prefix:
            self._by_key[prefix] = source
        if isinstance(tree, dict):
            for key, value in tree.items():
                self.record(value, source, f"{prefix}.{key}" if prefix else str(key))

    def of(self, key: str) -> str:
        while key:
            if key in self._by_key:
                return self._by_key[key]
            key = key.rpartition(".")[0]
        return self.default
