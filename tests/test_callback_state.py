"""Callbacks with state of their own: saved in checkpoints and restored on resume, and a
callback's generator sampled from instead of the trained one (the spec change behind EMA)."""

from __future__ import annotations

import copy

import pytest
import torch

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import write_recipe
from ganzoo.inference import load_trained
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo.run import resume_run, run_recipe
from ganzoo.runfolder.checkpoints import latest_checkpoint


class Snapshot(ganzoo.Callback):
    """Keeps a copy of G taken at step ``at`` and offers it for sampling."""

    name = "snapshot"

    class Options(ganzoo.Options):
        at: int = 3

    def __init__(self, **options):
        super().__init__(**options)
        self.copy, self.loaded = None, None

    def on_step_end(self, trainer):
        if trainer.step == self.options.at:
            self.copy = copy.deepcopy(trainer.generator)

    def state_dict(self):
        return {"weights": self.copy.state_dict()} if self.copy is not None else {}

    def load_state_dict(self, state):
        self.loaded = state

    def sampling_generator(self, trainer):
        if self.copy is None and self.loaded is not None:
            self.copy = copy.deepcopy(trainer.generator)
            self.copy.load_state_dict(self.loaded["weights"])
        return self.copy


class SnapshotPlugin:
    @ganzoo.hookimpl
    def register_callbacks(self, register):
        register(Snapshot)


@pytest.fixture
def snapshot_registry() -> Registry:
    return Registry.from_plugin_manager(
        make_plugin_manager([ganzoo_vanilla, ganzoo_datasets, SnapshotPlugin()], entry_points=False)
    )


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_callbacks_generator_is_what_weights_and_checkpoints_sample_from(tmp_path, toy_recipe, snapshot_registry):
    path = write_recipe(
        tmp_path / "snap.yaml",
        {"extends": str(toy_recipe), "callbacks": [{"name": "snapshot", "at": 3}], "checkpoint": {"every": 10}},
    )
    run = run_recipe(load_recipe(path, snapshot_registry), snapshot_registry, progress=False)
    snapshot = next(c for c in run.trainer.callbacks if isinstance(c, Snapshot)).copy.state_dict()
    weights = torch.load(run.folder / "weights.pt", weights_only=True)
    assert weights["generator_source"] == "snapshot"
    assert same(weights["generator"], snapshot)
    assert same(weights["trained_generator"], run.trainer.generator.state_dict())
    assert not same(snapshot, run.trainer.generator.state_dict())  # training went on after step 3

    model = load_trained(run.folder, snapshot_registry)
    assert model.weights == "snapshot" and same(model.generator.state_dict(), snapshot)
    trained = load_trained(run.folder, snapshot_registry, trained=True)
    assert trained.weights == "trained" and same(trained.generator.state_dict(), run.trainer.generator.state_dict())

    checkpoint, state, _ = latest_checkpoint(run.folder)
    assert same(state["trainer"]["callbacks"]["snapshot"]["weights"], snapshot)
    assert same(load_trained(checkpoint, snapshot_registry).generator.state_dict(), snapshot)


def test_resume_hands_the_saved_state_back(tmp_path, toy_recipe, snapshot_registry):
    path = write_recipe(
        tmp_path / "snap.yaml",
        {"extends": str(toy_recipe), "callbacks": [{"name": "snapshot", "at": 3}], "checkpoint": {"every": 10}},
    )
    first = run_recipe(load_recipe(path, snapshot_registry), snapshot_registry, progress=False)
    snapshot = next(c for c in first.trainer.callbacks if isinstance(c, Snapshot)).copy.state_dict()
    resumed = resume_run(first.folder, snapshot_registry, ["train.epochs=3"], progress=False)
    callback = next(c for c in resumed.trainer.callbacks if isinstance(c, Snapshot))
    assert same(callback.loaded["weights"], snapshot)
    assert same(torch.load(first.folder / "weights.pt", weights_only=True)["generator"], snapshot)


def test_resume_without_a_stateful_callback_is_refused(tmp_path, toy_recipe, snapshot_registry):
    path = write_recipe(
        tmp_path / "snap.yaml",
        {"extends": str(toy_recipe), "callbacks": [{"name": "snapshot", "at": 3}], "checkpoint": {"every": 10}},
    )
    first = run_recipe(load_recipe(path, snapshot_registry), snapshot_registry, progress=False)
    (first.folder / "recipe.yaml").write_text(
        (first.folder / "recipe.yaml").read_text().replace("callbacks:\n- name: snapshot\n  at: 3\n", "callbacks: []\n")
    )
    with pytest.raises(ganzoo.GanzooError, match="snapshot, which the recipe no longer lists"):
        resume_run(first.folder, snapshot_registry, ["train.epochs=3"], progress=False)
