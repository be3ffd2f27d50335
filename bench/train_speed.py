"""Training speed of the vanilla GAN: ganzoo against plain PyTorch, side by side.

Three ways to run the same algorithm (the MLP G and D of ``recipes/vanilla_mnist.yaml``,
BCE, Adam 2e-4, one D step then one G step), each measured in a fresh process:

* ``ganzoo``   ganzoo's trainer, built from the recipe, with its metrics log attached;
* ``floor``    a minimal hand-written loop on tensors already in memory: what plain
               PyTorch can do;
* ``article``  a loop built like the source article's script: torchvision MNIST through a
               DataLoader with per-sample ToTensor + Normalize, ``.item()`` on four scalars
               every step.

and ganzoo's opt-in accelerations as further variants (``ganzoo-fused``, ``ganzoo-compile``,
``ganzoo-bf16``, and ``ganzoo-cudagraphs`` on a GPU). ``--augment`` measures what augmenting
D's input costs instead: ``ganzoo-diffaugment`` and ``ganzoo-ada`` against ``ganzoo`` (the
``--baseline`` of ``--rounds``; on a GPU also ``ganzoo-ada-graph``, the augmented step
captured, beside ``ganzoo-graph``). On a GPU, ``ganzoo-graph`` and
``ganzoo-eager`` are ganzoo with ``train.cuda_graph=on`` and ``off`` (the whole step captured
as one CUDA graph, or not), and ``floor-graph`` is the floor's step captured as one CUDA graph
and replayed: what plain PyTorch can do with graphs. ``--recipe`` measures another recipe's
ganzoo variants (DCGAN, WGAN-GP); the floors are written for the vanilla MLP only. Each variant warms up, then runs
``--repeats`` timed segments of ``--steps`` steps; the table gives the median steps/s, the
ratios to the floor and to the article-style loop, and the peak memory of the process (CPU:
maximum resident set size; GPU: peak allocated by torch).

With ``--nproc 1 2`` it measures data-parallel scaling instead: ganzoo's trainer in 1 and
2 processes under torchrun (gloo on the CPU, NCCL on GPUs), with the recipe's batch as
the global batch, and reports steps/s, the speed-up over one process and the scaling
efficiency (speed-up / processes).

    python bench/train_speed.py                      # CPU, batch 32 and 128
    python bench/train_speed.py --device cuda --out bench/results/cuda.md
    python bench/train_speed.py --nproc 1 2 --out bench/results/cpu-nproc.md
    python bench/train_speed.py --device cuda --recipe recipes/wgan_gp_mnist.yaml --batch-sizes 64
    python bench/train_speed.py --quick              # a smoke run: a few steps of ganzoo and the floor
    python bench/train_speed.py --augment --rounds 3 --recipe recipes/dcgan_mnist.yaml --batch-sizes 64

``--set KEY=VALUE`` overrides the recipe of the ganzoo variants (smaller widths), and
``--images SIDE`` trains on a folder of random SIDExSIDE colour images made for the run
(an ``image_folder`` recipe; speed does not depend on the pixels):

    python bench/train_speed.py --recipe recipes/stylegan2_mnist.yaml --variants ganzoo --batch-sizes 32
    python bench/train_speed.py --recipe recipes/stylegan2_folder.yaml --images 64 --variants ganzoo \
        --set model.channel_base=2048 model.channel_max=64 --batch-sizes 32
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from provenance import header, recipe_fingerprint, write_results

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "vanilla_mnist.yaml"
SHARED_DATA = REPO.parent / "shared" / "data"
BASELINES = ["floor", "article", "floor-graph"]
CUDA_VARIANTS = ["ganzoo-graph", "ganzoo-eager", "floor-graph", "ganzoo-ada-graph"]
ACCELERATIONS = {
    "ganzoo-fused": ["optim.generator.fused=true", "optim.discriminator.fused=true"],
    "ganzoo-compile": ["train.compile=default"],
    "ganzoo-bf16": ["train.precision=bf16"],
    "ganzoo-cudagraphs": ["train.compile=reduce-overhead"],
    "ganzoo-graph": ["train.cuda_graph=on"],
    "ganzoo-eager": ["train.cuda_graph=off"],
    "ganzoo-diffaugment": ["augment.name=diffaugment"],
    "ganzoo-ada": ["augment.name=ada", "augment.p=0.5"],
    "ganzoo-ada-graph": ["augment.name=ada", "augment.p=0.5", "train.cuda_graph=on"],
}
AUGMENTATIONS = ["ganzoo", "ganzoo-diffaugment", "ganzoo-ada"]
"""``--augment``: the cost of augmenting everything D sees, against the same step without
(DiffAugment's three transforms; ADA's twelve, every one computed whatever p is)."""


# --------------------------------------------------------------------------- the variants


def mlp_pair(device):
    from torch import nn

    G = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
    D = nn.Sequential(
        nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid()
    )
    return G.to(device), D.to(device)


def floor_loop(root, batch_size, device):
    """The minimal loop: uint8 data resident on the device, index slices, no logging."""
    import torch.nn.functional as F
    import torchvision

    images = torchvision.datasets.MNIST(str(root), train=True, download=False).data.to(device)
    G, D = mlp_pair(device)
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-4)
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4)
    n = len(images)
    order = torch.randperm(n, device=device)
    position = 0

    def step():
        nonlocal order, position
        if position + batch_size > n:
            order, position = torch.randperm(n, device=device), 0
        real = images[order[position : position + batch_size]].float().div(255).sub(0.5).div(0.5).view(batch_size, -1)
        position += batch_size
        d_real = D(real)
        d_fake = D(G(torch.randn(batch_size, 64, device=device)).detach())
        d_loss = F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
            d_fake, torch.zeros_like(d_fake)
        )
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        d_fake = D(G(torch.randn(batch_size, 64, device=device)))
        g_loss = F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

    return step


def article_loop(root, batch_size, device):
    """Built like the article's script: PIL images through per-sample transforms and a
    DataLoader, the fake batch not detached, four ``.item()`` reads every step."""
    import torchvision
    from torch import nn

    transform = torchvision.transforms.Compose(
        [torchvision.transforms.ToTensor(), torchvision.transforms.Normalize(mean=(0.5,), std=(0.5,))]
    )
    mnist = torchvision.datasets.MNIST(str(root), train=True, transform=transform, download=False)
    loader = torch.utils.data.DataLoader(mnist, batch_size=batch_size, shuffle=True)
    G, D = mlp_pair(device)
    criterion = nn.BCELoss()
    d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
    g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)
    batches = iter(loader)
    log = []

    def step():
        nonlocal batches
        try:
            images, _ = next(batches)
        except StopIteration:
            batches = iter(loader)
            images, _ = next(batches)
        images = images.reshape(images.size(0), -1).to(device)
        real_labels = torch.ones(images.size(0), 1, device=device)
        fake_labels = torch.zeros(images.size(0), 1, device=device)
        outputs = D(images)
        d_loss_real = criterion(outputs, real_labels)
        real_score = outputs
        fake_images = G(torch.randn(images.size(0), 64, device=device))
        outputs = D(fake_images)
        d_loss_fake = criterion(outputs, fake_labels)
        fake_score = outputs
        d_loss = d_loss_real + d_loss_fake
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        fake_images = G(torch.randn(images.size(0), 64, device=device))
        g_loss = criterion(D(fake_images), real_labels)
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
        log.append((d_loss.item(), g_loss.item(), real_score.mean().item(), fake_score.mean().item()))

    return step


def floor_graph_loop(root, batch_size, device):
    """The floor's step captured once as one CUDA graph (PyTorch's "whole network capture"):
    the batch's indices are copied into a static buffer before each replay; Adam is
    capturable; three eager warm-up steps on a side stream come first."""
    import torch.nn.functional as F
    import torchvision

    images = torchvision.datasets.MNIST(str(root), train=True, download=False).data.to(device)
    G, D = mlp_pair(device)
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, capturable=True)
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, capturable=True)
    n = len(images)
    index = torch.zeros(batch_size, dtype=torch.long, device=device)

    def body():
        real = images[index].float().div(255).sub(0.5).div(0.5).view(batch_size, -1)
        d_real = D(real)
        d_fake = D(G(torch.randn(batch_size, 64, device=device)).detach())
        d_loss = F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
            d_fake, torch.zeros_like(d_fake)
        )
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        d_fake = D(G(torch.randn(batch_size, 64, device=device)))
        g_loss = F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            index.copy_(torch.randint(n, (batch_size,), device=device))
            body()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        body()
    order = torch.randperm(n, device=device)
    position = 0

    def step():
        nonlocal order, position
        if position + batch_size > n:
            order, position = torch.randperm(n, device=device), 0
        index.copy_(order[position : position + batch_size])
        position += batch_size
        graph.replay()

    return step


def ganzoo_trainer(root, batch_size, device, overrides, folder, recipe_path=RECIPE):
    """ganzoo's trainer exactly as `ganzoo run` builds it, with the metrics log attached
    (progress bar and sample grids are left out: they are not part of a step)."""
    from ganzoo.plugins import Registry, make_plugin_manager
    from ganzoo.recipe import load_recipe
    from ganzoo.run import build_trainer
    from ganzoo.run.outputs import MetricsLog
    from ganzoo.train.distributed import from_environment

    registry = Registry.from_plugin_manager(make_plugin_manager())
    recipe = load_recipe(
        recipe_path,
        registry,
        [f"data.root={root}", f"train.batch_size={batch_size}", f"device={device}", "wandb.mode=disabled", *overrides],
    )
    trainer = build_trainer(recipe, registry, from_environment(recipe.config.distributed.timeout))
    trainer.callbacks.append(MetricsLog(Path(folder) / "metrics.jsonl"))
    trainer.epochs = 10**6

    def run(steps):
        trainer.max_steps = trainer.step + steps
        trainer.fit()

    return run


def measure(variant, root, batch_size, device, steps, repeats, warmup, recipe_path=RECIPE, settings=()):
    """Median steps/s over ``repeats`` segments, and the process's peak memory; ``settings``
    are overrides of the recipe (ganzoo variants only)."""
    device = torch.device(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    with tempfile.TemporaryDirectory() as folder:
        if variant in BASELINES:
            loops = {"floor": floor_loop, "article": article_loop, "floor-graph": floor_graph_loop}
            step = loops[variant](root, batch_size, device)

            def run(n):
                for _ in range(n):
                    step()
        else:
            overrides = [*settings, *ACCELERATIONS.get(variant, [])]
            run = ganzoo_trainer(root, batch_size, device, overrides, folder, recipe_path)
        run(warmup)
        sync()
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            run(steps)
            sync()
            rates.append(steps / (time.perf_counter() - started))
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "variant": variant,
        "batch_size": batch_size,
        "rates": rates,
        "steps_per_s": statistics.median(rates),
        "peak_mb": peak_mb,
    }


# --------------------------------------------------------------------------- the driver


def synthetic_mnist(folder: Path) -> Path:
    """60,000 random 28x28 digits in torchvision's layout, when MNIST itself is absent
    (speed does not depend on the pixel values)."""
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    for prefix, n in (("train", 60_000), ("t10k", 10_000)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            (0x803).to_bytes(4, "big") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + images.numpy().tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes((0x801).to_bytes(4, "big") + n.to_bytes(4, "big") + bytes(n))
    return folder


def synthetic_images(folder: Path, side: int, n: int = 512) -> Path:
    """``n`` random ``side`` x ``side`` colour PNG images in ``folder/images``."""
    import numpy
    from PIL import Image

    images = folder / "images"
    images.mkdir(parents=True)
    generator = numpy.random.default_rng(0)
    for i in range(n):
        Image.fromarray(generator.integers(0, 256, (side, side, 3), dtype=numpy.uint8)).save(images / f"{i:04d}.png")
    return images


def run_worker(args, nproc: int = 0) -> dict:
    """One measurement in a fresh process; with ``nproc``, in that many under torchrun
    (rank 0 reports)."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"] if nproc else []
    command = [
        sys.executable,
        *launcher,
        __file__,
        "--worker",
        args.variant_to_run,
        "--device",
        args.device,
        "--batch-size",
        str(args.batch_size_to_run),
        "--steps",
        str(args.steps),
        "--repeats",
        str(args.repeats),
        "--warmup",
        str(args.warmup),
        "--data-root",
        str(args.data_root),
        "--recipe",
        str(args.recipe),
        *(["--set", *args.set] if args.set else []),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["failed"]
        return {
            "variant": args.variant_to_run,
            "batch_size": args.batch_size_to_run,
            "nproc": nproc or 1,
            "error": lines[-1],
            "stderr_tail": lines[-40:],  # the whole traceback, in the raw results
        }
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "nproc": nproc or 1}


