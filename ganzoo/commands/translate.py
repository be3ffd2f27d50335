"""``ganzoo translate``: apply a trained image-to-image generator (Pix2Pix) to image files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ganzoo.commands.arguments import TRAINED_HELP, add_source
from ganzoo.plugins.registry import Registry

NAME = "translate"
HELP = "apply a trained image-to-image generator (pix2pix) to image files"


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    parser.add_argument(
        "--input", required=True, metavar="FILE_OR_DIR", help="an image, or a folder of images, to translate"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the outputs: one PNG per input, same name and size"
    )
    parser.add_argument("--trained", action="store_true", help=TRAINED_HELP)


def execute(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.inference.models import load_trained
    from ganzoo.inference.translate import input_files, plan_outputs, translate_files

    files = input_files(Path(args.input))
    plan_outputs(files, Path(args.out))  # refused before the model loads
    model = load_trained(Path(args.source), registry, args.overrides, trained=args.trained)
    written = translate_files(model, files, Path(args.out))
    print(
        f"{args.out}: {len(written)} image(s) translated by {model.source} (step {model.step}, {model.weights} weights)"
    )
    return 0
