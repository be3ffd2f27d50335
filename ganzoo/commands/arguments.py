"""Arguments several commands share, spelled out once."""

from __future__ import annotations

import argparse

EPILOG = "Overrides are dotted keys: ganzoo run recipes/vanilla_mnist.yaml train.epochs=3 data.root=~/data"

TRAINED_HELP = (
    "use the trained generator even when the run keeps other weights to sample from "
    "(the ema callback's average), which are used by default"
)

MAX_SEED = 2**63 - 1
"""Seeds are 64-bit: torch's generators take nothing larger."""


def positive(text: str) -> int:
    """An argparse ``type``: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def seed(text: str) -> int:
    """An argparse ``type``: a seed from 0 to 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {MAX_SEED}, got {text}")
    return value


def add_overrides(parser: argparse.ArgumentParser, help: str = "dotted overrides, e.g. train.epochs=3") -> None:
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help=help)


def add_source(parser: argparse.ArgumentParser, example: str = "device=cpu") -> None:
    """The trained model a command reads, and overrides of its run's recipe."""
    parser.add_argument(
        "source", metavar="RUN", help="a run folder (its weights.pt, else its newest checkpoint) or a checkpoint file"
    )
    add_overrides(parser, f"overrides of the run's recipe, e.g. {example}")


def positive_at_most(most: int, what: str = ""):
    """An argparse ``type``: a whole number from 1 to ``most``."""

    def parse(text: str) -> int:
        value = positive(text)
        if value > most:
            raise argparse.ArgumentTypeError(f"expected at most {most:,}{f' {what}' if what else ''}, got {text}")
        return value

    return parse
