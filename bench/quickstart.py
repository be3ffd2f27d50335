"""Time the README's quick start: ``ganzoo run quickstart_mnist``, from the command to the
prompt, as a newcomer runs it, and write what it measured to a results file.

    python bench/quickstart.py --data FOLDER --out bench/results/quickstart-cpu.md

FOLDER holds ``MNIST/raw/`` (without ``--data``, MNIST is downloaded into ``data/`` first, as
the recipe does). The file starts with the provenance header of bench/provenance.py (the commit and whether the
tree was clean, the machine and its load at the start, torch, the recipe as it resolved)
and records the exact command, the load average before and after each run, what the set-up
takes on disk and the raw values: the wall time, the peak memory, and when each sample grid
was written, counted from the start. With
``--grid`` and ``--animation`` it also keeps the last grid and a small GIF of the grids (the
README's pictures of the quick start).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from provenance import REPO, header, recipe_fingerprint, write_results

RECIPE = "quickstart_mnist"


def disk(data: str | None) -> dict[str, str]:
    """What the set-up takes on disk: the virtual environment, the CUDA libraries in it (what
    PyTorch's CPU-only wheels leave out), and MNIST."""
    import site

    packages = Path(site.getsitepackages()[0])
    sizes = {
        "virtual environment": Path(sys.prefix),
        "of which nvidia packages": packages / "nvidia",
        "of which triton": packages / "triton",
        "MNIST": Path(data) / "MNIST" if data else REPO / "data" / "MNIST",
    }
    found = {}
    for what, path in sizes.items():
        du = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True).stdout.split()
        found[f"disk, {what}"] = f"{du[0]}B ({path})" if du else f"none ({path})"
    return found


def run_once(command: list[str], log: Path, threads: str) -> dict[str, object]:
    """Run the quick start; its wall time, peak memory and when each grid appeared."""
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    with log.open("w") as output:
        env = {**os.environ, **({"OMP_NUM_THREADS": threads} if threads != "default" else {})}
        status = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, cwd=REPO, env=env).returncode
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = after.ru_maxrss / 1024
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    folder = next(
        (
            Path(line.removeprefix("run folder: "))
            for line in log.read_text().splitlines()
            if line.startswith("run folder: ")
        ),
        None,
    )
    grids = sorted((folder / "samples").glob("step_*.png")) if folder else []
    return {
        "threads": threads,
        "status": status,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(peak_mb),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "folder": str(folder),
        "grids_s": {int(p.stem.removeprefix("step_")): round(p.stat().st_mtime - started, 1) for p in grids},
    }


def animation(grids: list[Path], out: Path, frames: int = 6) -> None:
    """A GIF of ``frames`` grids spread over the run, the last one held longest."""
    from PIL import Image

    chosen = [grids[round(i * (len(grids) - 1) / (frames - 1))] for i in range(frames)]
    images = [Image.open(path).convert("L") for path in chosen]
    durations = [600] * (frames - 1) + [2500]
    out.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True)


def report_picture(folder: Path, out: Path, width: int = 1200, height: int = 1000) -> None:
    """``ganzoo report`` on the run, opened from disk in headless Chromium (the README's
    picture of a report page): the top of the page, as a reader first sees it."""
    from playwright.sync_api import sync_playwright

    page_path = folder / "report.html"
    subprocess.run(
        [sys.executable, "-m", "ganzoo", "report", str(folder), "--out", str(page_path), "--no-progress"],
        cwd=REPO,
        check=True,
    )
    browser_path = os.environ.get("GANZOO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            page.screenshot(path=str(out))
        finally:
            browser.close()


def body(args: argparse.Namespace, about: dict[str, str], runs: list[dict]) -> str:
    """The table of the runs, when each grid appeared, and what the set-up takes on disk."""
    import torch

    lines = [
        "| run | OMP_NUM_THREADS | exit status | wall time (command to prompt) | CPU time (user + system) | last grid written at | steps | peak memory (RSS) | load average before | after |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for index, run in enumerate(runs, 1):
        grids = run["grids_s"]
        last = max(grids) if grids else 0
        lines.append(
            f"| {index} | {run['threads']} | {run['status']} | {run['wall_s']} s | {run['cpu_s']} s | {grids.get(last, '-')} s | {last:,} | "
            f"{run['peak_rss_mb']} MB | {run['load_before']} | {run['load_after']} |"
        )
    lines += ["", "Seconds from the command to each sample grid (step: seconds), run by run:", ""]
    for index, run in enumerate(runs, 1):
        lines.append(f"{index}. " + ", ".join(f"{step}: {s}" for step, s in run["grids_s"].items()))
    lines += ["", f"- torch's own choice of threads here: {torch.get_num_threads()}"]
    lines += [f"- {key}: {value}" for key, value in about.items()]
    lines.append(f"- note: {args.note}" if args.note else "- note: none")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a folder holding MNIST/raw/ (default: the recipe's data/, downloaded)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each --threads, one after the other")
    parser.add_argument(
        "--threads",
        nargs="+",
        default=["default"],
        help="OMP_NUM_THREADS of the runs, one run each in order (default: unset, torch's own choice)",
    )
    parser.add_argument("--runs", default="runs/quickstart-bench", help="where the run folders go")
    parser.add_argument("--out", default="bench/results/quickstart-cpu.md", help="the results file")
    parser.add_argument("--grid", help="copy the last sample grid of the last run here (a PNG)")
    parser.add_argument("--animation", help="write a GIF of six of the last run's grids here")
    parser.add_argument("--report", help="write a screenshot of `ganzoo report` on the last run here (a PNG)")
    parser.add_argument("--reuse", help="with --report: the run folder to picture, without training again")
    parser.add_argument("--note", default="", help="a line for the results file: the machine's load, say")
    args = parser.parse_args()
    if args.reuse:
        report_picture(Path(args.reuse), Path(args.report))
        return 0
    overrides = [f"run.dir={args.runs}", *([f"data.root={args.data}"] if args.data else [])]
    command = [sys.executable, "-m", "ganzoo", "run", RECIPE, *overrides]
    started = header(
        f"The quick start on a CPU, {time.strftime('%Y-%m-%d')}",
        [recipe_fingerprint(f"recipes/{RECIPE}.yaml", overrides)],
    )
    about = disk(args.data)
    runs = []
    (REPO / args.runs).mkdir(parents=True, exist_ok=True)
    for index, threads in enumerate([t for _ in range(args.repeats) for t in args.threads]):
        runs.append(run_once(command, REPO / args.runs / f"run-{index + 1}.log", threads))
        print(f"run {index + 1}: {runs[-1]['wall_s']} s, status {runs[-1]['status']}", flush=True)
    grids = sorted((Path(str(runs[-1]["folder"])) / "samples").glob("step_*.png"))
    if args.grid and grids:
        shutil.copyfile(grids[-1], args.grid)
    if args.animation and grids:
        animation(grids, Path(args.animation))
    if args.report and grids:
        report_picture(Path(str(runs[-1]["folder"])), Path(args.report))
    write_results(
        Path(args.out),
        "",
        body=body(args, about, runs),
        commands=[
            " ".join([*([f"OMP_NUM_THREADS={t}"] if t != "default" else []), "ganzoo", "run", RECIPE, *overrides])
            for t in args.threads
        ],
        raw={"runs": runs, **about},
        started=started,
    )
    print(f"results: {args.out}")
    return 0 if all(run["status"] == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
