"""The ``ganzoo`` command: run, check, sample, translate, eval, report, plugins.

Exit status: 0 success, 1 an error the message explains (a failed run, a folder that is
not a run), 2 a bad recipe or bad command line, 130 interrupted by Ctrl-C, 143 stopped by
SIGTERM (both after writing a checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import types
import typing
from pathlib import Path
from typing import Optional, Sequence

from ganzoo import __version__
from ganzoo.errors import GanzooError, RecipeError
from ganzoo.plugins import make_plugin_manager
from ganzoo.recipe import load_recipe, saved_recipe
from ganzoo.registry import CORE_PLUGIN, KINDS, Registry

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
    run.add_argument(
        "--nproc",
        type=_positive,
        metavar="N",
        help="train data-parallel in N processes on this machine (torchrun --standalone --nproc-per-node N)",
    )

    check = commands.add_parser("check", help="validate a recipe without training", epilog=EPILOG)
    check.add_argument("recipe", help="path to a recipe YAML file")
    check.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. train.epochs=3")
    check.add_argument("--print", action="store_true", dest="show", help="print the fully resolved recipe")

    sample = commands.add_parser("sample", help="draw samples, a grid or interpolation strips from a trained generator")
    sample.add_argument(
        "source", metavar="RUN", help="a run folder (its weights.pt, else its newest checkpoint) or a checkpoint file"
    )
    sample.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="overrides of the run's recipe, e.g. device=cpu"
    )
    what = sample.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--n",
        type=_positive,
        metavar="N",
        help="N samples to an .npz file (key images: uint8, (N, H, W) or (N, H, W, C))",
    )
    what.add_argument("--grid", metavar="ROWSxCOLS", help="a PNG grid of samples, e.g. 8x8")
    what.add_argument(
        "--interpolate", type=_positive, metavar="STEPS", help="a PNG of latent interpolation strips, STEPS images each"
    )
    what.add_argument(
        "--vary",
        metavar="CODE",
        help="a PNG whose rows walk along one latent code (infoGAN's c1, c2, ...), "
        "the rest of the latent fixed per row",
    )
    sample.add_argument(
        "--out", metavar="PATH", help="output file (default: samples.npz, grid.png, interpolation.png or vary.png)"
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of the latents (default 0)")
    sample.add_argument(
        "--class",
        type=int,
        dest="class_index",
        metavar="K",
        help="condition every sample on class K (class-conditional models only)",
    )
    sample.add_argument("--strips", type=_positive, default=8, help="interpolation strips or --vary rows (default 8)")
    sample.add_argument(
        "--steps",
        type=_positive,
        default=10,
        help="values of a continuous code per --vary row (default 10; a categorical code takes all its values)",
    )
    sample.add_argument(
        "--path",
        choices=["linear", "spherical"],
        default="linear",
        help="interpolation path between two latents (default linear)",
    )
    sample.add_argument("--trained", action="store_true", help=TRAINED_HELP)

    translate = commands.add_parser(
        "translate", help="apply a trained image-to-image generator (pix2pix) to image files"
    )
    translate.add_argument(
        "source", metavar="RUN", help="a run folder (its weights.pt, else its newest checkpoint) or a checkpoint file"
    )
    translate.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="overrides of the run's recipe, e.g. device=cpu"
    )
    translate.add_argument(
        "--input", required=True, metavar="FILE_OR_DIR", help="an image, or a folder of images, to translate"
    )
    translate.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the outputs: one PNG per input, same name and size"
    )
    translate.add_argument("--trained", action="store_true", help=TRAINED_HELP)

    evaluate = commands.add_parser("eval", help="measure a trained generator: FID, KID, IS, coverage, modes")
    evaluate.add_argument(
        "source", metavar="RUN", help="a run folder (its weights.pt, else its newest checkpoint) or a checkpoint file"
    )
    evaluate.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="overrides of the run's recipe, e.g. eval.extractors.inception.weights=PATH",
    )
    evaluate.add_argument(
        "--metrics",
        metavar="NAMES",
        help="comma-separated metrics (default: eval.metrics, else every default one that applies)",
    )
    evaluate.add_argument("--n", type=_positive, metavar="N", help="generated samples (default: eval.n, 10000)")
    evaluate.add_argument("--seed", type=int, help="seed of the samples (default: eval.seed, 0)")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.add_argument("--trained", action="store_true", help=TRAINED_HELP)
    evaluate.add_argument("--no-progress", action="store_true", help="hide progress bars")

    report = commands.add_parser("report", help="write one HTML page that shows runs side by side (and a W&B Report)")
    report.add_argument("runs", nargs="*", metavar="RUN", help="run folders, as `ganzoo run` prints them")
    report.add_argument(
        "--out",
        default="report.html",
        metavar="PATH",
        help="where to write the page (default: report.html in the current directory)",
    )
    report.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    report.add_argument(
        "--wandb",
        metavar="ENTITY/PROJECT",
        type=_wandb_target,
        help="also build a W&B Report in this project: its specification goes next to the page "
        "(report.wandb.json), then it is saved and its URL printed",
    )
    report.add_argument("--group", help="with --wandb: the runs of this wandb group (of the RUNs given, those in it)")
    report.add_argument(
        "--tag",
        action="append",
        default=[],
        dest="tags",
        metavar="TAG",
        help="with --wandb: the runs with this wandb tag (repeat for several: runs with all of them)",
    )
    report.add_argument("--dry-run", action="store_true", help="with --wandb: write the specification, do not save")
    report.add_argument(
        "--from-spec", metavar="FILE", help="with --wandb: save the report a specification file describes"
    )
    report.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="with --wandb: give up saving after this long (default 30)",
    )
    report.set_defaults(usage_error=report.error)

    plugins = commands.add_parser("plugins", help="list installed plugins, their components and options")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    # Overrides may come after options too (`run r.yaml --no-progress train.epochs=3`).
    args, extra = parser.parse_known_args(argv)
    unknown = [item for item in extra if "=" not in item or item.startswith("-") or not hasattr(args, "overrides")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    args.argv = argv
    rank = int(os.environ.get("RANK", "0")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else None
    prefix = f"ganzoo (rank {rank})" if rank is not None else "ganzoo"
    try:
        registry = Registry.from_plugin_manager(make_plugin_manager())
        status = COMMANDS[args.command](args, registry)
        sys.stdout.flush()  # here, so that a reader gone away is handled below, not at exit
        return status
    except RecipeError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{prefix}: {len(error.problems)} problem(s) in the recipe; nothing was run", file=sys.stderr)
        return 2
    except GanzooError as error:
        print(f"{prefix}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while plugins, a recipe, data or weights load (training has its own)
        print(f"\n{prefix}: interrupted by Ctrl-C before any work was saved", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of our output closed it (``ganzoo plugins | head -1``): stop quietly, as
    command-line tools do, with the status of a process ended by SIGPIPE. stdout is pointed
    at /dev/null first, so that Python's own flush at exit does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _run(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.run import RunInterrupted, resume_run, run_recipe  # torch-heavy: only when training

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
    main_rank = os.environ.get("RANK", "0") == "0"
    try:
        if args.resume:
            run = resume_run(Path(args.resume), registry, args.overrides, progress=not args.no_progress)
        else:
            run = run_recipe(
                load_recipe(args.recipe, registry, args.overrides), registry, progress=not args.no_progress
            )
    except RunInterrupted as stop:
        if not main_rank:
            return stop.exit_status
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
        print(f"run folder: {run.folder}")
    if run.wandb_folder:
        print(f"wandb ({run.wandb_mode}): {run.wandb_folder}")
    return 0


def _launch(args: argparse.Namespace, registry: Registry) -> int:
    """``run --nproc N``: check the recipe once here, then run the same command, without
    ``--nproc``, in N processes under torchrun."""
    from ganzoo.distributed import launch

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        print("ganzoo run: --nproc starts torchrun itself; under torchrun, leave it out", file=sys.stderr)
        return 2
    if args.resume:
        recipe = load_recipe(saved_recipe(Path(args.resume)), registry, args.overrides)
    else:
        recipe = load_recipe(args.recipe, registry, args.overrides)
    batch = recipe.config.train.batch_size
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


def _check(args: argparse.Namespace, registry: Registry) -> int:
    recipe = load_recipe(args.recipe, registry, args.overrides)
    if args.show:
        print(recipe.to_yaml(), end="")
    print(f"{args.recipe}: ok", file=sys.stderr if args.show else sys.stdout)
    return 0


def _wandb_target(text: str) -> str:
    from ganzoo.wandb_report import wandb_target  # the report's module: only when the option is used

    return wandb_target(text)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


TRAINED_HELP = (
    "use the trained generator even when the run keeps other weights to sample from "
    "(the ema callback's average), which are used by default"
)


def _sample(args: argparse.Namespace, registry: Registry) -> int:
    import torch

    from ganzoo.destinations import output_problem, write_target
    from ganzoo.sampling import (
        check_npz_request,
        check_png_request,
        class_labels,
        code_traversal_latents,
        generate,
        grid_shape,
        interpolation_latents,
        load_trained,
        sample_pairs,
        save_npz,
        to_data_format,
    )
    from ganzoo.visualize import save_samples

    if args.grid:
        try:
            rows, columns = grid_shape(args.grid)
            check_png_request(rows * columns, f"--grid {args.grid}")
        except ValueError as error:
            print(f"ganzoo sample: --grid: {error}", file=sys.stderr)
            return 2
    default, suffix = (
        ("samples.npz", ".npz")
        if args.n
        else ("grid.png", ".png")
        if args.grid
        else ("vary.png", ".png")
        if args.vary
        else ("interpolation.png", ".png")
    )
    out = Path(args.out or default)
    problem = output_problem(out)
    if out.suffix.lower() != suffix or problem:
        print(f"ganzoo sample: --out: {problem or f'must be a {suffix} file here, got {out}'}", file=sys.stderr)
        return 2
    try:
        if args.interpolate or args.vary:  # --vary walks a categorical code in fewer columns than --steps
            check_png_request(
                args.strips * (args.interpolate or args.steps),
                f"--strips {args.strips} x {'--interpolate' if args.interpolate else '--steps'} "
                f"{args.interpolate or args.steps}",
            )
    except ValueError as error:
        print(f"ganzoo sample: {error}", file=sys.stderr)
        return 2
    model = load_trained(Path(args.source), registry, args.overrides, trained=args.trained)
    if args.n:
        try:
            check_npz_request(args.n, model.info)
        except ValueError as error:
            print(f"ganzoo sample: {error}", file=sys.stderr)
            return 2
    if model.info.condition_kind == "images":  # a translator: (condition, output, target) from held-out pairs
        if args.interpolate or args.vary:
            raise GanzooError(
                "a model trained on paired data translates images: it has no latent to interpolate or vary"
            )
        out, count = sample_pairs(model, registry, out, args.n or rows, seed=args.seed, grid=bool(args.grid))
        print(
            f"{out}: {count} held-out pairs translated by {model.source} (step {model.step}, {model.weights} weights)"
        )
        return 0
    if (args.interpolate or args.vary) and len(model.info.shape) != 3:
        raise GanzooError("interpolation strips and code walks are drawn for images only; this model generates points")
    latents = None
    if args.interpolate:
        columns = args.interpolate
        latents = interpolation_latents(model, args.strips, columns, seed=args.seed, path=args.path)
    elif args.vary:
        latents, columns = code_traversal_latents(model, args.vary, args.strips, args.steps, seed=args.seed)
    n = args.n or (rows * columns if args.grid else args.strips * columns)
    if latents is not None and args.class_index is None and model.architecture.conditional and model.info.num_classes:
        labels: Optional[torch.Tensor] = (torch.arange(args.strips) % model.info.num_classes).repeat_interleave(columns)
    else:
        labels = class_labels(model.architecture, model.info, n, seed=args.seed, class_index=args.class_index)
    samples = generate(
        model.generator,
        model.architecture,
        n,
        device=model.device,
        seed=args.seed,
        labels=labels,
        latents=latents,
        convert=(lambda batch: to_data_format(batch, model.info)) if args.n else None,
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.n:
            save_npz(samples, model.info, write_target(out), labels)  # renamed into place: through a symlink
        else:
            out = save_samples(samples, out.with_suffix(""), columns=columns)
    except OSError as error:
        raise GanzooError(f"cannot write {out}: {error.strerror or error}") from None
    print(f"{out}: {n} samples from {model.source} (step {model.step}, {model.weights} weights, seed {args.seed})")
    return 0


def _translate(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.sampling import load_trained
    from ganzoo.translate import input_files, translate_files

    files = input_files(Path(args.input))
    model = load_trained(Path(args.source), registry, args.overrides, trained=args.trained)
    written = translate_files(model, files, Path(args.out))
    print(
        f"{args.out}: {len(written)} image(s) translated by {model.source} (step {model.step}, {model.weights} weights)"
    )
    return 0


def _eval(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.evaluation import evaluate_model, format_results, scalars
    from ganzoo.outputs import WandbLogger
    from ganzoo.sampling import load_trained

    names = [name.strip() for name in args.metrics.split(",") if name.strip()] if args.metrics else None
    model = load_trained(Path(args.source), registry, args.overrides, trained=args.trained)
    results = evaluate_model(model, registry, names=names, n=args.n, seed=args.seed, progress=not args.no_progress)
    wandb = model.recipe.config.wandb
    logged = None
    if wandb.mode != "disabled":
        logger = WandbLogger(wandb, model.folder, model.folder.name, model.recipe.resolved)
        run = logger.start()
        logger.log_evaluation(model.step, scalars(results), sorted({r.extractor for r in results if r.extractor}))
        run.finish()
        logged = logger.run_folder
    if args.json:
        print(
            json.dumps(
                {
                    "run": str(model.folder),
                    "source": str(model.source),
                    "step": model.step,
                    "weights": model.weights,
                    "results": [vars(r) for r in results],
                },
                indent=2,
            )
        )
    else:
        print(f"{model.source} (step {model.step}, {model.weights} weights):")
        print("\n".join(format_results(results)))
        print(f"recorded in {model.folder / 'eval.jsonl'}" + (f" and wandb ({wandb.mode}): {logged}" if logged else ""))
    return 0


def _report(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.destinations import output_problem
    from ganzoo.report import build_report

    wandb_only = (
        ("--group", args.group),
        ("--tag", args.tags),
        ("--dry-run", args.dry_run),
        ("--from-spec", args.from_spec),
    )
    if not args.wandb and any(value for _, value in wandb_only):
        args.usage_error(f"{next(flag for flag, value in wandb_only if value)} needs --wandb ENTITY/PROJECT")
    if not args.runs and not (args.wandb and (args.group or args.tags or args.from_spec)):
        args.usage_error("the following arguments are required: RUN (or, with --wandb, --group, --tag or --from-spec)")
    if args.wandb:
        return _wandb_report(args)
    problem = output_problem(Path(args.out))
    if problem:
        print(f"ganzoo report: --out: {problem}", file=sys.stderr)
        return 2
    out = build_report([Path(run) for run in args.runs], Path(args.out), progress=not args.no_progress)
    print(f"report: {out}")
    return 0


def _wandb_report(args: argparse.Namespace) -> int:
    from ganzoo.wandb_report import report_command

    return report_command(
        [Path(run) for run in args.runs],
        target=args.wandb,
        out=Path(args.out),
        group=args.group,
        tags=args.tags,
        dry_run=args.dry_run,
        from_spec=args.from_spec,
        timeout=args.timeout,
        progress=not args.no_progress,
    )


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
                options.append(
                    {
                        "name": name,
                        "type": type_name(field.annotation),
                        "default": None if field.is_required() else field.get_default(call_default_factory=True),
                        "required": field.is_required(),
                        "help": field.description or "",
                    }
                )
            doc = (entry.cls.__doc__ or "").strip().splitlines()
            rows.append(
                {
                    "kind": kind,
                    "name": entry.name,
                    "plugin": entry.plugin,
                    "summary": doc[0] if doc else "",
                    "options": options,
                }
            )
    return rows


def _plugins(args: argparse.Namespace, registry: Registry) -> int:
    components = describe_plugins(registry)
    if args.json:
        plugins = [{"name": p, "distribution": d} for p, d in registry.plugins.items()]
        print(json.dumps({"plugins": plugins, "components": components}, indent=2, default=str))
        return 0
    if not registry.plugin_names:
        print("no plugins installed (pip install -e plugins/ganzoo_vanilla -e plugins/ganzoo_datasets)")
    core = {CORE_PLUGIN: f"the core, ganzoo {__version__}"}  # its bundled optimisers and schedules
    for plugin, distribution in {**core, **registry.plugins}.items():
        print(f"{plugin} ({distribution or 'not installed from a package'})")
        for row in (r for r in components if r["plugin"] == plugin):
            print(f"  {row['kind']} {row['name']}: {row['summary']}")
            for option in row["options"]:
                default = "required" if option["required"] else f"default {option['default']!r}"
                help_text = f"  {option['help']}" if option["help"] else ""
                print(f"      {option['name']} ({option['type']}, {default}){help_text}")
    return 0


COMMANDS = {
    "run": _run,
    "check": _check,
    "sample": _sample,
    "translate": _translate,
    "eval": _eval,
    "report": _report,
    "plugins": _plugins,
}


def entry_point() -> None:  # pragma: no cover - the console script
    sys.exit(main())
