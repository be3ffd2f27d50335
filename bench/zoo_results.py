"""The results table of docs/zoo.md: every variant on MNIST after the same CPU budget.

Each variant's recipe trains with the ``time_budget`` callback (wall-clock seconds), then
``ganzoo eval`` measures it with the project's offline metrics (the dataset classifier's
features, n generated samples) and ``ganzoo sample`` draws its 8x8 grid. With ``--seeds N``
every variant trains N times (recipe seeds 0 to N-1) and every value is reported as the
mean ± standard deviation over the seeds. A first row measures held-out real images (the
MNIST test split) against the same reference, in the same feature space: the floor every
generator's numbers stand beside. Every command is printed and written to the result
file, with paths relative to the repository, so each row can be reproduced alone. Run it
on an otherwise idle machine: the budget is wall-clock time. With ``--steps N`` every variant
trains N steps instead (its recipe's own callbacks kept), a comparison at equal steps that a
busy machine does not skew.

    python bench/zoo_results.py --seconds 120 --seeds 3 --out bench/results/zoo-cpu.md
    python bench/zoo_results.py --steps 600 --variants dcgan stylegan2 --no-real --out bench/results/zoo-cpu-stylegan2.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from provenance import header, recipe_fingerprint, write_results

from ganzoo.viz.wandb_report import report_zoo, wandb_target, zoo_wandb_override

REPO = Path(__file__).resolve().parents[1]
VARIANTS = [
    "vanilla",
    "dcgan",
    "lsgan",
    "wgan",
    "wgan_gp",
    "dragan",
    "sngan",
    "ebgan",
    "began",
    "cgan",
    "acgan",
    "infogan",
    "dcgan_stabilized",
    "stylegan2",
]
KEYS = ["fid/classifier", "kid/classifier", "is/classifier", "class_coverage", "class_kl"]
DIGITS = {"steps": 0, "fid/classifier": 1, "kid/classifier": 1, "is/classifier": 2, "class_coverage": 1, "class_kl": 3}
REAL = "real data (test split)"


def relative(path: Path | str) -> str:
    """``path`` relative to the repository (where every command runs), so result files
    carry no machine's absolute paths."""
    return os.path.relpath(os.path.abspath(path), REPO)


