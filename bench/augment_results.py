"""The little-data table of docs/augment.md: DCGAN on MNIST with a few hundred training images
(and optionally all 60,000), each without augmentation, with DiffAugment and with ADA,
several seeds, the same number of steps for all.

Each run trains ``recipes/dcgan_mnist.yaml`` (narrowed to ``--width`` so that the measurement
fits a CPU) on a fixed class-balanced subset (``data.limit``; the same subset for every arm
and seed) and is measured every ``--eval-every`` steps on ``--eval-n`` samples: FID in the
dataset classifier's feature space against the MNIST test split (``eval.reference:
held_out``), which gives each arm a curve of FID against steps. After training, ``ganzoo
eval`` measures the final generator on ``--final-n`` samples: FID and memorisation
(``copy_ratio``: how close generated samples come to their nearest training image, against
how close held-out real images come; below 1 means copying).

The measurement runs in pieces, so that no piece runs long: ``train`` trains the runs it is
given (``--sizes``, ``--arms``, ``--seeds``; ``--parallel`` at a time, one CPU thread each)
and leaves each run's numbers in ``<run folder>.json``; a run already measured is skipped.
``report`` gathers every measured run under ``--runs`` (they must share their settings),
adds the real-data row, and writes the table, the FID curves, seed 0's grids, and how the
numbers compare with the little-data papers', to a results file with the provenance header.

    python bench/augment_results.py train --sizes 100 --arms none ada --seeds 0
    python bench/augment_results.py report --out bench/results/augment-cpu.md --docs docs/augment.md
    python bench/augment_results.py train --sizes 100 --seeds 0 --steps 40 --eval-every 20 --width 4 \\
        --eval-n 200 --final-n 200 --runs /tmp/augment-smoke                  # a smoke run
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from provenance import commit, header, recipe_fingerprint, write_results

REPO = Path(__file__).resolve().parents[1]
RECIPE = "recipes/dcgan_mnist.yaml"
FULL = 60_000
ARMS = {
    "none": ["augment.name=none"],
    "diffaugment": ["augment.name=diffaugment", "augment.policy=color,translation,cutout"],
    "ada": ["augment.name=ada"],
}
REAL = "real training images"
SETTINGS = ("recipe", "steps", "width", "eval_every", "eval_n", "final_n", "ada_speed", "data_root")
"""What every run of one table shares: ``report`` refuses to put runs with other values together."""


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


def changed_files() -> list[str]:
    """The tracked files that differ from the commit (a run's provenance, beside the commit)."""
    out = subprocess.run(["git", "diff", "--name-only", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    return out.split()


def run_name(size: int, arm: str, seed: int, args: argparse.Namespace) -> str:
    return f"{Path(args.recipe).stem}-{size}-{arm}-s{seed}"


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
        f"device={args.device}",
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
        f"run.name={run_name(size, arm, seed, args)}",
        "wandb.mode=disabled",
        "video.format=gif",
        "--no-progress",
    ]


def one_run(size: int, arm: str, seed: int, args: argparse.Namespace) -> dict:
    """Train one arm, read its FID curve, measure its final generator, and leave the numbers
    in ``<run folder>.json``."""
    folder = args.runs / run_name(size, arm, seed, args)
    record = folder.with_suffix(".json")
    if record.is_file():
        print(f"measured already: {relative(record)}", file=sys.stderr)
        return json.loads(record.read_text())
    if folder.exists():
        raise SystemExit(f"{relative(folder)} exists without its measurement: remove it to train it again")
    train = train_command(size, arm, seed, args)
    at = {
        "commit": commit(),
        "uncommitted": changed_files(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    started = time.monotonic()
    ganzoo(*train)
    seconds = time.monotonic() - started
    curve = [
        (entry["step"], next(r["value"] for r in entry["results"] if r["key"] == "fid/classifier"))
        for entry in map(json.loads, (folder / "eval.jsonl").read_text().splitlines())
        if entry["source"] == "training"
    ]
    evaluate = ["eval", relative(folder), "--metrics", "fid,memorization", "--n", str(args.final_n), "--json"]
    final = json.loads(ganzoo(*evaluate, "--no-progress").stdout)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    p = [row["ada_p"] for row in rows if "ada_p" in row]
    if seed == 0:
        grid = args.figures / f"grid-{Path(args.recipe).stem}-{size}-{arm}.png"
        ganzoo("sample", relative(folder), "--grid", "8x8", "--seed", "0", "--out", relative(grid))
    result = {
        "size": size,
        "arm": arm,
        "seed": seed,
        "settings": {key: getattr(args, key) for key in SETTINGS},
        **at,  # the code it trained with: the commit, and the tracked files that differed from it then
        "seconds": round(seconds, 1),
        "curve": curve,
        "final": {r["key"]: r["value"] for r in final["results"]},
        "ada_p": p[-1] if p else None,
        "d_gap": [(row["step"], row["d_train"] - row["d_held_out"]) for row in rows if "d_train" in row],
        "run": relative(folder),
        "commands": ["ganzoo " + shlex.join(train), "ganzoo " + shlex.join(evaluate)],
    }
    record.write_text(json.dumps(result, indent=1))
    return result


def real_row(args: argparse.Namespace) -> dict:
    """Real training images against the same reference (the test split), in the same feature
    space, at the curves' and the final sample counts: the floor of the table."""
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
        values[str(n)] = metrics[0].compute(ctx)["fid/classifier"]
    return {"arm": REAL, "fid": values}


# --------------------------------------------------------------------------- the report


def mean(numbers: list[float]) -> float:
    return statistics.fmean(numbers)


def spread(numbers: list[float], digits: int = 1) -> str:
    shown = f"{mean(numbers):,.{digits}f}"
    return shown + (f" ± {statistics.stdev(numbers):,.{digits}f}" if len(numbers) > 1 else "")


def best(run: dict) -> float:
    return min(fid for _, fid in run["curve"])


def last(run: dict) -> float:
    return run["curve"][-1][1]


def final_fid(run: dict) -> float:
    return run["final"]["fid/classifier"]


def copy_ratio(run: dict) -> float:
    return run["final"]["copy_ratio/classifier"]


def gap(run: dict) -> float:
    """D's mean output on training images less that on held-out ones, at the last log."""
    return run["d_gap"][-1][1]


def table(groups: dict[tuple[int, str], list[dict]], real: dict, settings: dict) -> str:
    eval_n, final_n = settings["eval_n"], settings["final_n"]
    lines = [
        f"| training images | augmentation | seeds | best FID on the curve (n={eval_n:,}) | final FID on the curve "
        f"(n={eval_n:,}) | final FID (n={final_n:,}) | copy ratio | D(train) - D(held-out) | ADA's final p | minutes |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| (60,000) | {REAL} | | | {real['fid'][str(eval_n)]:,.1f} | {real['fid'][str(final_n)]:,.1f} | | | | |",
    ]
    for (size, arm), runs in groups.items():
        p = spread([run["ada_p"] for run in runs], 3) if arm == "ada" else ""
        lines.append(
            f"| {size:,} | {arm} | {len(runs)} | {spread([best(r) for r in runs])} | {spread([last(r) for r in runs])} "
            f"| {spread([final_fid(r) for r in runs])} | {spread([copy_ratio(r) for r in runs], 2)} | "
            f"{spread([gap(r) for r in runs], 2)} | {p} | "
            f"{spread([r['seconds'] / 60 for r in runs])} |"
        )
    return "\n".join(lines)


def comparisons(groups: dict[tuple[int, str], list[dict]]) -> list[str]:
    """What the numbers say against the little-data papers (means over seeds): augmentation's
    gain in FID, whether it copies the training images more, and ADA's p as the data grows."""

    def of(size: int, arm: str, value: Callable[[dict], float]) -> float | None:
        runs = groups.get((size, arm))
        return mean([value(run) for run in runs]) if runs else None

    lines = []
    for size in sorted({size for size, _ in groups}):
        none = of(size, "none", final_fid)
        augmented = {arm: of(size, arm, final_fid) for arm in ("diffaugment", "ada")}
        measured = {arm: fid for arm, fid in augmented.items() if fid is not None}
        if none is None or not measured:
            continue
        arm, fid = min(measured.items(), key=lambda item: item[1])
        if size < FULL:
            lines.append(
                f"- {size:,} images: the better augmentation ({arm}, final FID {fid:,.1f}) against none "
                f"({none:,.1f}): {none / fid:.2f}x lower, where the little-data papers report 1.5x lower."
            )
            copies = {a: of(size, a, copy_ratio) for a in ("none", arm)}
            if all(value is not None for value in copies.values()):
                more = copies[arm] < copies["none"]  # type: ignore[operator]
                lines.append(
                    f"- {size:,} images: copy ratio of {arm} {copies[arm]:.2f} against none's {copies['none']:.2f} "
                    f"(lower copies more): augmentation {'copies more' if more else 'copies no more'}."
                )
        else:
            worse = max(measured.values()) / none - 1
            lines.append(
                f"- {size:,} images: augmentation changes FID by at most {worse:+.0%} against none, where the "
                f"papers report it costs little on full data."
            )
    ps = [(size, of(size, "ada", lambda run: run["ada_p"])) for size in sorted({size for size, _ in groups})]
    ps = [(size, p) for size, p in ps if p is not None]
    if len(ps) > 1:
        falling = all(a[1] > b[1] for a, b in zip(ps, ps[1:]))  # type: ignore[operator]
        shown = ", ".join(f"{size:,}: {p:.3f}" for size, p in ps)
        lines.append(
            f"- ADA's final p as the data grows ({shown}): "
            + (
                "lower with more data, as in the ADA paper."
                if falling
                else "not lower with more data, unlike the ADA paper."
            )
        )
    return lines


def draw_curves(groups: dict[tuple[int, str], list[dict]], settings: dict, figures: Path) -> list[Path]:
    """One PNG per size: each arm's FID against steps, the mean over seeds with the seeds'
    range shaded."""
    from matplotlib.figure import Figure

    paths = []
    stem = Path(settings["recipe"]).stem
    for size in sorted({size for size, _ in groups}):
        figure = Figure(figsize=(6, 3.4), dpi=100)
        axes = figure.add_subplot()
        for arm in ARMS:
            curves = [run["curve"] for run in groups.get((size, arm), [])]
            if not curves:
                continue
            steps = [step for step, _ in curves[0]]
            values = [[fid for _, fid in curve] for curve in curves]
            axes.plot(steps, [mean(list(column)) for column in zip(*values)], label=arm, linewidth=1.4)
            axes.fill_between(steps, [min(c) for c in zip(*values)], [max(c) for c in zip(*values)], alpha=0.2)
        axes.set_xlabel("step")
        axes.set_ylabel(f"FID (classifier, n={settings['eval_n']:,})")
        axes.set_yscale("log")
        axes.set_title(f"{stem}: {size:,} training images")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = figures / f"fid-{stem}-{size}.png"
        figure.savefig(path)
        paths.append(path)
    return paths


DOCS_BLOCK = (
    "<!-- augment-results: written by bench/augment_results.py report --docs -->",
    "<!-- /augment-results -->",
)


def write_docs(page: Path, out: Path, body: str, figures: list[Path], grids: list[tuple[int, list[Path]]]) -> None:
    """Put the table, the curves and seed 0's grids into ``page`` between the markers of
    :data:`DOCS_BLOCK`, naming the results file they come from."""
    content = page.read_text(encoding="utf-8")
    start, end = content.index(DOCS_BLOCK[0]) + len(DOCS_BLOCK[0]), content.index(DOCS_BLOCK[1])

    def link(path: Path) -> str:
        return os.path.relpath(path, page.parent)

    curves = "\n".join(f"![FID against steps, {path.stem}]({link(path)})" for path in figures)
    rows = "\n".join(
        f"| {size:,} | " + " | ".join(f"![{path.stem}]({link(path)})" for path in paths) + " |" for size, paths in grids
    )
    block = (
        f"\n\nFrom [{relative(out)}]({link(out)}) (the commit, the machine, every command and the raw "
        f"values are there):\n\n{body}\n\n{curves}\n\nThe final samples of seed 0:\n\n"
        f"| training images | {' | '.join(ARMS)} |\n| ---: |{' --- |' * len(ARMS)}\n{rows}\n"
    )
    page.write_text(content[:start] + block + content[end:], encoding="utf-8")


def report(args: argparse.Namespace) -> None:
    runs = [json.loads(path.read_text()) for path in sorted(args.runs.glob("*.json"))]
    if not runs:
        raise SystemExit(f"no measured run under {relative(args.runs)}: run `train` first")
    settings = runs[0]["settings"]
    mixed = sorted({key for run in runs for key in SETTINGS if run["settings"][key] != settings[key]})
    if mixed:
        raise SystemExit(f"the runs under {relative(args.runs)} differ in {', '.join(mixed)}: one table, one setting")
    args.eval_n, args.final_n, args.recipe, args.data_root = (
        settings["eval_n"],
        settings["final_n"],
        settings["recipe"],
        settings["data_root"],
    )
    groups: dict[tuple[int, str], list[dict]] = {}
    for run in sorted(runs, key=lambda r: (r["size"], list(ARMS).index(r["arm"]), r["seed"])):
        groups.setdefault((run["size"], run["arm"]), []).append(run)
    started = header(
        f"Little data: DCGAN on MNIST with and without augmentation, {time.strftime('%Y-%m-%d')}",
        [recipe_fingerprint(settings["recipe"], [f"model.width={settings['width']}"])],
    )
    real = real_row(args)
    text = table(groups, real, settings)
    compared = "\n".join(comparisons(groups))
    args.figures.mkdir(parents=True, exist_ok=True)
    figures = draw_curves(groups, settings, args.figures)
    stem = Path(settings["recipe"]).stem
    grids = [
        (size, [args.figures / f"grid-{stem}-{size}-{arm}.png" for arm in ARMS if (size, arm) in groups])
        for size in sorted({size for size, _ in groups})
    ]
    about = (
        f"Every run: {settings['steps']:,} steps of batch 64, DCGAN with model.width={settings['width']} (the "
        f"recipe's is 64), on the CPU with one thread, two runs at a time; the same class-balanced subset "
        f"(data.subset_seed 0) for every arm and seed; ADA with augment.speed={settings['ada_speed']:,}. FID in the "
        f"dataset classifier's feature space against the MNIST test split: every {settings['eval_every']:,} steps "
        f"on {settings['eval_n']:,} samples (the curve), and after training on {settings['final_n']:,} samples "
        f"with the copy ratio (the 0.1 quantile of generated samples' distance to their nearest training image "
        f"over that of held-out real images). D(train) - D(held-out): D's mean output (a probability) on 256 "
        f"training images less that on 256 test images at the last step, the gap that shows D memorising. Mean ± standard deviation over the seeds. The real-data row: "
        f"training images against the same reference. Each run was trained at the commit its raw values name."
    )
    body = (
        f"{about}\n\n{text}\n\nAgainst the papers:\n\n{compared}\n\nFigures: {', '.join(relative(p) for p in figures)}."
    )
    print(body)
    if args.out:
        commands = [command for run in runs for command in run["commands"]]
        raw = {"real": real, "runs": runs}
        write_results(args.out, "", body=body, commands=commands, raw=raw, started=started)
    if args.docs:
        write_docs(args.docs, args.out, f"{text}\n\n{compared}", figures, grids)


def train(args: argparse.Namespace) -> None:
    for size in args.sizes:
        if not 0 < size <= FULL:
            raise SystemExit(f"--sizes: {size} is not between 1 and {FULL:,}")
    args.runs.mkdir(parents=True, exist_ok=True)
    args.figures.mkdir(parents=True, exist_ok=True)
    jobs = [(size, arm, seed) for size in args.sizes for seed in args.seeds for arm in args.arms]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        done = list(pool.map(lambda job: one_run(job[0], job[1], job[2], args), jobs))
    for run in done:
        fids = ", ".join(f"{fid:.1f}" for _, fid in run["curve"])
        print(f"{run['size']} {run['arm']} seed {run['seed']}: FID curve {fids}; final {final_fid(run):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["train", "report"], help="train runs, or report on those trained")
    parser.add_argument("--recipe", default=RECIPE, help="a DCGAN recipe, from the repository")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500], help="training images")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS), help="augmentations")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="the seeds of every arm")
    parser.add_argument("--steps", type=int, default=3_000, help="training steps of every run")
    parser.add_argument("--width", type=int, default=16, help="model.width of DCGAN (the recipe's is 64)")
    parser.add_argument("--eval-every", type=int, default=500, help="steps between the points of the FID curves")
    parser.add_argument("--eval-n", type=int, default=1_000, help="generated samples per point of the curves")
    parser.add_argument("--final-n", type=int, default=5_000, help="generated samples of the final evaluation")
    parser.add_argument("--ada-speed", type=int, default=100_000, help="augment.speed of ADA (the paper's 500,000)")
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time, one CPU thread each")
    parser.add_argument("--device", default="cpu", help="the runs' device: cpu, or cuda (several runs share one GPU)")
    parser.add_argument("--data-root", default="../shared/data", help="folder with MNIST/raw/, from the repository")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "augment", help="where the run folders go")
    parser.add_argument("--figures", type=Path, default=REPO / "docs" / "augment", help="where curves and grids go")
    parser.add_argument("--out", type=Path, help="report: write the table, the commands and the raw values here")
    parser.add_argument("--docs", type=Path, help="report: and show them in this page, between its markers")
    args = parser.parse_args()
    if args.docs and not args.out:
        parser.error("--docs needs --out: the page names the results file its numbers come from")
    args.runs, args.figures = args.runs.resolve(), args.figures.resolve()
    action: Callable[[argparse.Namespace], Any] = train if args.action == "train" else report
    action(args)


if __name__ == "__main__":
    main()
