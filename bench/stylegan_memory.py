"""Peak memory of one StyleGAN2 training step at 256x256, batch 4, on the CPU.

Runs ``ganzoo run recipes/stylegan2_folder.yaml`` as a user does, on a folder of random
256x256 colour images made for it, for one step, under ``/usr/bin/time -v``, and reports
the peak resident set size of the process. The first step is the heaviest: it runs both
lazy passes (R1 and path length, due at update 0) besides the two updates. Everything a run
does around that step (loading, the first sample grid, the final weights) is in the number
too. The result file carries the provenance header (bench/provenance.py), the exact command
of the step and the raw output of ``time``.

    python bench/stylegan_memory.py --out bench/results/stylegan2-memory-cpu.md
    python bench/stylegan_memory.py --set train.num_samples=4   # overrides of the recipe
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provenance import REPO, header, recipe_fingerprint, write_results

RECIPE = "recipes/stylegan2_folder.yaml"
TIME = "/usr/bin/time"


def random_images(folder: Path, side: int, count: int) -> Path:
    """``count`` random colour PNGs of ``side`` x ``side`` pixels (memory does not depend on them)."""
    import numpy
    from PIL import Image

    folder.mkdir(parents=True)
    generator = numpy.random.default_rng(0)
    for i in range(count):
        Image.fromarray(generator.integers(0, 256, (side, side, 3), dtype=numpy.uint8)).save(folder / f"{i:03d}.png")
    return folder


def measure(side: int, batch: int, settings: list[str], scratch: Path) -> tuple[list[str], str, int]:
    """``(command, raw output of time, exit status)`` of one training step."""
    images = random_images(scratch / "images", side, 2 * batch)
    command = [
        sys.executable,
        "-m",
        "ganzoo",
        "run",
        RECIPE,
        f"data.root={images}",
        f"data.image_size={side}",
        f"train.batch_size={batch}",
        "train.max_steps=1",
        "device=cpu",
        "wandb.mode=disabled",
        "video.format=gif",
        f"run.dir={scratch / 'runs'}",
        *settings,
        "--no-progress",
    ]
    report = scratch / "time.txt"
    result = subprocess.run([TIME, "-v", "-o", str(report), *command], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
    return command, report.read_text() if report.is_file() else "", result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=256, help="image side (default 256)")
    parser.add_argument("--batch", type=int, default=4, help="batch size (default 4)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides of the recipe")
    parser.add_argument("--out", type=Path, help="also write the result, with the machine and raw values, here")
    args = parser.parse_args()
    if not Path(TIME).is_file():
        raise SystemExit(f"{TIME} is needed (GNU time: apt-get install time)")

    title = f"StyleGAN2, one training step on the CPU: peak memory, {time.strftime('%Y-%m-%d')}"
    overrides = [f"data.image_size={args.side}", f"train.batch_size={args.batch}", *args.set]
    started = header(title, [recipe_fingerprint(RECIPE, overrides)])
    with tempfile.TemporaryDirectory() as scratch:
        command, raw, status = measure(args.side, args.batch, args.set, Path(scratch))
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", raw)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", raw)
    if status != 0 or peak is None:
        raise SystemExit(f"the step failed (exit {status}); time says:\n{raw}")
    peak_gib = int(peak.group(1)) / 2**20
    shown = " ".join(shlex.quote(part) for part in ["ganzoo", *command[3:]])
    summary = (
        f"| side | batch | peak RSS | wall clock (whole command) |\n| ---: | ---: | ---: | ---: |\n"
        f"| {args.side} | {args.batch} | {peak_gib:.2f} GiB ({int(peak.group(1)):,} kB) | "
        f"{wall.group(1) if wall else '?'} |"
    )
    print(summary)
    if args.out:
        shown = shown.replace(scratch, "<tmp>")
        body = (
            f"One step of a run on random {args.side}x{args.side} colour images, paths made for the run "
            f"(<tmp> a temporary folder); the peak resident set size of the whole process:\n\n{summary}\n\n"
            f"Output of `{TIME} -v`:\n\n```text\n{raw.replace(scratch, '<tmp>').strip()}\n```"
        )
        values = {"side": args.side, "batch": args.batch, "peak_rss_kb": int(peak.group(1))}
        write_results(args.out, title, body=body, commands=[shown], raw=values, started=started)


if __name__ == "__main__":
    main()