def ganzoo(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ganzoo", *args]
    print("$ ganzoo " + " ".join(shlex.quote(a) for a in args), file=sys.stderr, flush=True)
    result = subprocess.run(command, check=False, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def callbacks_with_budget(recipe: str, seconds: float) -> str:
    """The recipe's own callbacks (``ema``, ``instance_noise``...) plus the time budget, as
    one ``callbacks=[...]`` override (an override replaces the whole list)."""
    from ganzoo.plugins import Registry, make_plugin_manager
    from ganzoo.recipe import load_recipe

    registry = Registry.from_plugin_manager(make_plugin_manager())
    callbacks = load_recipe(REPO / recipe, registry).resolved["callbacks"]
    entries = [json.dumps(spec) for spec in callbacks] + [json.dumps({"name": "time_budget", "seconds": seconds})]
    return f"callbacks=[{', '.join(entries)}]"


def train_and_measure(variant: str, seed: int, args: argparse.Namespace) -> tuple[dict, list[str]]:
    """One variant trained with one seed: its row of values, and the training command."""
    recipe = f"recipes/{variant}_mnist.yaml"
    train = [
        "run",
        recipe,
        f"data.root={args.data_root}",
        f"seed={seed}",
        "train.epochs=1000",
        f"train.max_steps={args.steps}" if args.steps else callbacks_with_budget(recipe, args.seconds),
        f"run.dir={relative(args.runs)}",
        f"run.name={variant}-s{seed}-{time.strftime('%Y%m%d-%H%M%S')}",
        zoo_wandb_override(args.wandb, args.group),
        *args.set,
    ]
    folder = Path(ganzoo(*train, "--no-progress").stdout.split("run folder: ", 1)[1].split("\n", 1)[0])
    folder = folder if folder.is_absolute() else REPO / folder
    evaluation = json.loads(ganzoo("eval", relative(folder), "--n", str(args.n), "--json", "--no-progress").stdout)
    grid = args.grids / (f"{variant}.png" if seed == 0 else f"{variant}-s{seed}.png")
    drawn = seed == 0 or args.all_grids
    if drawn:
        ganzoo("sample", relative(folder), "--grid", "8x8", "--out", relative(grid))
    values = {r["key"]: r["value"] for r in evaluation["results"]}
    return {
        "variant": variant,
        "seed": seed,
        "steps": evaluation["step"],
        "values": values,
        "grid": relative(grid) if drawn else None,  # the grid of this very run, or none
        "run": relative(folder),
    }, train


def real_data_row(args: argparse.Namespace) -> dict:
    """The metrics of the MNIST test split (``n`` images at most) against the reference that
    ``ganzoo eval`` uses for the generators (the same training images, same seed, same
    classifier): what a perfect generator could score, since it would not reproduce the
    training images themselves."""
    from ganzoo.api.metrics import MetricContext
    from ganzoo.inference import load_dataset
    from ganzoo.inference.evaluation import Evaluation, select_metrics
    from ganzoo.plugins import Registry, make_plugin_manager
    from ganzoo.recipe import load_recipe
    from ganzoo.train.devices import select_device

    registry = Registry.from_plugin_manager(make_plugin_manager())
    recipe = load_recipe(REPO / "recipes" / "vanilla_mnist.yaml", registry, [f"data.root={REPO / args.data_root}"])
    train, test = load_dataset(recipe, registry), load_dataset(recipe, registry, split="test")
    metrics = select_metrics(registry, recipe, train, ["fid", "kid", "is", "class_coverage"])  # the table's KEYS
    evaluation = Evaluation(registry, recipe, train, metrics, device=select_device("auto"), n=args.n, progress=False)
    held_out = test.samples[: args.n]
    ctx = MetricContext(
        evaluation.real,
        held_out,
        evaluation.real_labels,
        None,
        evaluation.data,
        evaluation.extractor,
        evaluation.batch_size,
    )
    values = {key: value for metric in metrics for key, value in metric.compute(ctx).items()}
    return {"variant": REAL, "seed": None, "steps": 0, "values": values, "grid": None, "n_fake": len(held_out)}


def summarise(rows: list[dict]) -> dict[str, tuple[float, float | None]]:
    """Every value of one variant's rows as (mean, standard deviation over seeds, or None for one seed)."""
    keys = ["steps"] + [key for key in KEYS if key in rows[0]["values"]]
    summary = {}
    for key in keys:
        numbers = [row["steps"] if key == "steps" else row["values"][key] for row in rows]
        summary[key] = (statistics.fmean(numbers), statistics.stdev(numbers) if len(numbers) > 1 else None)
    return summary


def cell(key: str, mean: float, spread: float | None) -> str:
    digits = DIGITS[key]
    text = f"{mean:,.{digits}f}"
    return text if spread is None else f"{text} ± {spread:,.{digits}f}"


def table(groups: dict[str, list[dict]]) -> str:
    lines = [
        "| variant | steps | FID (classifier) | KID | IS | class coverage | class KL | grid |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for variant, rows in groups.items():
        summary = summarise(rows)
        cells = [cell(key, *summary[key]) if key in summary else "" for key in ["steps", *KEYS]]
        grid = next((row["grid"] for row in rows if row["grid"]), None)  # seed 0's
        lines.append(f"| {variant} | {' | '.join(cells)} | {f'[{Path(grid).name}]({grid})' if grid else ''} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=150.0, help="training budget per variant and seed (wall clock)"
    )
    parser.add_argument(
        "--steps", type=int, help="train every variant for this many steps instead (independent of the machine's pace)"
    )
    parser.add_argument(
        "--seeds", type=int, default=1, help="train every variant with seeds 0 to N-1; report mean ± std"
    )
    parser.add_argument("--n", type=int, default=10_000, help="generated samples per evaluation")
    parser.add_argument("--data-root", default="../shared/data", help="folder with MNIST/raw/, from the repository")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "zoo", help="where the run folders go")
    parser.add_argument("--grids", type=Path, default=REPO / "docs" / "zoo", help="where the 8x8 grids go (seed 0's)")
    parser.add_argument("--all-grids", action="store_true", help="also draw the grids of seeds 1 to N-1")
    parser.add_argument("--no-real", action="store_true", help="leave out the real-data row")
    parser.add_argument(
        "--variants", nargs="*", default=VARIANTS, help="variants to train (none: the real-data row only)"
    )
    parser.add_argument("--out", type=Path, help="also write the table, commands and raw results here")
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides of every variant's recipe (a smoke run)"
    )
    parser.add_argument(
        "--wandb",
        type=wandb_target,
        metavar="ENTITY/PROJECT",
        help="log the runs offline to this W&B project and build the zoo's W&B Report "
        "(its spec and HTML page go to --runs; see docs/report.md)",
    )
    args = parser.parse_args()

    args.group = f"zoo-{time.strftime('%Y%m%d-%H%M%S')}"  # the W&B group of this zoo's runs
    recipes = [recipe_fingerprint(f"recipes/{variant}_mnist.yaml") for variant in args.variants]
    started = header(f"The zoo on MNIST, {time.strftime('%Y-%m-%d')}", recipes)
    groups: dict[str, list[dict]] = {} if args.no_real else {REAL: [real_data_row(args)]}
    commands = []
    args.grids.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        for seed in range(args.seeds):
            row, train = train_and_measure(variant, seed, args)
            groups.setdefault(variant, []).append(row)
            commands.append(
                (
                    f"{variant}, seed {seed}",
                    " ".join(shlex.quote(a) for a in ["ganzoo", *train]),
                    f"ganzoo eval <run> --n {args.n}",
                )
            )
    text = table(groups)
    print(text)
    if args.out:
        spread = f"mean ± standard deviation over {args.seeds} seeds" if args.seeds > 1 else "one seed"
        floor = (
            ""
            if args.no_real
            else " The real-data row is up to n images of the MNIST test split against the same reference."
        )
        about = (
            f"{(f'{args.steps:,} steps' if args.steps else f'{args.seconds:g} s (wall clock)') + ' of training each, ' if args.variants else ''}"
            f"n = {args.n} generated samples, dataset classifier features; {spread}.{floor}"
        )
        steps = [line for name, train, evaluate in commands for line in (f"# {name}", train, evaluate)]
        raw = [row for rows in groups.values() for row in rows]
        write_results(args.out, "", body=f"{about}\n\n{text}", commands=steps, raw=raw, started=started)
    if args.wandb:
        zoo_runs = [(variant, REPO / row["run"]) for variant, rows in groups.items() if variant != REAL for row in rows]
        raise SystemExit(report_zoo(args.wandb, zoo_runs, args.runs / "zoo-report.html"))


if __name__ == "__main__":
    main()
