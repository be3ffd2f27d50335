"""Issue 16, item 4: a loss names its scalars, and the curves, the progress bar and the
reports take the names from one lookup (ganzoo.scalars)."""

from __future__ import annotations

import pytest

import ganzoo
from conftest import REPO, run_folder, small_run
from conftest import ganzoo as ganzoo_cli
from ganzoo.api.scalars import CORE, label, scalar_infos
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.run.outputs import ProgressBar
from ganzoo.viz.report import infos_for_recipe

LOSSES = Registry.from_plugin_manager(make_plugin_manager()).entries("loss")


@pytest.mark.parametrize("entry", LOSSES, ids=lambda e: e.name)
def test_every_bundled_loss_names_its_scalars(entry):
    scalars = entry.cls.scalars
    assert scalars, f"loss {entry.name!r} names none of the scalars it logs"
    assert all(isinstance(info, ganzoo.ScalarInfo) and info.label and info.description for info in scalars.values())


def test_the_lookup_prefers_the_loss_and_falls_back_to_the_core():
    wgan = next(e.cls for e in LOSSES if e.name == "wgan")
    bce = next(e.cls for e in LOSSES if e.name == "bce")
    assert label("d_real", scalar_infos(wgan)) == "critic(x)"  # not "D(x)": a critic's score is no probability
    assert label("d_real", scalar_infos(bce)) == "D(x)"
    assert label("d_loss", scalar_infos(wgan)) == "d_loss" and label("something_new", CORE) == "something_new"
    assert infos_for_recipe({"loss": {"name": "not_installed"}}) == CORE


def test_the_progress_bar_shows_the_loss_labels():
    bar = ProgressBar(disable=True, infos=scalar_infos(next(e.cls for e in LOSSES if e.name == "wgan")))
    bar.on_train_start(type("Run", (), {"total_steps": 4, "step": 0, "epoch": 0, "display_epoch": 1, "epochs": 1})())
    bar.on_log(None, {"step": 1, "epoch": 1, "d_loss": 0.5, "g_loss": 0.1, "d_real": 2.0, "d_fake": -1.0})
    assert set(bar.bar.postfix.split(", ")) == {
        "d_loss=0.500",
        "g_loss=0.100",
        "critic(x)=2.000",
        "critic(G(z))=-1.000",
    }


def test_the_report_heads_columns_with_the_loss_labels(tmp_path, digits):
    # WGAN needs a critic that outputs logits (the compatibility check refuses it on vanilla_mlp): DCGAN's.
    done = ganzoo_cli(
        "run",
        str(REPO / "recipes" / "wgan_mnist.yaml"),
        f"data.root={digits}",
        "train.max_steps=10",
        "train.batch_size=16",
        "model.width=8",
        *small_run(tmp_path / "runs"),
    )
    assert done.returncode == 0, done.stderr
    page = tmp_path / "report.html"
    done = ganzoo_cli("report", str(run_folder(done.stdout)), "--out", str(page), "--no-progress")
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    assert 'title="mean critic score of real samples (unbounded)">critic(x)</th>' in html
    assert ">D(x)</th>" not in html


def test_scores_are_drawn_as_probabilities_only_when_they_are():
    from ganzoo.viz.curves import _probabilities

    by_name = {e.name: e.cls for e in LOSSES}
    assert _probabilities(scalar_infos(by_name["bce"])) and _probabilities(CORE)
    assert not _probabilities(scalar_infos(by_name["wgan"])) and not _probabilities(scalar_infos(by_name["hinge"]))
