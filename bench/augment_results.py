"""The little-data table of docs/augment.md: DCGAN on MNIST with 100, 500, 2,000 and 60,000
training images, each without augmentation, with DiffAugment and with ADA, several seeds,
the same number of steps for all.

Each run trains ``recipes/dcgan_mnist.yaml`` (narrowed to ``--width`` so that the whole
measurement fits a CPU) on a fixed class-balanced subset (``data.limit``; the same subset
for every arm and seed) and is measured every ``--eval-every`` steps on ``--eval-n``
samples: FID in the dataset classifier's feature space against the MNIST test split
(``eval.reference: held_out``), which gives each arm a curve of FID against steps. After
training, ``ganzoo eval`` measures the final generator on ``--final-n`` samples: FID and
memorisation (``copy_ratio``: generated samples' distance to their nearest training image
against held-out real images'; below 1 means copying). The table reports, per arm, the
mean ± standard deviation over the seeds of the best and the final FID of the curve, the
final FID at ``--final-n``, the copy ratio and ADA's final p; a first row measures real
training images against the same reference (the floor). The figures are the mean FID
curves of each size and the final 8x8 grids of seed 0.

Runs go ``--parallel`` at a time, one CPU thread each (two on a 2-core machine). Every
command is printed and written to the result file with the commit, whether the tree was
clean, the torch version, the machine and the raw values.

    python bench/augment_results.py --out bench/results/augment-cpu.md                    # the measurement
    python bench/augment_results.py --sizes 100 --seeds 1 --steps 40 --eval-every 20 \\
        --width 4 --eval-n 200 --final-n 200 --out /tmp/augment-smoke.md --figures /tmp/augment-smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECIPE = "recipes/dcgan_mnist.yaml"
FULL = 60_000
ARMS = {
    "none": ["augment.name=none"],
    "diffaugment": ["augment.name=diffaugment", "augment.policy=color,translation,cutout"],
    "ada": ["augment.name=ada"],
}
REAL = "real training images"


def relative(path: Path | str) -> str:
    return os.path.relpath(os.path.abspath(path), REPO)


def ganzoo(*args: str, threads: int = 1) -> subprocess.CompletedProcess[str]:
    """``ganzoo ARGS`` from the repository, on ``threads`` CPU threads; stops the bench on failure."""
    print("$ ganzoo " + " ".join(shlex.quote(a) for a in args), file=sys.stderr, flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    result = subprocess.run([sys.executable, "-m", "ganzoo", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): ganzoo {' '.join(args)}\n{result.stderr[-3000:]}")
    return result


def train_command(size: int, arm: str, seed: int, args: argparse.Namespace) -> list[str]:
    """The ``ganzoo run`` arguments of one arm, size and seed."""
    limit = [f"data.limit={size}"] if size < FULL else []
    ada = [f"augment.speed={args.ada_speed}"] if arm == "ada" else []
    return [
        "run",
        args.recipe,
        f"data.root={args.data_root}",
        *limit,
        *ARMS[arm],
        *ada,
        f"model.width={args.width}",
        f"seed={seed}",
        "train.epochs=1000000",
        f"train.max_steps={args.steps}",
        f"train.log_every={args.eval_every}",
        f"train.sample_every={args.steps}",
        f"eval.every_steps={args.eval_every}",
        f"eval.n={args.eval_n}",
        "eval.reference=held_out",
        "eval.metrics=[{name: fid}]",
        f"checkpoint.every={args.steps}",
        "checkpoint.keep_last=1",
        f"run.dir={relative(args.runs)}",
        f"run.name={Path(args.recipe).stem}-{size}-{arm}-s{seed}",
        "wandb.mode=disabled",
        "video.format=gif",
        "--no-progress",
    ]


def one_run(size: int, arm: str, seed: int, args: argparse.Namespace) -> dict:
    """Train one arm, read its FID curve, and measure its final generator."""
    train = train_command(size, arm, seed, args)
    started = time.monotonic()
    ganzoo(*train)
    seconds = time.monotonic() - started
    folder = args.runs / f"{Path(args.recipe).stem}-{size}-{arm}-s{seed}"
    curve = [
        (entry["step"], next(r["value"] for r in entry["results"] if r["key"] == "fid/classifier"))
        for entry in map(json.loads, (folder / "eval.jsonl").read_text().splitlines())
        if entry["source"] == "training"
    ]
    final = json.loads(
        ganzoo(
            "eval",
            relative(folder),
            "--metrics",
            "fid,memorization",
            "--n",
            str(args.final_n),
            "--json",
            "--no-progress",
        ).stdout
    )
    values = {r["key"]: r["value"] for r in final["results"]}
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    p = [row["ada_p"] for row in rows if "ada_p" in row]
    gaps = [(row["step"], row["d_train"] - row["d_held_out"]) for row in rows if "d_train" in row]
    if seed == 0:
        grid = args.figures / f"grid-{Path(args.recipe).stem}-{size}-{arm}.png"
        ganzoo("sample", relative(folder), "--grid", "8x8", "--out", relative(grid))
    return {
        "size": size,
        "arm": arm,
        "seed": seed,
        "seconds": round(seconds, 1),
        "curve": curve,
        "final": values,
        "ada_p": p[-1] if p else None,
        "d_gap": gaps,
        "run": relative(folder),
        "command": "ganzoo " + " ".join(shlex.quote(a) for a in train),
    }


def real_row(args: argparse.Namespace) -> dict:
    """``n`` real training images against the same reference (the test split), in the same
    feature space, at the curves' and the final sample counts: the floor of the table."""
    import torch

    from ganzoo.api.metrics import MetricContext
    from ganzoo.inference import load_dataset
    from ganzoo.inference.evaluation import Evaluation, select_metrics
    from ganzoo.plugins import Registry, make_plugin_manager
    from ganzoo.recipe import load_recipe

    registry = Registry.from_plugin_manager(make_plugin_manager())
    overrides = [f"data.root={REPO / args.data_root}", "eval.reference=held_out", "device=cpu"]
    recipe = load_recipe(REPO / args.recipe, registry, overrides)
    train = load_dataset(recipe, registry)
    values = {}
    for n in sorted({args.eval_n, args.final_n}):
        metrics = select_metrics(registry, recipe, train, ["fid"])
        evaluation = Evaluation(registry, recipe, train, metrics, device=torch.device("cpu"), n=n, progress=False)
        chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n]
        ctx = MetricContext(
            evaluation.real, train.samples[chosen], evaluation.real_labels, None, evaluation.data, evaluation.extractor
        )
        values[n] = metrics[0].compute(ctx)["fid/classifier"]
    return {"arm": REAL, "fid": values}


