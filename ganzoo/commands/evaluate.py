"""``ganzoo eval``: measure a trained generator (FID, KID, IS, coverage, modes), recorded in
its run folder's ``eval.jsonl`` and its wandb run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganzoo.commands.arguments import TRAINED_HELP, add_source, positive_at_most, seed
from ganzoo.plugins.registry import Registry
from ganzoo.recipe.schema import MAX_EVAL_SAMPLES
from ganzoo.runfolder.layout import RunFolder

NAME = "eval"
HELP = "measure a trained generator: FID, KID, IS, coverage, modes"


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser, "eval.extractors.inception.weights=PATH")
    parser.add_argument(
        "--metrics",
        metavar="NAMES",
        help="comma-separated metrics (default: eval.metrics, else every default one that applies)",
    )
    parser.add_argument(
        "--n",
        type=positive_at_most(MAX_EVAL_SAMPLES, "samples"),
        metavar="N",
        help=f"generated samples (default: eval.n, 10000; at most {MAX_EVAL_SAMPLES:,})",
    )
    parser.add_argument("--seed", type=seed, help="seed of the samples (default: eval.seed, 0)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--trained", action="store_true", help=TRAINED_HELP)
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def execute(args: argparse.Namespace, registry: Registry) -> int:
    from ganzoo.inference.evaluation import evaluate_model
    from ganzoo.inference.models import load_trained
    from ganzoo.inference.records import format_results, scalars
    from ganzoo.run.outputs import WandbLogger

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
        about = {"run": str(model.folder), "source": str(model.source), "step": model.step, "weights": model.weights}
        print(json.dumps({**about, "results": [vars(r) for r in results]}, indent=2))
        return 0
    print(f"{model.source} (step {model.step}, {model.weights} weights):")
    print("\n".join(format_results(results)))
    recorded = f"recorded in {RunFolder(model.folder).evaluations}"
    print(recorded + (f" and wandb ({wandb.mode}): {logged}" if logged else ""))
    return 0
