"""Network time-outs: a stalled download or an unreachable wandb server fails in seconds,
in one line that names the host, through the CLI."""

from __future__ import annotations

import socket
import time

import torchvision.datasets

import ganzoo.files.downloads
from conftest import REPO, small_run
from ganzoo.cli import main


def one_line(capsys, status: int) -> str:
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err, err
    (line,) = err.strip().splitlines()
    return line


def test_a_stalled_mnist_mirror_fails_in_the_time_out_naming_the_host(
    tmp_path, capsys, monkeypatch, stalled_server, no_proxy
):
    monkeypatch.setattr(ganzoo.files.downloads, "NETWORK_TIMEOUT", 0.5)
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [f"{stalled_server}/mnist/"])
    started = time.monotonic()
    status = main(
        [
            "run",
            str(REPO / "recipes" / "vanilla_mnist.yaml"),
            f"data.root={tmp_path / 'data'}",
            *small_run(tmp_path / "runs"),
        ]
    )
    assert time.monotonic() - started < 10
    line = one_line(capsys, status)
    assert f"(download failed: no answer from {stalled_server.removeprefix('http://')} within 0.5 s)" in line
    assert list((tmp_path / "data").rglob("*")) == []  # the staging folder is gone
    assert socket.getdefaulttimeout() is None  # the time-out was only for the download


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_wandb_online_without_its_server_fails_at_once_naming_the_host(toy_recipe, capsys, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    started = time.monotonic()
    status = main(["run", str(toy_recipe), "wandb.mode=online", "--no-progress"])
    assert time.monotonic() - started < 10  # wandb alone waits 90 s
    line = one_line(capsys, status)
    assert line == (
        f"ganzoo: error: wandb.mode=online: cannot reach 127.0.0.1:{port} (Connection refused). Use "
        f"wandb.mode=offline and upload the run later with `wandb sync`, or wandb.mode=disabled"
    )


def test_an_unresolvable_host_is_named_and_a_listening_one_is_reachable(stalled_server):
    assert ganzoo.files.downloads.unreachable("https://no-such-host.invalid").startswith(
        "cannot reach no-such-host.invalid:443 (the name does not resolve"
    )
    assert ganzoo.files.downloads.unreachable(stalled_server, seconds=0.5) is None  # it accepts: reachable