def scaling_table(results: list[dict], device: str) -> str:
    lines = [
        "| batch (global) | processes | steps/s (median) | images/s | speed-up | scaling efficiency | peak memory (rank 0) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for batch in sorted({r["batch_size"] for r in results}):
        rows = sorted((r for r in results if r["batch_size"] == batch), key=lambda r: r["nproc"])
        one = next((r.get("steps_per_s") for r in rows if r["nproc"] == 1), None)
        for r in rows:
            if "error" in r:
                lines.append(f"| {batch} | {r['nproc']} | failed: {r['error'][:80]} | | | | |")
                continue
            rate, n = r["steps_per_s"], r["nproc"]
            speedup = f"{rate / one:.2f}x" if one else "n/a"
            efficiency = f"{rate / one / n:.0%}" if one else "n/a"
            memory = f"{r['peak_mb']:.0f} MB" + (" (GPU)" if device.startswith("cuda") else " (RSS)")
            lines.append(f"| {batch} | {n} | {rate:.1f} | {rate * batch:,.0f} | {speedup} | {efficiency} | {memory} |")
    return "\n".join(lines)


def rounds_table(results: list[dict], baseline: str) -> str:
    """Interleaved rounds (``--rounds``): per variant, the median steps/s over the rounds
    with their range, and the ratio to ``baseline`` taken round by round (each variant
    against the baseline's run of the same round, which ran next to it) with its range: the
    spread says whether a difference is more than the machine's noise."""
    lines = [
        f"| batch | variant | rounds | steps/s (median, min-max) | vs {baseline} (median, min-max of the rounds) |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for batch in sorted({r["batch_size"] for r in results}):
        runs = [r for r in results if r["batch_size"] == batch and "error" not in r]
        for variant in dict.fromkeys(r["variant"] for r in runs):
            mine = [r for r in runs if r["variant"] == variant]
            rates = [r["steps_per_s"] for r in mine]
            ratios = [
                r["steps_per_s"] / b["steps_per_s"]
                for r in mine
                for b in runs
                if b["variant"] == baseline and b["round"] == r["round"]
            ]
            versus = f"{statistics.median(ratios):.3f}x ({min(ratios):.3f}-{max(ratios):.3f})" if ratios else "n/a"
            lines.append(
                f"| {batch} | {variant} | {len(rates)} | {statistics.median(rates):.1f} "
                f"({min(rates):.1f}-{max(rates):.1f}) | {versus} |"
            )
    return "\n".join(lines)


def table(results: list[dict], device: str) -> str:
    lines = [
        "| batch | variant | steps/s (median) | images/s | vs floor | vs floor-graph | vs article | peak memory |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for batch, round_ in sorted({(r["batch_size"], r.get("round", 0)) for r in results}):
        rows = [r for r in results if r["batch_size"] == batch and r.get("round", 0) == round_]  # one round's runs
        base = {r["variant"]: r.get("steps_per_s") for r in rows}
        for r in rows:
            if "error" in r:
                lines.append(f"| {batch} | {r['variant']} | failed: {r['error'][:80]} | | | | | |")
                continue
            rate = r["steps_per_s"]
            ratio = lambda other, rate=rate, base=base: f"{rate / base[other]:.2f}x" if base.get(other) else "n/a"  # noqa: E731
            memory = f"{r['peak_mb']:.0f} MB" + (" (GPU)" if device.startswith("cuda") else " (RSS)")
            lines.append(
                f"| {batch} | {r['variant']} | {rate:.1f} | {rate * batch:,.0f} | {ratio('floor')} | "
                f"{ratio('floor-graph')} | {ratio('article')} | {memory} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument(
        "--variants", nargs="+", help="default: ganzoo, floor, article and the accelerations that fit the device"
    )
    parser.add_argument("--steps", type=int, default=500, help="steps per timed segment")
    parser.add_argument("--repeats", type=int, default=5, help="timed segments; the median is reported")
    parser.add_argument("--warmup", type=int, default=100, help="untimed steps first (compilation happens here)")
    parser.add_argument(
        "--data-root", type=Path, help="folder with MNIST/raw/ (default: ../shared/data, else synthetic)"
    )
    parser.add_argument(
        "--nproc", type=int, nargs="+", help="measure data-parallel scaling with these process counts instead"
    )
    parser.add_argument("--out", type=Path, help="also write the table, with the command and machine, to this file")
    parser.add_argument(
        "--recipe", type=Path, default=RECIPE, help="the recipe of the ganzoo variants (default: vanilla)"
    )
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides of the recipe of the ganzoo variants"
    )
    parser.add_argument(
        "--images", type=int, metavar="SIDE", help="train on random SIDExSIDE colour images (an image_folder recipe)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every variant this many times, interleaved (A B A B ...), each in a fresh process: the table "
        "gives the median and the range over the rounds, and each ratio to --baseline round by round",
    )
    parser.add_argument("--baseline", default="floor", help="with --rounds: the variant the others are compared to")
    parser.add_argument("--quick", action="store_true", help="a smoke run: batch 32, ganzoo and floor, a few steps")
    parser.add_argument(
        "--augment", action="store_true", help="measure augmentation's cost: ganzoo with none, diffaugment and ada"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = measure(
            args.worker,
            args.data_root,
            args.batch_size,
            args.device,
            args.steps,
            args.repeats,
            args.warmup,
            args.recipe,
            args.set,
        )
        if os.environ.get("RANK", "0") == "0":
            print(json.dumps(result))
        return

    args.recipe = args.recipe.resolve()
    started = header(f"Training speed, {time.strftime('%Y-%m-%d')}", [recipe_fingerprint(args.recipe)])
    cuda = args.device.startswith("cuda")
    if args.augment:
        args.variants = args.variants or AUGMENTATIONS + (["ganzoo-graph", "ganzoo-ada-graph"] if cuda else [])
        args.baseline = "ganzoo" if args.baseline == "floor" else args.baseline  # the same step without
    if args.quick:
        args.batch_sizes, args.steps, args.repeats, args.warmup = [32], 20, 1, 5
        args.variants = args.variants or ["ganzoo", "floor"]
    vanilla = args.recipe == RECIPE.resolve()
    variants = args.variants or [
        "ganzoo",
        *(["floor", "article"] if vanilla else []),
        "ganzoo-fused",
        "ganzoo-compile",
        "ganzoo-bf16",
    ] + (["ganzoo-cudagraphs", "ganzoo-graph", "ganzoo-eager"] + (["floor-graph"] if vanilla else []) if cuda else [])
    if not cuda and set(variants) & set(CUDA_VARIANTS):
        parser.error(f"{', '.join(sorted(set(variants) & set(CUDA_VARIANTS)))}: CUDA only")
    with tempfile.TemporaryDirectory() as scratch:
        if args.images:
            args.data_root = synthetic_images(Path(scratch), args.images)
            args.set = [f"data.image_size={args.images}", *args.set]
        if args.data_root is None:
            has_mnist = (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
            args.data_root = SHARED_DATA if has_mnist else synthetic_mnist(Path(scratch))
        results = []
        from tqdm import tqdm

        if args.nproc:
            jobs = [(0, b, "ganzoo", n) for b in args.batch_sizes for n in args.nproc]
        else:
            jobs = [(r, b, v, 0) for r in range(args.rounds) for b in args.batch_sizes for v in variants]
        for round_, batch, variant, nproc in tqdm(jobs, desc="benchmark", unit="run"):
            args.batch_size_to_run, args.variant_to_run = batch, variant
            results.append({**run_worker(args, nproc), "round": round_})

    threads = (
        (
            f"1 process: {torch.get_num_threads()} CPU threads; N > 1 processes: 1 thread each (torchrun's "
            f"OMP_NUM_THREADS=1)"
        )
        if args.nproc
        else f"{torch.get_num_threads()} CPU threads"
    )
    about = (
        f"device {args.device}, {threads}; {args.repeats} x {args.steps} steps after {args.warmup} warm-up steps, "
        f"median; data {f'random {args.images}x{args.images} images' if args.images else args.data_root}; "
        f"recipe {args.recipe.relative_to(REPO)}" + (f" with {' '.join(args.set)}" if args.set else "") + "; "
        "each variant in a fresh process" + (f", {args.rounds} interleaved rounds" if args.rounds > 1 else "")
    )
    if args.nproc:
        body = scaling_table(results, args.device)
    elif args.rounds > 1:
        body = f"{rounds_table(results, args.baseline)}\n\nEvery run:\n\n{table(results, args.device)}"
    else:
        body = table(results, args.device)
    print(f"{about}\n\n{body}\n")
    if args.out:
        raw = {"steps_per_s of every repeat": results}
        write_results(args.out, "", body=f"{about}\n\n{body}", raw=raw, started=started)


if __name__ == "__main__":
    main()
