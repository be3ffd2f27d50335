"""The layout of the package: the module paths of earlier versions still import (with a
warning), the recipe layer imports nothing of the training engine, and ganzoo's top level
stays small enough to be read as the map of the architecture."""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

import ganzoo
from ganzoo._compat import MOVED

PACKAGE = Path(ganzoo.__file__).parent


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_an_old_module_path_imports_its_new_module_with_a_warning(old, new):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == [
        f"{old} moved to {new}; import from there (or from ganzoo itself)"
    ]


def test_old_names_are_served_where_a_plugin_may_have_imported_them():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ganzoo.components import Loss, StepContext
        from ganzoo.registry import Registry
        from ganzoo.step_log import StepLog

    assert (Loss, StepContext, StepLog) == (ganzoo.Loss, ganzoo.StepContext, ganzoo.StepLog)
    assert Registry.__module__ == "ganzoo.plugins.registry"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, as written (``from ganzoo.train import x`` -> ganzoo.train)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("layer", ["api", "files", "plugins", "recipe", "runfolder"])
def test_the_lower_layers_import_nothing_of_the_training_engine_or_above(layer):
    above = ("ganzoo.train", "ganzoo.run", "ganzoo.inference", "ganzoo.viz", "ganzoo.commands", "ganzoo.cli")
    found = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in _imports(path)
        if any(name == module or name.startswith(module + ".") for module in above)
    }
    assert not found, sorted(found)


def test_the_top_level_is_a_map_of_at_most_fifteen_entries():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 15, entries
