"""The ``ganzoo`` command: run, check, report, plugins.

Exit status: 0 success, 1 an error the message explains (a failed run, a folder that is
not a run), 2 a bad recipe or bad command line, 130 interrupted by Ctrl-C, 143 stopped by
SIGTERM (both after writing a checkpoint).
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Optional, Sequence

from ganzoo import __version__
from ganzoo.errors import GanzooError, RecipeError
from ganzoo.plugins import make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo.registry import KINDS, Registry

EPILOG = "Overrides are dotted keys: ganzoo run recipes/vanilla_mnist.yaml train.epochs=3 data.root=../shared/data"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganzoo", description="A plugin-based GAN zoo for PyTorch.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"ganzoo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="train the GAN a recipe describes", epilog=EPILOG)
    run.add_argument("recipe", nargs="?", help="path to a recipe YAML file (not with --resume)")
    run.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. train.epochs=3")
    run.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its latest checkpoint")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    check = commands.add_parser("check", help="validate a recipe without training", epilog=EPILOG)
    check.add_argument("recipe", help="path to a recipe YAML file")
    check.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. train.epochs=3")
    check.add_argument("--print", action="store_true", dest="show", help="print the fully resolved recipe")

    report = commands.add_parser("report", help="write one HTML page that shows runs side by side")
    report.add_argument("runs", nargs="+", metavar="RUN", help="run folders, as `ganzoo run` prints them")
    report.add_argument("--out", default="report.html", metavar="PATH",
                        help="where to write the page (default: report.html in the current directory)")
    report.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    plugins = commands.add_parser("plugins", help="list installed plugins, their components and options")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    # Overrides may come after options too (`run r.yaml --no-progress train.epochs=3`).
    args, extra = parser.parse_known_args(argv)
    unknown = [item for item in extra if "=" not in item or item.startswith("-") or not hasattr(args, "overrides")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    try:
        registry = Registry.from_plugin_manager(make_plugin_manager())
        return COMMANDS[args.command](args, registry)
    except RecipeError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"ganzoo: {len(error.problems)} problem(s) in the recipe; nothing was run", file=sys.stderr)
        return 2
    except GanzooError as error:
        print(f"ganzoo: error: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.run import RunInterrupted, resume_run, run_recipe  # torch-heavy: only when training

    if args.resume and args.recipe:
        if "=" not in args.recipe:
            print("ganzoo run: give either a recipe or --resume RUN, not both (the run folder holds its recipe)",
                  file=sys.stderr)
            return 2
        args.overrides.insert(0, args.recipe)  # `run --resume RUN train.epochs=5`: an override, not a recipe
    elif not args.resume and not args.recipe:
        print("ganzoo run: a recipe is needed (or --resume RUN)", file=sys.stderr)
        return 2
    try:
        if args.resume:
            run = resume_run(Path(args.resume), registry, args.overrides, progress=not args.no_progress)
        else:
            run = run_recipe(load_recipe(args.recipe, registry, args.overrides), registry, progress=not args.no_progress)
    except RunInterrupted as stop:
        saved = f"checkpoint {stop.checkpoint}" if stop.checkpoint else "the last checkpoint"
        print(f"\nganzoo: interrupted at step {stop.step}; {saved} holds the whole state.\n"
              f"Resume with: ganzoo run --resume {stop.folder}", file=sys.stderr)
        return stop.exit_status
    except KeyboardInterrupt:
        print("\nganzoo: stopped at once. Every file written is whole: a run with checkpoints resumes with "
              "ganzoo run --resume <run folder>", file=sys.stderr)
        return 130
    print(f"run folder: {run.folder}")
    if run.wandb_folder:
        print(f"wandb ({run.wandb_mode}): {run.wandb_folder}")
    return 0


def _check(args: argparse.Namespace, registry: Registry) -> int:
    recipe = load_recipe(args.recipe, registry, args.overrides)
    if args.show:
        print(recipe.to_yaml(), end="")
    print(f"{args.recipe}: ok", file=sys.stderr if args.show else sys.stdout)
    return 0


def _report(args: argparse.Namespace, registry: Registry) -> int:
    from pathlib import Path

    from ganzoo.report import build_report

    out = build_report([Path(run) for run in args.runs], Path(args.out), progress=not args.no_progress)
    print(f"report: {out}")
    return 0


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


def describe_plugins(registry: Registry) -> list[dict]:
    """Every component with its plugin, summary and options (name, type, default, help)."""
    rows = []
    for kind in KINDS:
        for entry in registry.entries(kind):
            options = []
            for name, field in entry.cls.Options.model_fields.items():
                options.append({
                    "name": name,
                    "type": type_name(field.annotation),
                    "default": None if field.is_required() else field.get_default(call_default_factory=True),
                    "required": field.is_required(),
                    "help": field.description or "",
                })
            doc = (entry.cls.__doc__ or "").strip().splitlines()
            rows.append({"kind": kind, "name": entry.name, "plugin": entry.plugin,
                         "summary": doc[0] if doc else "", "options": options})
    return rows


def _plugins(args: argparse.Namespace, registry: Registry) -> int:
    components = describe_plugins(registry)
    if args.json:
        plugins = [{"name": p, "distribution": d} for p, d in registry.plugins.items()]
        print(json.dumps({"plugins": plugins, "components": components}, indent=2, default=str))
        return 0
    if not registry.plugin_names:
        print("no plugins installed (pip install -e plugins/ganzoo_vanilla -e plugins/ganzoo_datasets)")
    for plugin, distribution in registry.plugins.items():
        print(f"{plugin} ({distribution or 'not installed from a package'})")
        for row in (r for r in components if r["plugin"] == plugin):
            print(f"  {row['kind']} {row['name']}: {row['summary']}")
            for option in row["options"]:
                default = "required" if option["required"] else f"default {option['default']!r}"
                help_text = f"  {option['help']}" if option["help"] else ""
                print(f"      {option['name']} ({option['type']}, {default}){help_text}")
    return 0


COMMANDS = {"run": _run, "check": _check, "report": _report, "plugins": _plugins}


def entry_point() -> None:  # pragma: no cover - the console script
    sys.exit(main())
