"""A population (``train.population: K``) against its members trained alone: the weights
each member reaches, and what a step of all K costs against a step of one.

Every run is the installed command (``python -m ganzoo run``), as a user runs it:

* the population for ``--steps`` steps, and each member's recipe alone (its seed, its
  values) for the same steps: the largest difference between their weights, per member;
* the population and member 0 alone again for ``--speed-steps`` steps: the time of one step
  is the difference of the two runs' wall times over the difference of their steps, which
  leaves out what both pay once (start-up, loading the data, the last outputs).

    python bench/population.py --data-root ~/data --out bench/results/population-cpu.md
    python bench/population.py --device cuda --members 8 --batch-size 32 --out bench/results/population-gpu.md

On a GPU the member alone runs with the recipe's ``train.cuda_graph`` (``auto`` captures it)
while the population's batched step runs eagerly.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from provenance import REPO, header, recipe_fingerprint, write_results


def ganzoo_run(recipe: str, overrides: list[str]) -> tuple[float, str]:
    """Run ``ganzoo run``; its wall time in seconds and its standard output."""
    command = [sys.executable, "-m", "ganzoo", "run", recipe, "--no-progress", *overrides]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{completed.stderr}")
    return elapsed, completed.stdout


def largest_difference(a: Path, b: Path) -> float:
    """The largest absolute difference between two runs' G and D weights."""
    first, second = (torch.load(folder / "weights.pt", weights_only=True) for folder in (a, b))
    return max(
        (first[network][name] - second[network][name]).abs().max().item()
        for network in ("generator", "discriminator")
        for name in first[network]
    )


def timing_rounds(args: argparse.Namespace, population: list[str], timed, times: dict[str, float]) -> list[dict]:
    """Seconds of one step, the population's and one run's, per interleaved round: a
    machine's load changes over minutes, and each round compares runs made close together."""
    rounds = []
    for r in range(args.rounds):
        seconds = {}
        for label, overrides in (("population", population), ("alone", [])):
            timed(f"{label}-r{r}-short", [*overrides, f"train.max_steps={args.steps}"])
            timed(f"{label}-r{r}-long", [*overrides, f"train.max_steps={args.speed_steps}"])
            extra = times[f"{label}-r{r}-long"] - times[f"{label}-r{r}-short"]
            seconds[label] = extra / (args.speed_steps - args.steps)
        rounds.append(seconds)
    return rounds


def speed_table(args: argparse.Namespace, rounds: list[dict]) -> str:
    ratios = sorted(r["population"] / r["alone"] for r in rounds)
    ratio = statistics.median(ratios)
    step_alone = statistics.median(r["alone"] for r in rounds)
    step_population = statistics.median(r["population"] for r in rounds)
    return f"""
One step, {args.rounds} interleaved rounds (medians; the ratio's range over rounds in brackets):

| one step of | seconds | against one run alone |
| --- | ---: | ---: |
| one run alone | {step_alone:.4f} | 1.00x |
| the population of {args.members} | {step_population:.4f} | {ratio:.2f}x [{ratios[0]:.2f}-{ratios[-1]:.2f}] |

The population makes {args.members} members' steps in {ratio:.2f}x the time of one run's step:
{args.members / ratio:.2f}x the steps/s of one run, in aggregate.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="recipes/vanilla_mnist.yaml")
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--steps", type=int, default=50, help="steps of the weights comparison")
    parser.add_argument("--speed-steps", type=int, default=300, help="steps of the longer runs timed")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (0: weights only)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-root", default=None, help="a folder holding MNIST/raw/")
    parser.add_argument("--runs", default="runs/bench-population")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    common = [f"device={args.device}", f"run.dir={args.runs}", "wandb.mode=disabled", "video.format=gif"]
    common += ["train.epochs=100000", f"seed={args.seed}"]
    common += [f"data.root={args.data_root}"] if args.data_root else []
    common += [f"train.batch_size={args.batch_size}"] if args.batch_size else []
    population = [f"train.population={args.members}"]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    started = header(
        f"train.population={args.members} against its members alone",
        [recipe_fingerprint(args.recipe, [*common, *population])],
    )
    commands, times = [], {}

    def timed(label: str, overrides: list[str]) -> Path:
        """Run ``label`` (its wall time in ``times[label]``); its run folder."""
        everything = [*common, *overrides, f"run.name={label}-{stamp}"]
        commands.append(f"ganzoo run {args.recipe} --no-progress {' '.join(everything)}")
        times[label], _ = ganzoo_run(args.recipe, everything)
        print(f"{label}: {times[label]:.1f} s", file=sys.stderr)
        return REPO / args.runs / f"{label}-{stamp}"

    pop = timed("population", [*population, f"train.max_steps={args.steps}"])
    seeds = [args.seed + k for k in range(args.members)]
    # The same members in the opposite slots: whether a difference follows a member's seed
    # (its training amplifies the batched kernels' rounding) or its place in the stack.
    swapped = timed(
        "population-reversed",
        [*population, f"train.max_steps={args.steps}", f"train.population_values={{seed: {seeds[::-1]}}}"],
    )
    differences, reversed_differences = [], []
    for k, seed in enumerate(seeds):
        alone = timed(f"alone-{k}", [f"seed={seed}", f"train.max_steps={args.steps}"])
        differences.append(largest_difference(Path(f"{pop}-m{k}"), alone))
        reversed_differences.append(largest_difference(Path(f"{swapped}-m{args.members - 1 - k}"), alone))

    rounds = timing_rounds(args, population, timed, times) if args.rounds else []
    raw = {
        "members": args.members,
        "steps": args.steps,
        "speed_steps": args.speed_steps,
        "device": args.device,
        "wall_seconds": times,
        "largest_weight_difference": differences,
        "largest_weight_difference_in_reversed_slots": reversed_differences,
        "seconds_per_step_by_round": rounds,
    }
    body = f"""{args.recipe} on {args.device}, seed {args.seed} (member k: seed {args.seed} + k).

The largest difference of a weight after {args.steps} steps between each seed's run alone and
the same seed trained as a member, in its own slot and in the opposite slot of the stack:

| seed | slot k | difference | slot K-1-k | difference |
| ---: | ---: | ---: | ---: | ---: |
""" + "".join(
        f"| {seed} | {k} | {d:.2e} | {args.members - 1 - k} | {r:.2e} |\n"
        for k, (seed, d, r) in enumerate(zip(seeds, differences, reversed_differences))
    )
    if rounds:
        body += speed_table(args, rounds)
    print(body)
    if args.out:
        write_results(args.out, "", body=body, commands=commands, raw=raw, started=started)
        print(f"results: {args.out}", file=sys.stderr)
    print(json.dumps(raw))


if __name__ == "__main__":
    main()
