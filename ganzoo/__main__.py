"""``python -m ganzoo`` is the ``ganzoo`` command."""

from ganzoo.cli import entry_point

entry_point()
