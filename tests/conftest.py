"""Shared fixtures. Every test builds its own plugin manager from explicit modules; nothing
global is patched. Recipes in tests set ``wandb.mode`` themselves (the recipe decides, not
the environment); wandb's own files go to the test's temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
import yaml

import ganzoo_datasets
import ganzoo_vanilla
from ganzoo import hookimpl
from ganzoo.plugins import Registry, make_plugin_manager

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
has_shared_mnist = (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
needs_shared_mnist = pytest.mark.skipif(not has_shared_mnist, reason=f"MNIST not found under {SHARED_DATA}")


def pytest_configure(config) -> None:
    """Under pytest-xdist, each worker's share of the cores, for torch and for the processes
    its tests start: torch's default of every core per process, times the workers, makes
    them wait on each other (threads spinning for cores that other workers hold)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1:
        threads = max(1, len(os.sched_getaffinity(0)) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _quiet_wandb(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))


@pytest.fixture(autouse=True)
def _fresh_urlopen(monkeypatch):
    """``urllib.request.urlopen`` builds its opener, proxies included, on its first call and
    keeps it: without this, a test that set a proxy would send a later test's download
    through that proxy (CI saw exactly that)."""
    import urllib.request

    monkeypatch.setattr(urllib.request, "_opener", None)


@pytest.fixture
def registry() -> Registry:
    """The bundled plugins, registered explicitly (no entry points)."""
    return Registry.from_plugin_manager(make_plugin_manager([ganzoo_vanilla, ganzoo_datasets], entry_points=False))


def plugin_module(name: str, **hooks: list[type]) -> types.ModuleType:
    """A plugin module that registers the given classes, by hook: ``plugin_module("mine",
    callbacks=[Mine])`` implements ``register_callbacks``, as a plugin author writes it."""
    module = types.ModuleType(name)
    for kinds, classes in hooks.items():

        def register_all(register, classes=classes):
            for cls in classes:
                register(cls)

        setattr(module, f"register_{kinds}", hookimpl(register_all))
    return module


def write_recipe(path: Path, recipe: dict | str) -> Path:
    path.write_text(recipe if isinstance(recipe, str) else yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def toy_recipe(tmp_path) -> Path:
    """A ring recipe small enough to train in about a second."""
    return write_recipe(
        tmp_path / "toy.yaml",
        {
            "extends": str(REPO / "recipes" / "toy_ring.yaml"),
            "data": {"name": "ring", "size": 1024},
            "model": {"name": "vanilla_mlp", "hidden_dim": 32, "latent_dim": 8, "output": "linear"},
            "train": {"epochs": 2, "batch_size": 64, "log_every": 5, "sample_every": 10, "num_samples": 100},
            "run": {"dir": str(tmp_path / "runs")},
            "wandb": {"mode": "disabled"},
        },
    )


def ganzoo(
    *args: str, env: dict | None = None, target: Path | None = None, timeout: float = 600, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (``python -m ganzoo ARGS``, from the repository
    root by default); ``target`` goes first on the path (a plugin installed with ``--target``)."""
    env = {**os.environ, "WANDB_SILENT": "true", **(env or {})}
    paths = [str(target)] if target else []
    paths += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    else:
        env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


def bench_module(name: str):
    """A script of bench/ imported as a module (``bench_module("zoo_results")``), with bench/
    on the path as when the script runs (the scripts import ``provenance`` beside them)."""
    import importlib.util

    if str(REPO / "bench") not in sys.path:
        sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass in it looks its module up there
    spec.loader.exec_module(module)
    return module


def small_run(run_dir: Path | str) -> list[str]:
    """The command-line arguments every small test run shares: its run folders under
    ``run_dir``, wandb off, a GIF progress video (no ffmpeg needed) and no progress bar.
    Overrides that come after them win."""
    return [f"run.dir={run_dir}", "wandb.mode=disabled", "video.format=gif", "--no-progress"]


INFORMATION = ("ganzoo: warning", "ganzoo: train.cuda_graph=", "ganzoo: resuming")
"""Lines a command may print on stderr beside its one line of error."""


def one_line(capsys, status: int, expected: int = 1) -> str:
    """The one line of error a command printed on stderr (its information lines aside), once
    its exit status and the absence of a traceback are checked."""
    err = capsys.readouterr().err
    assert status == expected and "Traceback" not in err, err
    (line,) = [line for line in err.strip().splitlines() if not line.startswith(INFORMATION)]
    return line


def problems(capsys, status: int) -> list[str]:
    """The problem lines of a refused recipe (exit status 2), after the checks every refusal passes."""
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err, err
    *lines, summary = [line for line in err.strip().splitlines() if not line.startswith(INFORMATION)]
    assert summary.endswith("problem(s) in the recipe; nothing was run") and lines
    return lines


def problem_line(capsys, status: int) -> str:
    """The one problem line of a recipe refused for one reason."""
    (line,) = problems(capsys, status)
    return line


def metrics(folder: Path) -> list[dict]:
    """The rows of a run folder's ``metrics.jsonl``."""
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def weights(folder: Path) -> dict:
    """A run folder's ``weights.pt``."""
    return torch.load(folder / "weights.pt", weights_only=True)


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """96 random training digits in torchvision's MNIST layout, shared by a test module."""
    return write_idx_mnist(tmp_path_factory.mktemp("digits"), n_train=96)


def run_folder(stdout: str) -> Path:
    """The folder that `ganzoo run` reports on its `run folder:` line."""
    for line in stdout.splitlines():
        if line.startswith("run folder: "):
            return Path(line.removeprefix("run folder: "))
    raise AssertionError(f"no run folder in output:\n{stdout}")


def write_idx_mnist(root: Path, folder: str = "MNIST", n_train: int = 320, n_test: int = 64, seed: int = 0) -> Path:
    """Random digits in torchvision's MNIST layout (uncompressed IDX files) under
    ``root/folder/raw``, so that the real torchvision loader reads them without a download."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
        labels = torch.randint(0, 10, (n,), dtype=torch.uint8, generator=generator)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            (0x803).to_bytes(4, "big") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + images.numpy().tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            (0x801).to_bytes(4, "big") + n.to_bytes(4, "big") + labels.numpy().tobytes()
        )
    return root


@pytest.fixture
def stalled_server():
    """``http://127.0.0.1:PORT``: a server that accepts connections and never answers (what a
    stalled mirror or a black-holed proxy does)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)  # connections complete in the backlog; nothing ever reads or writes them
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.fixture
def no_proxy(monkeypatch):
    """No proxy from the environment, so that a test's URL is the one connected to."""
    for variable in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
