"""From ``git clone`` to digits on screen, following only the README: clone, set up, run the
quick start, each step timed on its own, and a results file with the provenance header of
bench/provenance.py.

    python bench/fresh_clone.py REPOSITORY [--data MNIST_FOLDER] [--out FILE]

REPOSITORY is what ``git clone`` takes (this checkout's path works: the clone's commit is
its HEAD, and the header says whether this tree had changes the clone lacks). MNIST_FOLDER
holds ``MNIST/raw/`` (the README's ``data.root=PATH``); without it the quick start
downloads MNIST into ``data/``, as a newcomer's would. ``--cpu-torch`` installs PyTorch's
CPU-only wheels first, as the README says to without a GPU (``--torch-index`` overrides
their index). The clone goes to a temporary folder, removed at the end unless ``--keep``.
The sample grid it ends with is copied next to the results file with ``--grid``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from provenance import REPO, header, write_results

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class Deadline:
    """The measurement's whole budget: each step gets what is left of it, and a step that
    runs past it is stopped, so that the results file says how far it got."""

    def __init__(self, seconds: float) -> None:
        self.end = time.time() + seconds

    def timed(self, shell: str, cwd: Path, log: Path) -> Optional[float]:
        """Run one README step in bash, its seconds (None: stopped at the deadline); a failing
        step stops the measurement."""
        started = time.time()
        with log.open("a") as output:
            output.write(f"\n$ {shell}\n")
            output.flush()
            try:
                status = subprocess.run(
                    ["bash", "-c", shell],
                    cwd=cwd,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    timeout=max(1.0, self.end - started),
                ).returncode
            except subprocess.TimeoutExpired:
                return None
        if status != 0:
            raise SystemExit(f"step failed ({status}): {shell}\nsee {log}")
        return round(time.time() - started, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", help="what git clone takes: a URL or a path")
    parser.add_argument("--data", help="a folder holding MNIST/raw/ (default: downloaded into data/)")
    parser.add_argument("--out", default=str(REPO / "bench/results/fresh-clone-cpu.md"), help="the results file")
    parser.add_argument("--grid", help="copy the quick start's last sample grid here (a PNG)")
    parser.add_argument("--cpu-torch", action="store_true", help="install PyTorch's CPU-only wheels first")
    parser.add_argument("--torch-index", default=CPU_INDEX, help="the index of the CPU-only wheels")
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    parser.add_argument("--threads", help="OMP_NUM_THREADS for the quick start, as the README says for a busy CPU")
    parser.add_argument(
        "--limit", type=float, default=575.0, help="stop after this many seconds in all (default 575: under the target)"
    )
    args = parser.parse_args()

    started = header(f"From git clone to digits, {time.strftime('%Y-%m-%d')}")
    work = Path(tempfile.mkdtemp(prefix="ganzoo-clone-"))
    log = work / "log.txt"
    clone = work / "ganzoo"
    activate = ". .venv/bin/activate"
    setup = ["python3 -m venv .venv"]
    if args.cpu_torch:
        setup.append(f"pip install torch==2.14.1 torchvision==0.29.1 --index-url {args.torch_index}")
    setup.append("pip install -r requirements.txt")
    quickstart = (
        (f"OMP_NUM_THREADS={args.threads} " if args.threads else "")
        + "ganzoo run quickstart_mnist"
        + (f" data.root={args.data}" if args.data else "")
    )
    deadline = Deadline(args.limit)
    planned = [("clone", f"git clone -q {args.repository} {clone}", work)]
    planned += [("set up", command, clone) for command in setup]
    planned += [("quick start", quickstart, clone)]
    steps: list[tuple[str, str, Optional[float]]] = []
    commit, grid = "", ""
    for step, command, where in planned:
        seconds = deadline.timed(f"{activate} 2>/dev/null; {command}", where, log)
        steps.append((step, command, seconds))
        if seconds is None:
            break
    text = log.read_text()
    grid = next(
        (
            line.removeprefix("last samples: ")
            for line in reversed(text.splitlines())
            if line.startswith("last samples: ")
        ),
        "",
    )
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    if args.grid and grid:
        shutil.copyfile(clone / grid, args.grid)
    finished = all(seconds is not None for _, _, seconds in steps) and len(steps) == len(planned)
    total = round(sum(seconds or 0.0 for _, _, seconds in steps), 1)
    rows = [
        f"| {step} | `{command.replace(str(clone), 'ganzoo')}` | "
        f"{seconds if seconds is not None else f'stopped at the {args.limit:.0f} s limit'} |"
        for step, command, seconds in steps
    ]
    body = "\n".join(
        [
            f"The clone's commit: {commit} (a fresh clone: its tree is clean).",
            "",
            "| step | command | seconds |",
            "| --- | --- | ---: |",
            *rows,
            f"| **total** | from the clone to the prompt, with the last grid on disk | **{total}** |"
            if finished
            else f"| **total** | not finished within {args.limit:.0f} s | **more than {total}** |",
            "",
            f"- the last grid: {grid or 'none'}",
        ]
    )
    write_results(
        Path(args.out),
        "",
        body=body,
        commands=[command.replace(str(clone), "ganzoo") for _, command, _ in steps],
        raw={
            "commit": commit,
            "steps": [{"step": s, "command": c, "seconds": t} for s, c, t in steps],
            "total_s": total,
        },
        started=started,
    )
    print(f"results: {args.out} (total {total} s)")
    if not args.keep:  # after the results: removing a 6 GB environment takes a while
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
