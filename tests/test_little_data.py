"""Little data from any dataset: ``data.limit`` keeps a fixed class-balanced subset (recorded in
the run folder), evaluation still measures against the whole held-out split, the run logs D's
verdict on training against held-out images, ``memorization`` tells copies from new samples,
and the checkpoint and evaluation intervals suit epochs of a few steps."""

from __future__ import annotations

import json

import pytest
import torch

import ganzoo
from conftest import REPO, metrics, problem_line, run_folder, small_run, weights, write_idx_mnist
from ganzoo.api.metrics import MetricContext
from ganzoo.cli import main
from ganzoo.inference.data import choose_subset
from ganzoo_metrics.memorization import Memorization, nearest_distances

DCGAN = str(REPO / "recipes" / "dcgan_mnist.yaml")


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return write_idx_mnist(tmp_path_factory.mktemp("digits"), n_train=200, n_test=64)


def tiny(digits, run_dir, *overrides):
    base = ["run", DCGAN, f"data.root={digits}", "model.width=8", "train.batch_size=16", "device=cpu"]
    return [*base, *small_run(run_dir), *overrides]


# --------------------------------------------------------------------------- data.limit


def test_the_subset_is_class_balanced_fixed_by_its_seed_and_sorted():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 3)
    data = ganzoo.Data(torch.zeros(len(labels), 1, 2, 2, dtype=torch.uint8), labels, num_classes=3)
    chosen = choose_subset(data, 13, seed=4)
    assert torch.equal(chosen, chosen.sort().values) and len(set(chosen.tolist())) == 13
    # 13 = 5 + 4 + 4, but the third class has 3: the others make up for it, first classes first
    assert torch.bincount(labels[chosen]).tolist() == [5, 5, 3]
    assert torch.equal(chosen, choose_subset(data, 13, seed=4))
    assert not torch.equal(chosen, choose_subset(data, 13, seed=5))
    unlabelled = ganzoo.Data(torch.zeros(20, 2))
    assert len(choose_subset(unlabelled, 7, seed=0)) == 7


