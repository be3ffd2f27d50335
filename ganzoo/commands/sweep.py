"""``ganzoo sweep``: a hyperparameter search over a recipe's keys, on Optuna. Each trial is an
ordinary run folder (one per seed); the study lives in the sweep folder (SQLite) or in a
database several workers share (``--storage``); the same command continues a sweep."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganzoo.commands.arguments import EPILOG, add_overrides
from ganzoo.plugins.registry import Registry

NAME = "sweep"
HELP = "search a recipe's hyperparameters (Optuna): trials as run folders, resumable, shareable by workers"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("recipe", help="path to the recipe every trial trains")
    add_overrides(parser, "dotted overrides of the recipe, e.g. data.root=~/data")
    parser.add_argument("--space", required=True, metavar="SPACE.yaml", help="the sweep file: space, budget, metric")
    parser.add_argument(
        "--dir", default="sweeps", metavar="DIR", help="parent folder of sweep folders (default: sweeps)"
    )
    parser.add_argument(
        "--name", help="the sweep folder's name (default: RECIPE-SPACE, so that the command continues it)"
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="a database Optuna can reach (e.g. postgresql://...): workers on it share the study",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide each run's progress bar")


def execute(args: argparse.Namespace, registry: Registry) -> int:
    try:
        import optuna  # noqa: F401 - only checks that it is installed
    except ImportError:
        print("ganzoo sweep: needs Optuna: pip install optuna", file=sys.stderr)
        return 1
    from ganzoo.run.signals import RunInterrupted
    from ganzoo.run.sweep import SweepFolder, run_sweep

    recipe, space = Path(args.recipe), Path(args.space)
    folder = SweepFolder(Path(args.dir) / (args.name or f"{recipe.stem}-{space.stem}"))
    try:
        study = run_sweep(
            recipe,
            space,
            registry,
            folder,
            overrides=args.overrides,
            storage=args.storage,
            progress=not args.no_progress,
        )
    except RunInterrupted as stop:
        print(f"\nganzoo sweep: interrupted; run the same command again to continue {folder.path}", file=sys.stderr)
        return stop.exit_status
    print(f"sweep folder: {folder.path}")
    complete = [t for t in study.trials if t.value is not None]
    if complete:
        best = study.best_trial
        print(f"best trial {best.number}: {best.value:.6g} ({', '.join(f'{k}={v}' for k, v in best.params.items())})")
        print(f"its runs: {', '.join(best.user_attrs.get('runs', []))}")
    return 0
