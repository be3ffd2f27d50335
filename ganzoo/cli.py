"""The ``ganzoo`` command: run, check, sample, translate, eval, report, plugins. This module
parses the command line and dispatches to :mod:`ganzoo.commands`, one module per subcommand.

Exit status: 0 success, 1 an error the message explains (a failed run, a folder that is
not a run), 2 a bad recipe or bad command line, 130 interrupted by Ctrl-C, 143 stopped by
SIGTERM (both after writing a checkpoint).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import Iterator, Optional, Sequence

from ganzoo import __version__
from ganzoo.api.errors import GanzooError, RecipeError
from ganzoo.commands import COMMANDS
from ganzoo.commands.arguments import EPILOG
from ganzoo.plugins import Registry, make_plugin_manager


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: each subcommand's arguments come from its module."""
    parser = argparse.ArgumentParser(prog="ganzoo", description="A plugin-based GAN zoo for PyTorch.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"ganzoo {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.configure(subcommands.add_parser(command.NAME, help=command.HELP, description=command.__doc__))
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
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
    with _terminate_cleanly():
        return _dispatch(args, prefix)


class Terminated(BaseException):
    """SIGTERM outside training (which stops on it after the current step): raised where the
    program stands, so that every ``finally`` runs (a half-done download is removed)."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    def terminate(number: int, frame: object) -> None:
        raise Terminated

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace, prefix: str) -> int:
    """Run the command; an error it explains is one line and its exit status."""
    try:
        registry = Registry.from_plugin_manager(make_plugin_manager())
        status = next(c for c in COMMANDS if c.NAME == args.command).execute(args, registry)
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
    except Terminated:
        print(f"\n{prefix}: stopped by SIGTERM before any work was saved", file=sys.stderr)
        return 143
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


def entry_point() -> None:  # pragma: no cover - the console script
    sys.exit(main())