def test_a_limited_run_trains_on_its_subset_records_it_and_is_measured_on_the_test_split(
    digits, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    assert main(tiny(digits, tmp_path, "data.limit=40", "data.subset_seed=3", "train.max_steps=3")) == 0
    folder = run_folder(capsys.readouterr().out)
    subset = json.loads((folder / "subset.json").read_text())
    assert subset["limit"] == 40 and subset["subset_seed"] == 3 and len(subset["indices"]) == 40
    assert sum(subset["class_counts"].values()) == 40 and max(subset["class_counts"].values()) <= 5
    state = torch.load(folder / "checkpoints" / "step_0000003.pt", weights_only=True)["trainer"]
    assert len(state["epoch_order"]) == 40  # the run trains on the 40 images alone
    assert main(["eval", str(folder), "--metrics", "fid,memorization", "--n", "50", "--json", "--no-progress"]) == 0
    results = {r["key"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["fid/classifier"]["n_real"] == 50  # reference: 50 of the 64 test images, not the 40 it saw
    assert results["copy_ratio/classifier"]["value"] > 0
    # the extractor was trained on the whole dataset: the same classifier as an unlimited run's
    assert "trained on mnist" in results["fid/classifier"]["extractor"]


def test_every_member_of_a_population_records_its_subset(digits, tmp_path, capsys):
    vanilla = str(REPO / "recipes" / "vanilla_mnist.yaml")
    run = ["run", vanilla, f"data.root={digits}", "data.limit=30", "train.population=2", "train.max_steps=1"]
    assert main([*run, "train.batch_size=10", "device=cpu", *small_run(tmp_path)]) == 0
    capsys.readouterr()
    subsets = [json.loads(path.read_text()) for path in sorted(tmp_path.glob("*-m*/subset.json"))]
    assert len(subsets) == 2 and subsets[0]["indices"] == subsets[1]["indices"]  # data.subset_seed: the same images


def test_a_limit_larger_than_the_dataset_is_one_line(digits, tmp_path, capsys):
    line = problem_line(capsys, main(tiny(digits, tmp_path, "data.limit=500", "train.max_steps=1")))
    assert line.endswith("data.limit: asks for 500 samples, and the dataset holds 200")


def test_the_limit_keys_belong_to_the_core_and_are_resolved_only_when_set(digits, capsys):
    assert main(["check", DCGAN, f"data.root={digits}", "data.limit=30", "--print"]) == 0
    printed = capsys.readouterr().out
    assert "limit: 30" in printed and "subset_seed" not in printed
    assert main(["check", DCGAN, "--print"]) == 0
    assert "limit" not in capsys.readouterr().out
    line = problem_line(capsys, main(["check", DCGAN, "data.limit=0"]))
    assert "data.limit: " in line and "greater than 0" in line


# --------------------------------------------------------------------------- seeing overfitting


def test_the_run_logs_d_on_training_and_held_out_images_without_changing_training(digits, tmp_path, capsys):
    common = ["data.limit=32", "train.max_steps=4", "train.log_every=2"]
    assert main(tiny(digits, tmp_path, "run.name=watched", *common)) == 0
    assert main(tiny(digits, tmp_path, "run.name=unwatched", "train.overfitting_batch=0", *common)) == 0
    capsys.readouterr()
    rows = metrics(tmp_path / "watched")
    watched = [row for row in rows if "d_train" in row]
    assert [row["step"] for row in watched] == [2, 4] and all(0 < row["d_held_out"] < 1 for row in watched)
    assert (tmp_path / "watched" / "curves" / "overfitting.png").is_file()
    # drawn in their group's plot only: nothing else this run logs needs the plot of other scalars
    assert not (tmp_path / "watched" / "curves" / "other.png").exists()
    assert not any("d_train" in row for row in metrics(tmp_path / "unwatched"))
    # D's buffers and the random streams are put back: the same weights, bit for bit
    for network in ("generator", "discriminator"):
        ours, theirs = weights(tmp_path / "watched")[network], weights(tmp_path / "unwatched")[network]
        assert all(torch.equal(ours[key], theirs[key]) for key in theirs)
    assert [r for r in rows if "d_loss" in r] == metrics(tmp_path / "unwatched")


# --------------------------------------------------------------------------- memorisation


def test_nearest_distances_are_exact():
    queries, references = torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([[0.0, 1.0], [3.0, 4.0], [9.0, 9.0]])
    assert nearest_distances(queries, references).tolist() == [1.0, 0.0]


class Identity(ganzoo.FeatureExtractor):
    name = "identity"

    def extract(self, samples):
        return ganzoo.Features(samples.flatten(1).float())


def memorization(fake: torch.Tensor, trained_on: torch.Tensor, held_out: torch.Tensor) -> dict[str, float]:
    data = ganzoo.Data(trained_on, torch.zeros(len(trained_on), dtype=torch.long), num_classes=1)
    eval_data = ganzoo.EvalData(data, "made", {}, torch.device("cpu"))
    ctx = MetricContext(
        held_out, fake, None, None, eval_data, lambda name: Identity(), trained_on=trained_on, held_out=held_out
    )
    return Memorization(extractor="identity").compute(ctx)


def test_copies_score_below_one_and_new_samples_about_one():
    generator = torch.Generator().manual_seed(0)
    trained_on = torch.randint(0, 256, (100, 1, 4, 4), generator=generator, dtype=torch.uint8)
    held_out = torch.randint(0, 256, (100, 1, 4, 4), generator=generator, dtype=torch.uint8)
    new = torch.randint(0, 256, (100, 1, 4, 4), generator=generator, dtype=torch.uint8)
    copies = memorization(trained_on[torch.randint(0, 100, (100,), generator=generator)], trained_on, held_out)
    assert copies["copy_ratio/identity"] == 0 and copies["nn_fake/identity"] == 0
    fresh = memorization(new, trained_on, held_out)
    assert 0.7 < fresh["copy_ratio/identity"] < 1.4
    assert fresh["nn_held_out/identity"] == pytest.approx(copies["nn_held_out/identity"])


# --------------------------------------------------------------------------- intervals


def test_short_epochs_are_not_checkpointed_every_few_steps_and_evaluate_every_n_steps(
    digits, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    overrides = ["data.limit=32", "train.max_steps=12", "eval.every_steps=5", "eval.n=20", "eval.metrics=[{name: fid}]"]
    assert main(tiny(digits, tmp_path, *overrides)) == 0  # 32 images in batches of 16: two steps an epoch
    folder = run_folder(capsys.readouterr().out)
    assert [p.name for p in (folder / "checkpoints").iterdir()] == ["step_0000012.pt"]  # the end only
    evaluations = [json.loads(line) for line in (folder / "eval.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in evaluations] == [5, 10, 12]
    assert evaluations[0]["results"][0]["n_real"] == 20
