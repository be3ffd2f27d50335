"""``ganzoo run``: train the GAN a recipe describes, or resume a run (``--resume RUN``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ganzoo.commands.arguments import EPILOG, add_overrides, positive_at_most
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import Recipe, load_recipe
from ganzoo.runfolder.layout import RunFolder

NAME = "run"
HELP = "train the GAN a recipe describes"
MAX_PROCESSES = 1024
"""Most processes ``--nproc`` starts on one machine."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("recipe", nargs="?", help="path to a recipe YAML file (not with --resume)")
    add_overrides(parser)
    parser.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its latest checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--nproc",
        type=positive_at_most(MAX_PROCESSES, "processes"),
        metavar="N",
        help="train data-parallel in N processes on this machine (torchrun --standalone --nproc-per-node N)",
    )


def execute(args: argparse.Namespace, registry: Registry) -> int:
    if args.resume and args.recipe:
        if "=" not in args.recipe:
            print(
                "ganzoo run: give either a recipe or --resume RUN, not both (the run folder holds its recipe)",
                file=sys.stderr,
            )
            return 2
        args.overrides.insert(0, args.recipe)  # `run --resume RUN train.epochs=5`: an override, not a recipe
    elif not args.resume and not args.recipe:
        print("ganzoo run: a recipe is needed (or --resume RUN)", file=sys.stderr)
        return 2
    if args.nproc:
        return _launch(args, registry)
    return _train(args, registry)


def _train(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.run import RunInterrupted, resume_run, run_recipe  # torch-heavy: only when training

    main_rank = os.environ.get("RANK", "0") == "0"
    try:
        if args.resume:
            run = resume_run(Path(args.resume), registry, args.overrides, progress=not args.no_progress)
        else:
            recipe = load_recipe(args.recipe, registry, args.overrides)
            if recipe.config.train.population > 1:
                return _population(recipe, registry, not args.no_progress)
            run = run_recipe(recipe, registry, progress=not args.no_progress, announce=_announce)
    except RunInterrupted as stop:
        if main_rank:
            saved = f"checkpoint {stop.checkpoint}" if stop.checkpoint else "the last checkpoint"
            print(
                f"\nganzoo: interrupted at step {stop.step}; {saved} holds the whole state.\n"
                f"Resume with: ganzoo run --resume {stop.folder}",
                file=sys.stderr,
            )
        return stop.exit_status
    except KeyboardInterrupt:
        print(
            "\nganzoo: stopped at once. Every file written is whole: a run with checkpoints resumes with "
            "ganzoo run --resume <run folder>",
            file=sys.stderr,
        )
        return 130
    if run.folder is not None:
        if args.resume:  # a new run said its folder when it started
            print(f"run folder: {run.folder}")
        _say_where_to_look(RunFolder(run.folder))
    if run.wandb_folder:
        print(f"wandb ({run.wandb_mode}): {run.wandb_folder}")
    return 0


def _announce(folder: Path) -> None:
    """The run folder, as soon as it exists: its grids and curves fill in while training runs."""
    print(f"run folder: {folder}", flush=True)


def _say_where_to_look(layout: RunFolder) -> None:
    """The files that show what the run learned: its last sample grid and its progress video."""
    grids = layout.grids()
    if grids:
        print(f"last samples: {grids[-1][1]}")
    video = layout.video()
    if video is not None:
        print(f"progress video: {video}")


def _population(recipe: Recipe, registry: Registry, progress: bool) -> int:
    """``train.population: K``: K run folders; exit 1 when a member failed on its own."""
    from ganzoo.run.population import PopulationInterrupted, run_population

    try:
        population = run_population(recipe, registry, progress=progress)
    except PopulationInterrupted as stop:
        print(
            f"\nganzoo: interrupted at step {stop.step}; each member's last checkpoint holds its whole state.\n"
            "Resume a member alone with: ganzoo run --resume <its folder>, one of:",
            file=sys.stderr,
        )
        for folder in stop.folders:
            print(f"  {folder}", file=sys.stderr)
        return stop.exit_status
    for k, run in enumerate(population.runs):
        failed = population.failures.get(k)
        print(f"run folder: {run.folder}" + (f" (failed: {failed})" if failed else ""))
    for k, error in population.failures.items():
        print(f"ganzoo: member {k} failed: {error}", file=sys.stderr)
    return 1 if population.failures else 0


def _launch(args: argparse.Namespace, registry: Registry) -> int:
    """``run --nproc N``: check the recipe once here, then run the same command, without
    ``--nproc``, in N processes under torchrun."""
    from ganzoo.train.distributed import launch

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        print("ganzoo run: --nproc starts torchrun itself; under torchrun, leave it out", file=sys.stderr)
        return 2
    source = RunFolder(Path(args.resume)).saved_recipe() if args.resume else args.recipe
    batch = load_recipe(source, registry, args.overrides).config.train.batch_size
    if batch % args.nproc:
        print(
            f"ganzoo run: train.batch_size {batch} (the global batch) does not split evenly over {args.nproc} "
            f"processes; choose a multiple of {args.nproc}",
            file=sys.stderr,
        )
        return 2
    argv, skip = [], False
    for item in args.argv:
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            argv.append(item)
    return launch(args.nproc, argv)
