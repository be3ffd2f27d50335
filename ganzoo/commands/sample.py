"""``ganzoo sample``: draw samples, a grid, interpolation strips or a walk along a latent code
from a trained generator. Every request is checked (its output path, its size) before the
model is loaded."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from ganzoo.api import GanzooError
from ganzoo.commands.arguments import TRAINED_HELP, add_source, positive, seed
from ganzoo.plugins.registry import Registry

NAME = "sample"
HELP = "draw samples, a grid or interpolation strips from a trained generator"


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--n",
        type=positive,
        metavar="N",
        help="N samples to an .npz file (key images: uint8, (N, H, W) or (N, H, W, C))",
    )
    what.add_argument("--grid", metavar="ROWSxCOLS", help="a PNG grid of samples, e.g. 8x8")
    what.add_argument(
        "--interpolate", type=positive, metavar="STEPS", help="a PNG of latent interpolation strips, STEPS images each"
    )
    what.add_argument(
        "--vary",
        metavar="CODE",
        help="a PNG whose rows walk along one latent code (infoGAN's c1, c2, ...), the rest of the latent fixed per row",
    )
    parser.add_argument(
        "--out", metavar="PATH", help="output file (default: samples.npz, grid.png, interpolation.png or vary.png)"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of the latents (default 0)")
    parser.add_argument(
        "--class",
        type=int,
        dest="class_index",
        metavar="K",
        help="condition every sample on class K (class-conditional models only)",
    )
    parser.add_argument("--strips", type=positive, default=8, help="interpolation strips or --vary rows (default 8)")
    parser.add_argument(
        "--steps",
        type=positive,
        default=10,
        help="values of a continuous code per --vary row (default 10; a categorical code takes all its values)",
    )
    parser.add_argument(
        "--path",
        choices=["linear", "spherical"],
        default="linear",
        help="interpolation path between two latents (default linear)",
    )
    parser.add_argument(
        "--truncation",
        type=float,
        metavar="PSI",
        help="the truncation trick: draw styles PSI of the way from the average towards the random ones "
        "(0: the average sample, 1: none); for models that declare it (stylegan2)",
    )
    parser.add_argument("--trained", action="store_true", help=TRAINED_HELP)


def execute(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.inference.draw import sampling_options
    from ganzoo.inference.files import check_npz_request
    from ganzoo.inference.models import load_trained

    try:
        out = _checked_request(args)
    except ValueError as error:
        print(f"ganzoo sample: {error}", file=sys.stderr)
        return 2
    model = load_trained(Path(args.source), registry, args.overrides, trained=args.trained)
    given = {} if args.truncation is None else {"truncation": args.truncation}
    options = sampling_options(model.architecture, given)
    if args.n:
        try:
            check_npz_request(args.n, model.info)
        except ValueError as error:
            print(f"ganzoo sample: {error}", file=sys.stderr)
            return 2
    if model.info.condition_kind == "images":
        return _translations(args, model, registry, out)
    return _samples(args, model, out, options)


def _checked_request(args: argparse.Namespace) -> Path:
    """The output path, once the request and its size are checked (``ValueError``: exit 2)."""
    from ganzoo.files.safe import output_problem
    from ganzoo.inference.files import check_png_request, grid_shape

    if args.grid:
        try:
            rows, columns = grid_shape(args.grid)
            check_png_request(rows * columns, f"--grid {args.grid}")
        except ValueError as error:
            raise ValueError(f"--grid: {error}") from None
    if args.interpolate or args.vary:  # --vary walks a categorical code in fewer columns than --steps
        flag = "--interpolate" if args.interpolate else "--steps"
        per_row = args.interpolate or args.steps
        check_png_request(args.strips * per_row, f"--strips {args.strips} x {flag} {per_row}")
    default = "samples.npz" if args.n else "grid.png" if args.grid else "vary.png" if args.vary else "interpolation.png"
    out = Path(args.out or default)
    suffix = Path(default).suffix
    problem = output_problem(out)
    if out.suffix.lower() != suffix or problem:
        raise ValueError(f"--out: {problem or f'must be a {suffix} file here, got {out}'}")
    return out


def _translations(args: argparse.Namespace, model, registry: Registry, out: Path) -> int:
    """A translator has no latent: (condition, output, target) from held-out pairs."""
    from ganzoo.inference.files import grid_shape, sample_pairs

    if args.interpolate or args.vary:
        raise GanzooError("a model trained on paired data translates images: it has no latent to interpolate or vary")
    count = args.n or grid_shape(args.grid)[0]
    out, count = sample_pairs(model, registry, out, count, seed=args.seed, grid=bool(args.grid))
    print(f"{out}: {count} held-out pairs translated by {model.source} (step {model.step}, {model.weights} weights)")
    return 0


def _samples(args: argparse.Namespace, model, out: Path, options: dict) -> int:
    from ganzoo.files.safe import write_target
    from ganzoo.inference.draw import generate, to_data_format
    from ganzoo.inference.files import save_npz
    from ganzoo.viz.grids import save_samples

    if (args.interpolate or args.vary) and len(model.info.shape) != 3:
        raise GanzooError("interpolation strips and code walks are drawn for images only; this model generates points")
    latents, columns = _latents(args, model)
    n = args.n or (len(latents) if latents is not None else _grid_size(args))
    labels = _labels(args, model, n, columns if latents is not None else None)
    convert = (lambda batch: to_data_format(batch, model.info)) if args.n else None
    samples = generate(
        model.generator,
        model.architecture,
        n,
        device=model.device,
        seed=args.seed,
        labels=labels,
        latents=latents,
        convert=convert,
        options=options,
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.n:
            save_npz(samples, model.info, write_target(out), labels)  # renamed into place: through a symlink
        else:
            out = save_samples(samples, out.with_suffix(""), columns=columns)
    except OSError as error:
        raise GanzooError(f"cannot write {out}: {error.strerror or error}") from None
    settings = "".join(f", {key} {value}" for key, value in options.items())
    print(
        f"{out}: {n} samples from {model.source} (step {model.step}, {model.weights} weights, seed {args.seed}{settings})"
    )
    return 0


def _grid_size(args: argparse.Namespace) -> int:
    from ganzoo.inference.files import grid_shape

    rows, columns = grid_shape(args.grid)
    return rows * columns


def _latents(args: argparse.Namespace, model):
    """``(latents, columns)`` of interpolation strips or a code walk; ``(None, columns)`` of
    a grid (its latents are drawn from the seed)."""
    from ganzoo.inference.draw import code_traversal_latents, interpolation_latents
    from ganzoo.inference.files import grid_shape

    if args.interpolate:
        return interpolation_latents(
            model, args.strips, args.interpolate, seed=args.seed, path=args.path
        ), args.interpolate
    if args.vary:
        return code_traversal_latents(model, args.vary, args.strips, args.steps, seed=args.seed)
    return None, grid_shape(args.grid)[1] if args.grid else None


def _labels(args: argparse.Namespace, model, n: int, columns: Optional[int]):
    """Class labels to condition on: one class per strip of a walk (conditional models), else
    ``--class`` or the data's classes drawn from the seed."""
    import torch

    from ganzoo.inference.draw import class_labels

    if columns is not None and args.class_index is None and model.architecture.conditional and model.info.num_classes:
        return (torch.arange(args.strips) % model.info.num_classes).repeat_interleave(columns)
    return class_labels(model.architecture, model.info, n, seed=args.seed, class_index=args.class_index)
