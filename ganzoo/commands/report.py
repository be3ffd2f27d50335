"""``ganzoo report``: one HTML page that shows runs side by side, and with ``--wandb`` a W&B
Report built from them (its specification written next to the page, then saved)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from ganzoo.plugins.registry import Registry
from ganzoo.runfolder.layout import SweepFolder

NAME = "report"
HELP = "write one HTML page that shows runs side by side (and a W&B Report)"


def _wandb_target(text: str) -> str:
    from ganzoo.viz.wandb_report import wandb_target  # the report's module: only when the option is used

    return wandb_target(text)


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text}") from None
    if not 0 < value <= 3600:  # nan and inf fail this too
        raise argparse.ArgumentTypeError(f"expected seconds above 0 and at most 3600, got {text}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="*",
        metavar="RUN",
        help="run folders, as `ganzoo run` prints them, or one sweep folder (`ganzoo sweep`)",
    )
    parser.add_argument(
        "--out",
        default="report.html",
        metavar="PATH",
        help="where to write the page (default: report.html in the current directory)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--wandb",
        metavar="ENTITY/PROJECT",
        type=_wandb_target,
        help="also build a W&B Report in this project: its specification goes next to the page "
        "(report.wandb.json), then it is saved and its URL printed",
    )
    parser.add_argument("--group", help="with --wandb: the runs of this wandb group (of the RUNs given, those in it)")
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        dest="tags",
        metavar="TAG",
        help="with --wandb: the runs with this wandb tag (repeat for several: runs with all of them)",
    )
    parser.add_argument("--dry-run", action="store_true", help="with --wandb: write the specification, do not save")
    parser.add_argument(
        "--from-spec", metavar="FILE", help="with --wandb: save the report a specification file describes"
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=30.0,
        metavar="SECONDS",
        help="with --wandb: give up saving after this long (default 30)",
    )
    parser.set_defaults(usage_error=parser.error)


def execute(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.files.safe import output_problem
    from ganzoo.viz.report import build_report

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
    for flag, path in _outputs(args):
        problem = output_problem(path)
        if problem:
            print(f"ganzoo report: {flag}: {problem}", file=sys.stderr)
            return 2
    if args.wandb:
        return wandb_report(args)
    sweeps = [SweepFolder(Path(run)) for run in args.runs if SweepFolder(Path(run)).is_sweep()]
    if sweeps:
        if len(args.runs) > 1:
            args.usage_error("a sweep folder is reported alone: give one sweep, or run folders")
        from ganzoo.viz.sweep_report import build_sweep_report

        print(f"report: {build_sweep_report(sweeps[0], Path(args.out))}")
        return 0
    out = build_report([Path(run) for run in args.runs], Path(args.out), progress=not args.no_progress)
    print(f"report: {out}")
    return 0


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """What the command will write, by the flag that names it: the page, and with ``--wandb``
    the specification next to it (none with ``--from-spec``, which writes nothing)."""
    from ganzoo.viz.wandb_report import spec_path

    if args.wandb and args.from_spec:
        return []
    out = Path(args.out)
    return [("--out", out)] + ([("--out (its W&B specification)", spec_path(out))] if args.wandb else [])


def wandb_report(args: argparse.Namespace) -> int:
    """``--wandb``: the HTML page and the specification next to it, then the save (or, with
    ``--from-spec``, the save of a specification written before). A run or an argument the
    report cannot use is exit 2 in one line; a failed save raises ``SaveError`` (exit 1),
    the specification kept."""
    from ganzoo.viz.wandb_report import ReportUsageError, parse_target, publish, save_later_command

    try:
        entity, project = parse_target(args.wandb)
        spec, written = _specification(args, entity, project)
    except ReportUsageError as error:
        print(f"ganzoo report: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(f"dry run: not saved. To save it: {save_later_command(spec, written)}")
        return 0
    print(f"W&B report: {publish(spec, written, timeout=args.timeout)}")
    return 0


def _specification(args: argparse.Namespace, entity: str, project: str) -> tuple[dict[str, Any], Path]:
    """The report's specification and where it is: read from ``--from-spec``, or built from
    the runs and written next to the page (which is written too)."""
    from ganzoo.viz.report import build_report
    from ganzoo.viz.wandb_report import ReportUsageError, build_spec, read_spec, spec_path, write_spec

    folders: Sequence[Path] = [Path(run) for run in args.runs]
    if args.from_spec:
        if folders or args.group or args.tags:
            raise ReportUsageError("--from-spec saves the specification as it is: give no RUN, --group or --tag")
        return read_spec(Path(args.from_spec), entity, project), Path(args.from_spec)
    chosen = _chosen_runs(folders, args.group, args.tags)
    spec = build_spec(chosen, entity, project, group=args.group, tags=args.tags)
    out = Path(args.out)
    if chosen:
        print(f"report: {build_report([run.folder for run in chosen], out, progress=not args.no_progress)}")
    written = write_spec(spec, spec_path(out))
    print(f"W&B report specification: {written}")
    return spec, written


def _chosen_runs(folders: Sequence[Path], group: Optional[str], tags: Sequence[str]) -> list:
    from ganzoo.viz.wandb_report import ReportUsageError, load_wandb_run, select_runs

    runs = [load_wandb_run(folder) for folder in folders]
    chosen = select_runs(runs, group, tags)
    if runs and not chosen:
        wanted = " and ".join([f"in group {group!r}"] * bool(group) + [f"tagged {', '.join(tags)}"] * bool(tags))
        raise ReportUsageError(f"unknown run: none of the {len(runs)} run(s) given is {wanted}")
    return chosen
