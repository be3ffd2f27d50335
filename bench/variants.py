"""One recipe under several settings, each trained for the same number of steps and measured
alike: the side tables of docs/zoo.md (EBGAN's margin, BEGAN's gamma, an EMA of G).

Every variant is a label and its overrides. Each trains for ``--steps`` generator steps (a
step count, not a time budget, so that the rows do not depend on the machine's pace), up to
``--parallel`` at a time on one core each; ``ganzoo eval`` then measures it (n generated
samples, the dataset classifier's features), and the table also shows the last logged value
of each ``--scalars`` name (a loss's own: EBGAN's energies, BEGAN's ``k``). With
``--also-trained`` every run is measured twice: the weights it samples from (an EMA, when the
recipe keeps one) and its trained G. ``--energy`` adds BEGAN's reconstruction error per digit
(bench/began_energy.py) of every run's last checkpoint.

    python bench/variants.py recipes/ebgan_mnist.yaml --steps 438 \
        --variant "margin 1.0" loss.margin=1.0 --variant "margin 0.3" loss.margin=0.3 \
        --variant "margin 0.1" loss.margin=0.1 --scalars energy_real energy_fake \
        --out bench/results/ebgan-margins-cpu.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from provenance import header, recipe_fingerprint, write_results
from zoo_results import DIGITS, KEYS, REPO, relative


def run_ganzoo(args: list[str], threads: int | None) -> subprocess.CompletedProcess[str]:
    """``ganzoo ARGS`` in a fresh process (``threads``: its OMP_NUM_THREADS); a failure stops the bench."""
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    print("$ ganzoo " + " ".join(shlex.quote(a) for a in args), file=sys.stderr, flush=True)
    result = subprocess.run([sys.executable, "-m", "ganzoo", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def train(label: str, overrides: list[str], args: argparse.Namespace, threads: int | None) -> tuple[Path, str]:
    """Train one variant; its run folder and its command."""
    name = "".join(c if c.isalnum() or c in ".-" else "-" for c in label)
    command = [
        "run",
        args.recipe,
        f"data.root={args.data_root}",
        f"seed={args.seed}",
        "train.epochs=100000",
        f"train.max_steps={args.steps}",
        *overrides,
        f"run.dir={relative(args.runs)}",
        f"run.name={name}-{time.strftime('%Y%m%d-%H%M%S')}",
        "wandb.mode=disabled",
        "video.format=gif",
    ]
    out = run_ganzoo([*command, "--no-progress"], threads).stdout
    folder = Path(out.split("run folder: ", 1)[1].split("\n", 1)[0])
    return (folder if folder.is_absolute() else REPO / folder), " ".join(shlex.quote(a) for a in ["ganzoo", *command])


def measure(label: str, folder: Path, args: argparse.Namespace, trained: bool) -> dict:
    """One evaluation of a trained variant, with its last logged scalars."""
    evaluation = json.loads(
        run_ganzoo(
            [
                "eval",
                relative(folder),
                "--n",
                str(args.n),
                "--json",
                "--no-progress",
                *(["--trained"] if trained else []),
            ],
            None,
        ).stdout
    )
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    last = {key: next((row[key] for row in reversed(rows) if key in row), None) for key in args.scalars}
    return {
        "variant": label + (" (trained G)" if trained else ""),
        "weights": evaluation["weights"],
        "steps": evaluation["step"],
        "values": {r["key"]: r["value"] for r in evaluation["results"]},
        "scalars": last,
        "run": relative(folder),
    }


def energies(folder: Path, args: argparse.Namespace) -> dict:
    """BEGAN's reconstruction error per test digit of the run's last checkpoint."""
    from began_energy import measure as began_energy

    result = began_energy(folder, args.n_energy, 0)
    return {"per_class": result.per_class, "real": result.real, "fake": result.fake, "gamma": result.gamma}


def results_table(rows: list[dict], scalars: list[str], columns: list[str]) -> str:
    head = ["variant", "weights", "steps", *scalars, *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * 2 + " ---: |" * (len(head) - 2)]
    for row in rows:
        values = [row["values"].get(key) for key in columns]
        cells = [f"{row['scalars'][key]:.3f}" if row["scalars"].get(key) is not None else "" for key in scalars]
        cells += [f"{v:,.{DIGITS.get(key, 4)}f}" if v is not None else "" for key, v in zip(columns, values)]
        lines.append(f"| {row['variant']} | {row['weights']} | {row['steps']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def energy_table(rows: list[dict]) -> str:
    rows = [row for row in rows if "energy" in row]
    digits = [digit for digit, _, _ in rows[0]["energy"]["per_class"]]
    lines = ["| variant | " + " | ".join(map(str, digits)) + " | all | gamma E[L(x)] | L(G(z)) |"]
    lines.append("| --- |" + " ---: |" * (len(digits) + 3))
    for row in rows:
        energy = row["energy"]
        cells = [f"{error:.3f}" for _, _, error in energy["per_class"]]
        balance = [f"{energy['real']:.3f}", f"{energy['gamma'] * energy['real']:.3f}", f"{energy['fake']:.3f}"]
        lines.append(f"| {row['variant']} | " + " | ".join(cells + balance) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipe", help="the recipe, from the repository (recipes/x.yaml)")
    parser.add_argument(
        "--variant",
        nargs="+",
        action="append",
        required=True,
        metavar=("LABEL", "KEY=VALUE"),
        help="a label and its overrides",
    )
    parser.add_argument("--steps", type=int, required=True, help="generator steps of every variant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=10_000, help="generated samples per evaluation")
    parser.add_argument("--parallel", type=int, default=2, help="variants trained at once, one core each")
    parser.add_argument("--scalars", nargs="*", default=[], help="logged scalars whose last value the table shows")
    parser.add_argument("--metrics", help="ganzoo eval's --metrics (default: the recipe's, else every default one)")
    parser.add_argument("--columns", nargs="*", default=KEYS, help="the evaluation values the table shows")
    parser.add_argument("--also-trained", action="store_true", help="measure the trained G too (runs with an EMA)")
    parser.add_argument("--energy", action="store_true", help="BEGAN's reconstruction error per digit, per run")
    parser.add_argument("--n-energy", type=int, default=2000, help="generated samples for --energy's L(G(z))")
    parser.add_argument("--data-root", default="../shared/data", help="folder with MNIST/raw/, from the repository")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "variants", help="where the run folders go")
    parser.add_argument("--out", type=Path, help="write the tables, the commands and the raw values here")
    args = parser.parse_args()

    variants = [(spec[0], spec[1:]) for spec in args.variant]
    fingerprints = [recipe_fingerprint(args.recipe, overrides) for _, overrides in variants]
    started = header(f"{args.recipe} under {len(variants)} settings, {args.steps:,} steps each", fingerprints)
    threads = 1 if args.parallel > 1 else None
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        trained = list(pool.map(lambda v: train(v[0], v[1], args, threads), variants))
    rows, commands = [], []
    for (label, _), (folder, command) in zip(variants, trained):
        commands += [f"# {label}", command, f"ganzoo eval <run> --n {args.n}"]
        measured = [measure(label, folder, args, False)]
        if args.also_trained:
            measured.append(measure(label, folder, args, True))
            commands.append(f"ganzoo eval <run> --n {args.n} --trained")
        if args.energy:
            measured[0]["energy"] = energies(folder, args)
            commands.append(f"python bench/began_energy.py <run> --n {args.n_energy}")
        rows += measured
    body = results_table(rows, args.scalars, args.columns)
    if args.energy:
        body += f"\n\nReconstruction error L(v) = mean |D(v) - v| per test digit (bench/began_energy.py):\n\n{energy_table(rows)}"
    print(body)
    if args.out:
        about = (
            f"{args.recipe}, seed {args.seed}, {args.steps:,} generator steps each ({args.parallel} at a time, "
            f"{'one core each' if threads else 'all cores'}), n = {args.n} generated samples, the dataset "
            f"classifier's features; the scalars are the last logged value of each run."
        )
        write_results(args.out, "", body=f"{about}\n\n{body}", commands=commands, raw=rows, started=started)


if __name__ == "__main__":
    main()
