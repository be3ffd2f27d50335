"""The subcommands of ``ganzoo``, one module each: what it takes (``configure``) and what it
does (``execute``). :mod:`ganzoo.cli` parses the command line and dispatches."""

from ganzoo.commands import check, evaluate, plugins, report, run, sample, sweep, translate

COMMANDS = [run, check, sample, translate, evaluate, report, sweep, plugins]
"""In the order ``ganzoo --help`` lists them."""

__all__ = ["COMMANDS"]
