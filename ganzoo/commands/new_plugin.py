"""``ganzoo new-plugin``: write a plugin package skeleton (a component of the kind asked, its
entry point, a recipe it ships, tests on ``ganzoo.testing``) whose tests pass as written."""

from __future__ import annotations

import argparse
import keyword
import re
from pathlib import Path

from ganzoo.api.errors import GanzooError
from ganzoo.commands.plugin_skeleton import COMPONENTS, files
from ganzoo.files.safe import atomic_write_text
from ganzoo.plugins.registry import Registry

NAME = "new-plugin"
HELP = "write a plugin package skeleton: a component, its entry point, a recipe and tests"
PLUGIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def plugin_name(text: str) -> str:
    """An argparse ``type``: a plugin name that is also a Python identifier part."""
    if not PLUGIN_NAME.fullmatch(text) or keyword.iskeyword(text) or text.endswith("_"):
        raise argparse.ArgumentTypeError(
            f"expected a name of lower-case letters, digits and underscores that starts with a letter "
            f"(at most 40 characters), got {text!r}"
        )
    return text


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", type=plugin_name, metavar="NAME", help="the plugin's name, e.g. my_loss")
    parser.add_argument(
        "--kind",
        choices=list(COMPONENTS),
        default="loss",
        help="the kind of component to start from (default: loss)",
    )
    parser.add_argument(
        "--out",
        metavar="FOLDER",
        help="where to write the package (default: ./ganzoo-NAME); it must not exist, or be empty",
    )


def execute(args: argparse.Namespace, registry: Registry) -> int:
    folder = Path(args.out or f"ganzoo-{args.name.replace('_', '-')}")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GanzooError(f"{folder} already exists and is not an empty folder: nothing was written")
    if args.name in registry.plugins:
        raise GanzooError(f"a plugin named {args.name!r} is installed already: choose another name")
    written = []
    for relative, text in files(args.name, args.kind).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        written.append(relative)
    print(f"wrote the plugin {args.name} ({args.kind} {args.name}) in {folder}:")
    for relative in written:
        print(f"  {relative}")
    print(f"Next: cd {folder} && pip install -e . && pytest && ganzoo run {args.name}_ring")
    return 0
