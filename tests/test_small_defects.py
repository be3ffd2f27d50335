"""Issue 16, item 7: small defects, each with a test of its own (the doc ones are in
tests/test_docs.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch

import ganzoo
from conftest import REPO
from conftest import ganzoo as ganzoo_cli
from ganzoo_vanilla import VanillaMLP
from ganzoo_vanilla.losses import bce, r1_penalty


@pytest.mark.parametrize("args", [["plugins"], ["plugins", "--json"]])
def test_a_closed_pipe_ends_the_command_quietly(args):
    """``ganzoo plugins | head -1``: the reader goes away. Here it is gone before the first
    write (its end of the pipe is closed), which makes the failure certain, not a race."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ganzoo", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            timeout=120,
        )
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 141  # 128 + SIGPIPE, as a tool ended by the signal reports


def _sure_discriminator(logit: float) -> torch.nn.Module:
    """The vanilla D with every weight zero and the last bias ``logit``: D(x) = sigmoid(logit)."""
    d = VanillaMLP().build_discriminator(ganzoo.DataInfo(shape=(1, 28, 28)))
    for p in d.parameters():
        torch.nn.init.zeros_(p)
    d.net[4].bias.data.fill_(logit)
    return d


@pytest.mark.parametrize("logit", [7.0, 10.0])
def test_bce_keeps_d_gradient_under_bf16(logit):
    d = _sure_discriminator(logit)
    x = torch.zeros(4, 1, 28, 28)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        bce(d(x), 1.0).backward()
    expected = torch.sigmoid(torch.tensor(logit)) - 1  # d BCE(sigmoid(l), 1) / dl = p - 1
    assert d.net[4].bias.grad is not None
    torch.testing.assert_close(
        d.net[4].bias.grad[0], expected, rtol=1e-2, atol=0
    )  # bfloat16 rounding of the backward pass


def test_r1_is_on_under_bf16():
    d = _sure_discriminator(8.0)
    d.net[0].weight.data.fill_(1e-3)
    d.net[2].weight.data.fill_(1e-3)
    d.net[4].weight.data.fill_(1e-3)
    real = torch.rand(4, 1, 28, 28).requires_grad_(True)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        bf16 = r1_penalty(real, d(real))
    fp32 = r1_penalty(real, d(real))
    assert bf16.item() > 0
    torch.testing.assert_close(bf16, fp32, rtol=0.05, atol=0)


def test_float32_sigmoid_is_plain_sigmoid_outside_autocast():
    x = torch.randn(1000) * 10
    assert torch.equal(ganzoo.Float32Sigmoid()(x), torch.sigmoid(x))


def test_cli_docs_give_report_only_its_own_options():
    """docs/cli.md listed `--nproc` (an option of `run`) for `ganzoo report`, which refuses it."""
    from ganzoo.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    report_options = {s for a in commands["report"]._actions for s in a.option_strings}
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    body = text.split("ganzoo report [")[1].split("\n## ")[0]
    rows = set(re.findall(r"^\| `(--[\w-]+)`", body, re.M))
    assert rows <= report_options, f"docs/cli.md lists {sorted(rows - report_options)} for `ganzoo report`"


def test_writing_plugins_names_every_bundled_plugin():
    text = (REPO / "docs" / "writing-plugins.md").read_text(encoding="utf-8")
    bundled = sorted(p.name for p in (REPO / "plugins").iterdir() if (p / "pyproject.toml").is_file())
    assert len(bundled) == 10 and "two bundled" not in text
    assert all(f"`{name}`" in text for name in bundled), bundled


def test_the_documented_error_lines_are_what_check_prints():
    """The example under "Errors" in docs/recipes.md (the `known:` lists missed `compile` and
    `precision`) is the real output of that command."""
    text = (REPO / "docs" / "recipes.md").read_text(encoding="utf-8")
    example = text.split("### Errors")[1].split("```text\n")[1].split("```")[0].splitlines()
    done = ganzoo_cli("check", "recipes/vanilla_mnist.yaml", "train.epoch=3", "loss.name=bec")
    assert done.returncode == 2
    assert done.stderr.splitlines() == example
