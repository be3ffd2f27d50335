"""The subcommands of ``ganzoo``, one module each: what it takes (``configure``) and what it
does (``execute``). :mod:`ganzoo.cli` parses the command line and dispatches."""

from ganzoo.commands import check, evaluate, new_plugin, plugins, recipes, report, run, sample, sweep, translate

COMMANDS = [run, check, recipes, sample, translate, evaluate, report, sweep, plugins, new_plugin]
"""In the order ``ganzoo --help`` lists them."""

__all__ = ["COMMANDS"]
