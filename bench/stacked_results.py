"""Stacked-MNIST modes and KL against training time: DCGAN beside PacDCGAN2 (docs/stacked-mnist.md).

Each recipe trains for ``--seconds`` of wall-clock time (the ``time_budget`` callback, beside
the recipe's own callbacks), or for ``--steps`` steps (a comparison at equal steps),
keeping a checkpoint every ``--every`` steps; ``ganzoo eval`` then counts the modes of every
checkpoint on ``--n`` samples (26,000, as VEEGAN and PacGAN), so one run gives the trend.
Every command is printed and written to the result file with paths relative to the
repository, so each row can be reproduced alone.

    python bench/stacked_results.py --seconds 300 --out bench/results/stacked-cpu.md
    python bench/stacked_results.py --recipes stylegan2_stacked --steps 10337 --every 2000 --out bench/results/stacked-cpu-stylegan2.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

from provenance import header, recipe_fingerprint, write_results
from zoo_results import (  # the same runner and paths as the zoo table
    REPO,
    callbacks_with_budget,
    ganzoo,
    relative,
)

RECIPES = ["dcgan_stacked", "pacdcgan2_stacked"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training budget per recipe (wall clock)")
    parser.add_argument(
        "--steps", type=int, help="train every recipe for this many steps instead (independent of the machine's pace)"
    )
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides of every recipe (a smoke run)"
    )
    parser.add_argument("--every", type=int, default=500, help="steps between the checkpoints that are measured")
    parser.add_argument("--n", type=int, default=26_000, help="generated samples per count (the papers' 26,000)")
    parser.add_argument("--seed", type=int, default=0, help="the recipes' seed")
    parser.add_argument("--data-root", default="../shared/data", help="folder with MNIST/raw/, from the repository")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "stacked", help="where the run folders go")
    parser.add_argument("--recipes", nargs="+", default=RECIPES)
    parser.add_argument("--out", type=Path, help="also write the table, commands and raw results here")
    args = parser.parse_args()

    recipes = [recipe_fingerprint(f"recipes/{recipe}.yaml") for recipe in args.recipes]
    started = header(f"Stacked-MNIST against training time, {time.strftime('%Y-%m-%d')}", recipes)
    rows, commands = [], []
    for recipe in args.recipes:
        limit = (
            [f"train.max_steps={args.steps}", "train.epochs=100000"]
            if args.steps
            else [callbacks_with_budget(f"recipes/{recipe}.yaml", args.seconds)]
        )
        train = [
            "run",
            f"recipes/{recipe}.yaml",
            f"data.root={args.data_root}",
            f"seed={args.seed}",
            *limit,
            f"checkpoint.every={args.every}",
            "checkpoint.keep_last=1000",
            f"run.dir={relative(args.runs)}",
            f"run.name={recipe}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}",
            "wandb.mode=disabled",
            *args.set,
        ]
        folder = Path(ganzoo(*train, "--no-progress").stdout.split("run folder: ", 1)[1].split("\n", 1)[0])
        folder = folder if folder.is_absolute() else REPO / folder
        sources = sorted((folder / "checkpoints").glob("step_*.pt")) or [folder]  # the last is written at the end
        for source in sources:
            evaluation = json.loads(
                ganzoo("eval", relative(source), "--n", str(args.n), "--json", "--no-progress").stdout
            )
            values = {r["key"]: r["value"] for r in evaluation["results"]}
            rows.append(
                {
                    "recipe": recipe,
                    "step": evaluation["step"],
                    "modes": values["stacked_modes"],
                    "kl": values["stacked_kl"],
                    "confident": values["stacked_confident"],
                    "confident_modes": values["stacked_confident_modes"],
                    "confident_kl": values["stacked_confident_kl"],
                    "source": relative(source),
                    "extractor": evaluation["results"][0]["extractor"],
                }
            )
        commands.append(
            (
                recipe,
                " ".join(shlex.quote(a) for a in ["ganzoo", *train]),
                f"ganzoo eval <run or checkpoint> --n {args.n}",
            )
        )

    table = results_table(rows)
    print(table)
    if args.out:
        budget = f"{args.steps:,} steps" if args.steps else f"{args.seconds:g} s of training (wall clock)"
        about = (
            f"{budget} per recipe, n = {args.n} generated samples, a checkpoint "
            f"measured every {args.every} steps. *Confident*: the share of samples whose three channels the "
            f"classifier reads with a probability of at least 0.9, and the modes and KL over those alone."
        )
        steps = [line for recipe, train, evaluate in commands for line in (f"# {recipe}", train, evaluate)]
        write_results(args.out, "", body=f"{about}\n\n{table}", commands=steps, raw=rows, started=started)


def results_table(rows: list[dict]) -> str:
    lines = [
        "| recipe | steps | modes (of 1000) | KL | confident | modes, confident | KL, confident |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['recipe']} | {r['step']:,} | {r['modes']:.0f} | {r['kl']:.3f} | {r['confident']:.1%} "
        f"| {r['confident_modes']:.0f} | {r['confident_kl']:.3f} |"
        for r in rows
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
