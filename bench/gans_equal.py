"""A small "Are GANs created equal?" (Lucic et al., NeurIPS 2018) on MNIST: each loss searched
with the same budget, and the distribution of FID per loss.

Every loss trains the same networks (recipes/dcgan_mnist.yaml at ``--width``, D without batch
norm so that WGAN-GP's per-sample penalty holds; the non-saturating loss reads D's logit
through a sigmoid) and gets the same search: ``--trials`` random draws of the same space
(both learning rates log-uniform on [1e-5, 1e-2] as in the paper, each network's Adam betas
from three common settings, 1 or 5 D updates per G update as the paper's n_disc), each
trained ``--steps`` generator steps and measured by ``ganzoo eval`` (classifier FID against
``--n`` training images, ``eval.reference``'s default, on ``--n`` samples). Optuna's random sampler has a fixed seed, so every loss is
tried on the same hyperparameter draws: the comparison is paired. A trial that diverges
counts, as in the paper, as a failed trial (reported apart, not as an FID).

    python bench/gans_equal.py --trials 10 --steps 800 --out bench/results/gans-equal-cpu.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from provenance import header, recipe_fingerprint, write_results
from zoo_results import REPO, relative

RECIPE = "recipes/dcgan_mnist.yaml"
LOSSES = {
    "non-saturating": ["model.output=probability", "loss.name=bce"],
    "LSGAN": ["model.output=logit", "loss.name=lsgan"],
    "WGAN-GP": ["model.output=logit", "loss.name=wgan_gp", "loss.weight=10.0"],
    "hinge": ["model.output=logit", "loss.name=hinge"],
}
"""Each arm: the loss and how D's output meets it; everything else is shared."""

BETAS = [[0.5, 0.999], [0.0, 0.9], [0.9, 0.999]]
"""DCGAN's, WGAN-GP's and Adam's default betas."""


def space(args: argparse.Namespace) -> dict:
    """The sweep file every loss is searched with."""
    return {
        "space": {
            "optim.generator.lr": {"log_uniform": [1.0e-5, 1.0e-2]},
            "optim.discriminator.lr": {"log_uniform": [1.0e-5, 1.0e-2]},
            "optim.generator.betas": {"choice": BETAS},
            "optim.discriminator.betas": {"choice": BETAS},
            "train.d_steps": {"choice": [1, 5]},
        },
        "budget": {"steps": args.steps},
        "metric": "fid/classifier",
        "direction": "minimize",
        "trials": args.trials,
        "sampler": "random",
        "prune": False,
        "eval": {"n": args.n},
    }


def shared(args: argparse.Namespace) -> list[str]:
    """The overrides every arm trains with."""
    return [
        f"data.root={args.data_root}",
        f"model.width={args.width}",
        "model.d_norm=none",
        "train.sample_every=100000",
        "wandb.mode=disabled",
        "video.format=gif",
    ]


def sweep(loss: str, space_file: Path, args: argparse.Namespace) -> str:
    """Run (or continue) one loss's sweep, on one core; its command."""
    name = loss.lower().replace("-", "_")
    command = ["sweep", RECIPE, "--space", relative(space_file), "--dir", relative(args.runs), "--name", name]
    command += [*shared(args), *LOSSES[loss]]
    print("$ ganzoo " + " ".join(shlex.quote(a) for a in command), file=sys.stderr, flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_SILENT": "true"}
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo", *command, "--no-progress"], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"{loss}: failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return " ".join(shlex.quote(a) for a in ["ganzoo", *command])


def trials_of(loss: str, args: argparse.Namespace) -> list[dict]:
    """Every trial of a loss's sweep: its number, state, values and FID."""
    import optuna

    name = loss.lower().replace("-", "_")
    folder = args.runs / name
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'study.db'}")
    return [
        {
            "number": t.number,
            "state": t.state.name,
            "params": t.params,
            "fid": t.value,
            "runs": t.user_attrs.get("runs", []),
        }
        for t in study.trials
    ]


def quantiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def table(results: dict[str, list[dict]]) -> str:
    lines = [
        "| loss | trials | failed | best FID | first quartile | median | third quartile | worst |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for loss, trials in results.items():
        fids = sorted(t["fid"] for t in trials if t["state"] == "COMPLETE")
        failed = sum(1 for t in trials if t["state"] != "COMPLETE")
        q1, median, q3 = quantiles(fids)
        cells = [f"{v:,.1f}" for v in (fids[0], q1, median, q3, fids[-1])] if fids else [""] * 5
        lines.append(f"| {loss} | {len(trials)} | {failed} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired(results: dict[str, list[dict]]) -> str:
    """How often each loss is the best of the four on the same hyperparameter draw."""
    by_draw: dict[int, dict[str, float]] = {}
    for loss, trials in results.items():
        for t in trials:
            if t["state"] == "COMPLETE":
                by_draw.setdefault(t["number"], {})[loss] = t["fid"]
    wins = dict.fromkeys(results, 0)
    complete = [draw for draw in by_draw.values() if len(draw) == len(results)]
    for draw in complete:
        wins[min(draw, key=lambda loss: draw[loss])] += 1
    return ", ".join(f"{loss} {n}" for loss, n in wins.items()) + f" (of {len(complete)} draws every loss finished)"


def plot(results: dict[str, list[dict]], path: Path) -> None:
    """FID per loss: every trial as a dot over a box of the quartiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = list(results)
    fids = [[t["fid"] for t in results[loss] if t["state"] == "COMPLETE"] for loss in losses]
    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    axes.boxplot(fids, showfliers=False, widths=0.5)
    axes.set_xticks(range(1, len(losses) + 1), losses)
    for k, values in enumerate(fids, start=1):
        spread = [k + 0.12 * ((i % 5) - 2) / 2 for i in range(len(values))]
        axes.scatter(spread, values, s=14, alpha=0.7, zorder=3)
    axes.set_yscale("log")
    axes.set_ylabel("FID (dataset classifier), lower is better")
    axes.set_title("FID of every trial, per loss (same search for each)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def best_grids(results: dict[str, list[dict]], folder: Path) -> list[Path]:
    """Each loss's best trial's last sample grid, copied to ``folder/best-<loss>.png``."""
    copied = []
    for loss, trials in results.items():
        complete = [t for t in trials if t["state"] == "COMPLETE"]
        if not complete:
            continue
        run = Path(min(complete, key=lambda t: t["fid"])["runs"][0])
        run = run if run.is_absolute() else REPO / run
        grid = max((run / "samples").glob("step_*.png"))
        target = folder / f"best-{loss.lower().replace('-', '_')}.png"
        shutil.copyfile(grid, target)
        copied.append(target)
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="hyperparameter draws per loss")
    parser.add_argument("--steps", type=int, default=800, help="generator steps of every trial")
    parser.add_argument("--width", type=int, default=16, help="DCGAN's model.width")
    parser.add_argument("--n", type=int, default=2000, help="generated samples of each trial's FID")
    parser.add_argument("--parallel", type=int, default=2, help="losses searched at once, one core each")
    parser.add_argument("--losses", nargs="*", default=list(LOSSES), choices=list(LOSSES))
    parser.add_argument("--data-root", default="../shared/data", help="folder with MNIST/raw/, from the repository")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "gans-equal", help="where the sweep folders go")
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "study" / "fid-per-loss.png")
    parser.add_argument("--out", type=Path, help="write the table, the commands and the raw values here")
    args = parser.parse_args()

    args.runs.mkdir(parents=True, exist_ok=True)
    space_file = args.runs / "space.yaml"
    space_file.write_text(yaml.safe_dump(space(args), sort_keys=False), encoding="utf-8")
    fingerprints = [recipe_fingerprint(RECIPE, shared(args) + LOSSES[loss]) for loss in args.losses]
    started = header(f"Are GANs created equal? {len(args.losses)} losses, {args.trials} trials each", fingerprints)
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        commands = list(pool.map(lambda loss: sweep(loss, space_file, args), args.losses))
    results = {loss: trials_of(loss, args) for loss in args.losses}
    plot(results, args.plot)
    grids = best_grids(results, args.plot.parent)
    body = table(results) + "\n\nBest on the same draw: " + paired(results)
    body += "\n\nThe best trial's last grid per loss: " + ", ".join(relative(grid) for grid in grids)
    print(body)
    if args.out:
        about = (
            f"{RECIPE} at model.width={args.width}, D without batch norm; {args.trials} random draws of the "
            f"same space per loss, {args.steps:,} generator steps each, one seed, classifier FID on n = {args.n} "
            f"generated samples against as many training images (eval.reference: training). Plot: {relative(args.plot)}.\n\nThe sweep file:\n\n"
            f"```yaml\n{space_file.read_text()}```"
        )
        write_results(args.out, "", body=f"{about}\n\n{body}", commands=commands, raw=results, started=started)


if __name__ == "__main__":
    main()