def spread(numbers: list[float], digits: int = 1) -> str:
    mean = statistics.fmean(numbers)
    return f"{mean:,.{digits}f}" + (f" ± {statistics.stdev(numbers):,.{digits}f}" if len(numbers) > 1 else "")


def table(runs: list[dict], real: dict, args: argparse.Namespace) -> str:
    lines = [
        f"| training images | augmentation | best FID (n={args.eval_n:,}) | final FID (n={args.eval_n:,}) | "
        f"final FID (n={args.final_n:,}) | copy ratio | ADA's final p | seconds |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| (60,000) | {REAL} | {real['fid'][args.eval_n]:,.1f} | | {real['fid'][args.final_n]:,.1f} | | | |",
    ]
    for size in args.sizes:
        for arm in args.arms:
            group = [run for run in runs if run["size"] == size and run["arm"] == arm]
            if not group:
                continue
            best = spread([min(fid for _, fid in run["curve"]) for run in group])
            last = spread([run["curve"][-1][1] for run in group])
            final = spread([run["final"]["fid/classifier"] for run in group])
            ratio = spread([run["final"]["copy_ratio/classifier"] for run in group], 2)
            p = spread([run["ada_p"] for run in group], 2) if arm == "ada" else ""
            seconds = spread([run["seconds"] for run in group], 0)
            lines.append(f"| {size:,} | {arm} | {best} | {last} | {final} | {ratio} | {p} | {seconds} |")
    return "\n".join(lines)


def draw_curves(runs: list[dict], args: argparse.Namespace) -> list[Path]:
    """One PNG per size: each arm's FID against steps, the mean over seeds with the
    seeds' range shaded."""
    from matplotlib.figure import Figure

    paths = []
    for size in args.sizes:
        figure = Figure(figsize=(6, 3.4), dpi=100)
        axes = figure.add_subplot()
        for arm in args.arms:
            group = [run["curve"] for run in runs if run["size"] == size and run["arm"] == arm]
            if not group:
                continue
            steps = [step for step, _ in group[0]]
            values = [[fid for _, fid in curve] for curve in group]
            mean = [statistics.fmean(column) for column in zip(*values)]
            axes.plot(steps, mean, label=arm, linewidth=1.4)
            axes.fill_between(steps, [min(c) for c in zip(*values)], [max(c) for c in zip(*values)], alpha=0.2)
        axes.set_xlabel("step")
        axes.set_ylabel(f"FID (classifier, n={args.eval_n:,})")
        axes.set_yscale("log")
        axes.set_title(f"{Path(args.recipe).stem}: {size:,} training images")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = args.figures / f"fid-{Path(args.recipe).stem}-{size}.png"
        figure.savefig(path)
        paths.append(path)
    return paths


DOCS_BLOCK = ("<!-- augment-results: written by bench/augment_results.py --docs -->", "<!-- /augment-results -->")


