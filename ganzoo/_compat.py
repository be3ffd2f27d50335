"""Module paths from before the package had sub-packages, kept importable with a warning.

``import ganzoo.components`` (or ``from ganzoo.registry import Registry``) still works: the
old name is served the module that holds those names now, and a ``DeprecationWarning`` says
where to import from instead. Plugins import ``ganzoo`` itself, whose names never moved;
these paths are for code written against the old modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Optional, Sequence

MOVED = {
    "ganzoo.bounded_yaml": "ganzoo.recipe.bounded_yaml",
    "ganzoo.callback": "ganzoo.api",
    "ganzoo.callback_state": "ganzoo.train.callbacks",
    "ganzoo.checkpoint": "ganzoo.runfolder.checkpoints",
    "ganzoo.compatibility": "ganzoo.recipe.compatibility",
    "ganzoo.components": "ganzoo.api",
    "ganzoo.core_plugin": "ganzoo.plugins.builtin",
    "ganzoo.cuda_graph": "ganzoo.train.capture",
    "ganzoo.curves": "ganzoo.viz.curves",
    "ganzoo.data": "ganzoo.train.batches",
    "ganzoo.destinations": "ganzoo.files.safe",
    "ganzoo.devices": "ganzoo.train.devices",
    "ganzoo.distributed": "ganzoo.train.distributed",
    "ganzoo.divergence": "ganzoo.train.divergence",
    "ganzoo.errors": "ganzoo.api.errors",
    "ganzoo.evaluation": "ganzoo.inference.evaluation",
    "ganzoo.hookspecs": "ganzoo.api.hookspecs",
    "ganzoo.jsonl": "ganzoo.runfolder.jsonl",
    "ganzoo.layers": "ganzoo.api.layers",
    "ganzoo.log_window": "ganzoo.train.log_window",
    "ganzoo.metrics": "ganzoo.api.metrics",
    "ganzoo.network": "ganzoo.files.downloads",
    "ganzoo.optim": "ganzoo.plugins.builtin.optimizers",
    "ganzoo.outputs": "ganzoo.run.outputs",
    "ganzoo.registry": "ganzoo.plugins.registry",
    "ganzoo.report": "ganzoo.viz.report",
    "ganzoo.rng": "ganzoo.train.rng",
    "ganzoo.runlock": "ganzoo.runfolder.lock",
    "ganzoo.sampling": "ganzoo.inference",
    "ganzoo.scalars": "ganzoo.api.scalars",
    "ganzoo.schedules": "ganzoo.plugins.builtin.schedules",
    "ganzoo.step": "ganzoo.train.step",
    "ganzoo.step_log": "ganzoo.runfolder.step_log",
    "ganzoo.trainer": "ganzoo.train.loop",
    "ganzoo.translate": "ganzoo.inference.translate",
    "ganzoo.video": "ganzoo.viz.video",
    "ganzoo.visualize": "ganzoo.viz.grids",
    "ganzoo.wandb_report": "ganzoo.viz.wandb_report",
    "ganzoo.weights": "ganzoo.runfolder.weights",
}
"""Old module path -> the module that serves it now."""


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as its new module (the same module object)."""

    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]], target: Optional[types.ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return types.ModuleType(spec.name)  # replaced in exec_module

    def exec_module(self, module: types.ModuleType) -> None:
        new = MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} moved to {new}; import from there (or from ganzoo itself)",
            DeprecationWarning,
            stacklevel=2,
        )
        sys.modules[module.__name__] = importlib.import_module(new)  # the import system returns this one


def install() -> None:
    """Serve the old paths (once per process)."""
    if not any(isinstance(finder, _Moved) for finder in sys.meta_path):
        sys.meta_path.append(_Moved())
