"""bench/began_energy.py: the trained D's reconstruction error per test class, read from a
BEGAN run's checkpoint (the training and the reading are the user's: `ganzoo run`, then the
script on the run folder)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from conftest import REPO, bench_module, small_run, write_idx_mnist
from ganzoo.cli import main
from ganzoo_classic.energy import ELUAutoencoderD

began_energy = bench_module("began_energy")


def test_errors_per_class_are_the_trained_discriminators_on_the_test_split(tmp_path, capsys, monkeypatch):
    data = write_idx_mnist(tmp_path / "data", n_train=64, n_test=48)
    args = [str(REPO / "recipes" / "began_mnist.yaml"), f"data.root={data}", "train.max_steps=2", "model.width=8"]
    args += ["loss.gamma=0.7", *small_run(tmp_path / "runs")]
    assert main(["run", *args]) == 0
    folder = next((tmp_path / "runs").iterdir())

    result = began_energy.measure(folder, n=32)

    assert result.source.parent == folder / "checkpoints" and result.step == 2 and result.gamma == 0.7
    raw = data / "MNIST" / "raw"
    labels = torch.from_numpy(np.frombuffer((raw / "t10k-labels-idx1-ubyte").read_bytes()[8:], np.uint8).copy())
    pixels = np.frombuffer((raw / "t10k-images-idx3-ubyte").read_bytes()[16:], np.uint8).reshape(-1, 1, 28, 28)
    images = torch.from_numpy(pixels.copy()).float() / 127.5 - 1
    discriminator = ELUAutoencoderD(8, 64, (1, 28, 28))
    discriminator.load_state_dict(torch.load(result.source, weights_only=True)["trainer"]["discriminator"])
    with torch.no_grad():
        errors = (discriminator(images) - images).abs().flatten(1).mean(1)
    assert result.real == pytest.approx(errors.mean().item(), rel=1e-5)
    expected = [
        (d, int((labels == d).sum()), errors[labels == d].mean().item()) for d in range(10) if (labels == d).any()
    ]
    assert [(d, c) for d, c, _ in result.per_class] == [(d, c) for d, c, _ in expected]
    assert [e for _, _, e in result.per_class] == pytest.approx([e for _, _, e in expected], rel=1e-5)
    assert 0 < result.fake < 2  # an L1 error of images in [-1, 1]

    # The command line prints the same numbers as a table, one row per digit and one for all.
    capsys.readouterr()  # what `ganzoo run` printed
    monkeypatch.setattr(sys, "argv", ["began_energy.py", str(folder), "--n", "32"])
    began_energy.main()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{result.source} (step 2), gamma 0.7"
    assert out[3 : 3 + len(expected)] == [f"| {d} | {c:,} | {e:.4f} |" for d, c, e in result.per_class]
    assert out[-2] == f"| all | 48 | {result.real:.4f} |"
    assert out[-1] == f"gamma E[L(x)] = {0.7 * result.real:.4f}; L(G(z)) over 32 samples = {result.fake:.4f}"


def test_a_folder_without_checkpoints_is_refused_in_one_line(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(sys, "argv", ["began_energy.py", str(tmp_path / "empty")])
    with pytest.raises(SystemExit, match="began_energy: no loadable checkpoint"):
        began_energy.main()


def test_a_run_of_another_loss_is_refused(tmp_path):
    data = write_idx_mnist(tmp_path / "data", n_train=64, n_test=16)
    args = [str(REPO / "recipes" / "ebgan_mnist.yaml"), f"data.root={data}", "train.max_steps=1", "model.width=8"]
    args += small_run(tmp_path / "runs")
    assert main(["run", *args]) == 0
    with pytest.raises(SystemExit, match="'ebgan' loss, not began"):
        began_energy.measure(next((tmp_path / "runs").iterdir()), n=8)