def write_docs(page: Path, text: str, figures: list[Path], args: argparse.Namespace) -> None:
    """Put the table, the curves and seed 0's grids into ``page``, between the markers of
    :data:`DOCS_BLOCK`, naming the results file they come from."""
    content = page.read_text(encoding="utf-8")
    start, end = content.index(DOCS_BLOCK[0]) + len(DOCS_BLOCK[0]), content.index(DOCS_BLOCK[1])
    docs = page.parent

    def link(path: Path) -> str:
        return os.path.relpath(path, docs)

    curves = "\n".join(f"![FID against steps, {path.stem}]({link(path)})" for path in figures)
    grids = "\n".join(
        f"| {size:,} | "
        + " | ".join(
            f"![{arm}]({link(args.figures / f'grid-{Path(args.recipe).stem}-{size}-{arm}.png')})" for arm in args.arms
        )
        + " |"
        for size in args.sizes
    )
    block = (
        f"\n\nFrom [{relative(args.out)}]({link(args.out)}) (the commit, the machine, every command and the raw "
        f"values are there):\n\n{text}\n\n{curves}\n\nThe final samples of seed 0:\n\n"
        f"| training images | {' | '.join(args.arms)} |\n| ---: |{' --- |' * len(args.arms)}\n{grids}\n"
    )
    page.write_text(content[:start] + block + content[end:], encoding="utf-8")


def machine() -> str:
    import torch

    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return (
        f"commit {commit} ({'uncommitted changes in the tree' if dirty else 'clean tree'}), torch {torch.__version__}, "
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default=RECIPE, help="a DCGAN recipe, from the repository (dcgan_fashion.yaml)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2_000, FULL], help="training images")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS), help="augmentations")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 to N-1 of every arm")
    parser.add_argument("--steps", type=int, default=6_000, help="training steps of every run")
    parser.add_argument("--width", type=int, default=16, help="model.width of DCGAN (the recipe's is 64)")
    parser.add_argument("--eval-every", type=int, default=500, help="steps between the points of the FID curves")
    parser.add_argument("--eval-n", type=int, default=2_000, help="generated samples per point of the curves")
    parser.add_argument("--final-n", type=int, default=10_000, help="generated samples of the final evaluation")
    parser.add_argument("--ada-speed", type=int, default=100_000, help="augment.speed of ADA (the paper's 500,000)")
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time, one CPU thread each")
    parser.add_argument("--data-root", default="../shared/data", help="folder with MNIST/raw/, from the repository")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "augment", help="where the run folders go")
    parser.add_argument("--figures", type=Path, default=REPO / "docs" / "augment", help="where curves and grids go")
    parser.add_argument("--out", type=Path, help="also write the table, the commands and the raw results here")
    parser.add_argument("--docs", type=Path, help="and show them in this page (docs/augment.md), between its markers")
    args = parser.parse_args()
    if args.docs and not args.out:
        parser.error("--docs needs --out: the page names the results file its numbers come from")
    for size in args.sizes:
        if not 0 < size <= FULL:
            parser.error(f"--sizes: {size} is not between 1 and {FULL:,}")
    args.runs.mkdir(parents=True, exist_ok=True)
    args.figures.mkdir(parents=True, exist_ok=True)

    started = time.strftime("%Y-%m-%d %H:%M")
    real = real_row(args)
    jobs = [(size, arm, seed) for size in args.sizes for arm in args.arms for seed in range(args.seeds)]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        runs = list(pool.map(lambda job: one_run(*job, args), jobs))
    text = table(runs, real, args)
    figures = draw_curves(runs, args)
    print(text)
    if args.out:
        listing = "\n".join(
            f"    {run['command']}\n    ganzoo eval <run> --metrics fid,memorization --n {args.final_n}" for run in runs
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            f"# Little data: DCGAN on MNIST with and without augmentation, {started} to {time.strftime('%H:%M')}\n\n"
            f"Command (from the repository):\n\n    python bench/augment_results.py "
            f"{' '.join(shlex.quote(a) for a in sys.argv[1:])}\n\n{machine()}; {args.parallel} runs at a time, one "
            f"thread each. {args.steps:,} steps of batch 64 per run, DCGAN width {args.width}; FID in the dataset "
            f"classifier's feature space against the MNIST test split; mean ± standard deviation over {args.seeds} "
            f"seed(s). Figures: {', '.join(relative(p) for p in figures)}.\n\n{text}\n\nEach run:\n\n{listing}\n\n"
            f"Raw results:\n\n```json\n{json.dumps({'real': real, 'runs': runs}, indent=1)}\n```\n"
        )
    if args.docs:
        write_docs(args.docs, text, figures, args)


if __name__ == "__main__":
    main()
