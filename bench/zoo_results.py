"""The results table of docs/zoo.md: every variant on MNIST after the same CPU budget.

Each variant's recipe trains with the ``time_budget`` callback (wall-clock seconds), then
``ganzoo eval`` measures it with the project's offline metrics (the dataset classifier's
features, n generated samples) and ``ganzoo sample`` draws its 8x8 grid. Every command is
printed, so each row can be reproduced alone. Run it on an otherwise idle machine: the
budget is wall-clock time.

    python bench/zoo_results.py --seconds 150 --out bench/results/zoo-cpu.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from ganzoo.wandb_report import report_zoo, wandb_target, zoo_wandb_override

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ["vanilla", "dcgan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "ebgan", "began", "cgan", "acgan",
            "infogan", "dcgan_stabilized"]
KEYS = ["fid/classifier", "kid/classifier", "is/classifier", "class_coverage", "class_kl"]


def ganzoo(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ganzoo", *args]
    print("$ ganzoo " + " ".join(shlex.quote(a) for a in args), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def callbacks_with_budget(recipe: str, seconds: float) -> str:
    """The recipe's own callbacks (``ema``, ``instance_noise``...) plus the time budget, as
    one ``callbacks=[...]`` override (an override replaces the whole list)."""
    from ganzoo.plugins import make_plugin_manager
    from ganzoo.recipe import load_recipe
    from ganzoo.registry import Registry

    registry = Registry.from_plugin_manager(make_plugin_manager())
    callbacks = load_recipe(REPO / recipe, registry).resolved["callbacks"]
    entries = [json.dumps(spec) for spec in callbacks] + [json.dumps({"name": "time_budget", "seconds": seconds})]
    return f"callbacks=[{', '.join(entries)}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=150.0, help="training budget per variant (wall clock)")
    parser.add_argument("--n", type=int, default=10_000, help="generated samples per evaluation")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"), help="folder with MNIST/raw/")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "zoo", help="where the run folders go")
    parser.add_argument("--grids", type=Path, default=REPO / "docs" / "zoo", help="where the 8x8 grids go")
    parser.add_argument("--variants", nargs="+", default=VARIANTS)
    parser.add_argument("--out", type=Path, help="also write the table, commands and raw results here")
    parser.add_argument("--wandb", type=wandb_target, metavar="ENTITY/PROJECT",
                        help="log the runs offline to this W&B project and build the zoo's W&B Report "
                             "(its spec and HTML page go to --runs; see docs/report.md)")
    args = parser.parse_args()

    rows, commands, zoo_runs = [], [], []
    group = f"zoo-{time.strftime('%Y%m%d-%H%M%S')}"
    args.grids.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        recipe = f"recipes/{variant}_mnist.yaml"
        train = ["run", recipe, f"data.root={args.data_root}", "train.epochs=1000",
                 callbacks_with_budget(recipe, args.seconds), f"run.dir={args.runs}",
                 f"run.name={variant}-{time.strftime('%Y%m%d-%H%M%S')}", zoo_wandb_override(args.wandb, group),
                 "--no-progress"]
        folder = Path(ganzoo(*train).stdout.split("run folder: ", 1)[1].split("\n", 1)[0])
        folder = folder if folder.is_absolute() else REPO / folder
        zoo_runs.append((variant, folder))
        evaluation = json.loads(ganzoo("eval", str(folder), "--n", str(args.n), "--json", "--no-progress").stdout)
        grid = args.grids / f"{variant}.png"
        ganzoo("sample", str(folder), "--grid", "8x8", "--out", str(grid))
        values = {r["key"]: r["value"] for r in evaluation["results"]}
        metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        rows.append({"variant": variant, "steps": evaluation["step"], "epoch": metrics[-1]["epoch"] if metrics else 0,
                     "values": values, "grid": os.path.relpath(grid, REPO)})
        commands.append((variant, " ".join(shlex.quote(a) for a in ["ganzoo", *train[:-3]]),
                         f"ganzoo eval <run> --n {args.n}"))

    lines = ["| variant | steps | FID (classifier) | KID | IS | class coverage | class KL | grid |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for row in rows:
        v = row["values"]
        lines.append(f"| {row['variant']} | {row['steps']:,} | {v['fid/classifier']:.1f} | {v['kid/classifier']:.1f} | "
                     f"{v['is/classifier']:.2f} | {v['class_coverage']:.1f} | {v['class_kl']:.3f} | "
                     f"[{Path(row['grid']).name}]({row['grid']}) |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        listing = "\n".join(f"    # {variant}\n    {train}\n    {evaluate}" for variant, train, evaluate in commands)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            f"# The zoo on MNIST, {time.strftime('%Y-%m-%d')}\n\nCommand:\n\n    python bench/zoo_results.py "
            f"{' '.join(sys.argv[1:])}\n\n{args.seconds:g} s of training each, {os.cpu_count()} CPU cores, "
            f"n = {args.n} generated samples, dataset classifier features.\n\n{table}\n\nEach row:\n\n{listing}\n\n"
            f"Raw results:\n\n```json\n{json.dumps(rows, indent=1)}\n```\n")
    if args.wandb:
        raise SystemExit(report_zoo(args.wandb, zoo_runs, args.runs / "zoo-report.html"))


if __name__ == "__main__":
    main()
