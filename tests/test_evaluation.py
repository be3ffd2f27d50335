"""`ganzoo eval` and evaluation during training: metrics that can fail, offline.

The sanity checks use the real MNIST under ../shared/data and the dataset classifier,
trained once per test session into a temporary cache (about a minute on 2 cores)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from wandb_reader import logged_history, logged_summary

import ganzoo
import ganzoo_datasets
import ganzoo_metrics
import ganzoo_vanilla
from conftest import REPO, SHARED_DATA, metrics, needs_shared_mnist, run_folder, write_idx_mnist, write_recipe
from ganzoo.api.metrics import MetricContext
from ganzoo.cli import main
from ganzoo.inference import load_dataset, load_trained
from ganzoo.inference.evaluation import Evaluation, evaluate_model
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.recipe import load_recipe
from ganzoo_metrics.extractors import INCEPTION_FILE
from ganzoo_metrics.metrics import FID, KID, ClassCoverage, InceptionScore, ModeCoverage

CPU = torch.device("cpu")


def bundled() -> Registry:
    return Registry.from_plugin_manager(
        make_plugin_manager([ganzoo_vanilla, ganzoo_datasets, ganzoo_metrics], entry_points=False)
    )


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ganzoo-cache")


@pytest.fixture(scope="session")
def mnist(classifier_cache):
    """Real MNIST (train and test splits) and an evaluation session with its classifier."""
    registry = bundled()
    recipe = load_recipe(
        REPO / "recipes" / "vanilla_mnist.yaml",
        registry,
        [f"data.root={SHARED_DATA}", f"eval.extractors.classifier.cache_dir={classifier_cache}"],
    )
    train, test = load_dataset(recipe, registry), load_dataset(recipe, registry, split="test")
    evaluation = Evaluation(registry, recipe, train, [], device=CPU, n=5000, progress=False)
    classifier = evaluation.extractor("classifier")  # trained now, or loaded from the session's cache
    return SimpleNamespace(
        registry=registry, recipe=recipe, train=train, test=test, evaluation=evaluation, classifier=classifier
    )


def context(mnist, real: torch.Tensor, fake: torch.Tensor) -> MetricContext:
    return MetricContext(real, fake, None, None, mnist.evaluation.data, mnist.evaluation.extractor)


def noise_images(n: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


# --------------------------------------------------------------------------- sanity


@needs_shared_mnist
def test_the_dataset_classifier_reaches_98_percent_on_the_mnist_test_split(mnist):
    with torch.no_grad():
        logits = torch.cat(
            [mnist.classifier.extract(mnist.test.samples[i : i + 1000]).logits for i in range(0, len(mnist.test), 1000)]
        )
    accuracy = (logits.argmax(1) == mnist.test.labels).double().mean().item()
    assert accuracy >= 0.98, accuracy
    assert "trained on mnist" in mnist.classifier.describe() and "test split" in mnist.classifier.describe()


@needs_shared_mnist
def test_real_vs_real_is_close_and_real_vs_noise_is_far(mnist):
    real, other_real = mnist.train.samples[:3000], mnist.train.samples[3000:6000]  # two halves of one set
    same = context(mnist, real, other_real)
    noise = context(mnist, real, noise_images(3000))
    fid_same, fid_noise = (FID().compute(c)["fid/classifier"] for c in (same, noise))
    kid_same, kid_noise = (KID().compute(c)["kid/classifier"] for c in (same, noise))
    assert fid_same < 0.01 * fid_noise, (fid_same, fid_noise)
    assert abs(kid_same) < 0.01 * kid_noise, (kid_same, kid_noise)
    # Real digits are confidently classified into ten even classes; noise is not.
    assert InceptionScore().compute(same)["is/classifier"] > 9
    assert InceptionScore().compute(noise)["is/classifier"] < 3


@needs_shared_mnist
def test_a_generator_collapsed_onto_one_class_scores_low_coverage(mnist):
    ones = mnist.test.samples[mnist.test.labels == 1][:1000]
    collapsed = ClassCoverage().compute(context(mnist, mnist.train.samples[:1000], ones))
    healthy = ClassCoverage().compute(context(mnist, mnist.train.samples[:1000], mnist.test.samples[:5000]))
    share_of_ones = (mnist.train.labels == 1).double().mean().item()
    assert collapsed["class_coverage"] == pytest.approx(0.1)
    assert collapsed["class_kl"] == pytest.approx(-math.log(share_of_ones), abs=0.05)
    assert healthy["class_coverage"] == 1.0 and healthy["class_kl"] < 0.01
    assert InceptionScore().compute(context(mnist, ones, ones))["is/classifier"] < 1.5


@needs_shared_mnist
def test_fid_agrees_with_an_independent_computation_on_the_same_features(mnist):
    # Real digits against the same digits with a quarter of their pixels blanked: a middling FID.
    damaged = mnist.test.samples[:3000].clone()
    damaged[:, :, :, :7] = 0
    ctx = context(mnist, mnist.train.samples[:3000], damaged)
    ours = FID().compute(ctx)["fid/classifier"]
    a, b = (ctx.features("classifier", side).features.double() for side in ("real", "fake"))
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # Tr sqrt(A B) through the symmetric root of A: sqrt(A^1/2 B A^1/2) has the same trace.
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    middle = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    independent = ((mean_a - mean_b) ** 2).sum() + cov_a.trace() + cov_b.trace() - 2 * middle
    assert ours > 10
    assert ours == pytest.approx(independent.item(), rel=1e-6)


def test_the_modes_metric_counts_covered_modes_and_high_quality_samples():
    data = ganzoo_datasets.toy.Ring(size=100).load()
    modes = data.modes
    # 100 samples: 40 on mode 0, 15 near mode 1, 2 on mode 2 (below a fifth of the fair 12.5), 43 far away.
    fake = torch.cat(
        [
            modes[0].repeat(40, 1),
            modes[1].repeat(15, 1) + torch.tensor([0.05, 0.0]),
            modes[2].repeat(2, 1),
            torch.full((43, 2), 9.0),
        ]
    )
    ctx = MetricContext(data.samples, fake, None, None, ganzoo.EvalData(data, "ring", {}, CPU), lambda name: None)
    values = ModeCoverage().compute(ctx)
    assert values == {"modes_covered": 2.0, "high_quality": 0.57}
    assert ModeCoverage(sigmas=2.0).compute(ctx)["high_quality"] == 0.42  # 0.05 from its centre is 2.5 sigma
    assert FID().unsupported(data) and ModeCoverage().unsupported(
        ganzoo.Data(torch.zeros(4, 1, 8, 8, dtype=torch.uint8))
    )


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def trained_mnist(tmp_path, classifier_cache, monkeypatch):
    """A vanilla GAN trained 400 steps on the real MNIST, with an offline wandb run."""
    monkeypatch.setenv("GANZOO_CACHE", str(classifier_cache))
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / "vanilla_mnist.yaml"),
                f"data.root={SHARED_DATA}",
                "train.max_steps=400",
                f"run.dir={tmp_path / 'runs'}",
                "video.format=gif",
                "--no-progress",
            ]
        )
        == 0
    )
    return next((tmp_path / "runs").iterdir())


@needs_shared_mnist
def test_eval_prints_fid_kid_is_and_coverage_with_n_and_extractor_and_logs_them_to_wandb(trained_mnist, capsys):
    assert main(["eval", str(trained_mnist), "--n", "2000", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    for key in ("fid/classifier", "kid/classifier", "is/classifier", "class_coverage", "class_kl"):
        line = next(line for line in printed.splitlines() if line.strip().startswith(key + " "))
        assert "n=2000 generated, 2000 real" in line and "extractor classifier" in line, line
    assert "classifier: ganzoo SmallConvNet" in printed and "accuracy on the test split" in printed

    assert main(["eval", str(trained_mnist), "--n", "2000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    values = {r["key"]: r["value"] for r in report["results"]}
    assert report["step"] == 400 and all(r["n_fake"] == 2000 for r in report["results"])
    assert all(math.isfinite(v) for v in values.values())
    assert values["fid/classifier"] > 0 and 1 <= values["is/classifier"] <= 10 and 0 < values["class_coverage"] <= 1

    # The same numbers, in the run's record and in its (resumed) offline wandb run.
    records = [json.loads(line) for line in (trained_mnist / "eval.jsonl").read_text().splitlines()]
    assert len(records) == 2 and {r["key"]: r["value"] for r in records[-1]["results"]} == values
    newest = sorted((trained_mnist / "wandb").glob("offline-run-*"))[-1]
    summary = logged_summary(next(newest.glob("*.wandb")))
    assert {key: summary[f"eval/{key}"] for key in values} == values
    assert summary["eval/eval_n"] == 2000 and summary["eval/trained_step"] == 400
    assert "SmallConvNet" in summary["eval/extractors"]


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    """A vanilla GAN trained 10 steps on random digits: enough to evaluate, in a second."""
    root = tmp_path_factory.mktemp("synthetic")
    write_idx_mnist(root / "data", n_train=320)
    recipe = write_recipe(
        root / "r.yaml",
        {
            "extends": str(REPO / "recipes" / "vanilla_mnist.yaml"),
            "data": {"root": str(root / "data")},
            "train": {"epochs": 1},
            "run": {"dir": str(root / "runs"), "name": "synthetic"},
            "wandb": {"mode": "disabled"},
            "video": {"format": "gif"},
        },
    )
    assert main(["run", str(recipe), "--no-progress"]) == 0
    return root / "runs" / "synthetic"


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["--metrics", "fdi"], 2, "unknown metric 'fdi'; did you mean 'fid'?"),
        (["--metrics", "modes"], 1, "metric 'modes' cannot run on this run's data: needs a mixture of Gaussians"),
        (["eval.metrics=[{name: fid, subsets: 3}]"], 2, "eval.metrics.0.subsets: unknown key 'subsets'"),
        (
            ["eval.extractors.classifer.epochs=1"],
            2,
            "unknown feature extractor 'classifer'; did you mean 'classifier'?",
        ),
    ],
)
def test_eval_rejects_unknown_and_unsupported_metrics(synthetic_run, capsys, args, status, message):
    assert main(["eval", str(synthetic_run), *args]) == status
    assert message in capsys.readouterr().err
    assert not (synthetic_run / "eval.jsonl").exists()


def inception_fid_behind(proxy: str, run, tmp_path, monkeypatch) -> int:
    """``ganzoo eval RUN`` of the Inception FID with torch's hub cache empty and every
    download sent through ``proxy``."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for variable in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(variable, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    arguments = ["eval", str(run), "--metrics", "fid", "eval.metrics=[{name: fid, extractor: inception}]"]
    return main([*arguments, "--n", "10", "--no-progress"])


def test_inception_offline_fails_naming_the_weights_file_and_the_option(synthetic_run, tmp_path, monkeypatch, capsys):
    closed = "http://127.0.0.1:9"  # nothing listens there: no network, at once
    assert inception_fid_behind(closed, synthetic_run, tmp_path, monkeypatch) == 1
    error = capsys.readouterr().err
    assert INCEPTION_FILE in error and "eval.extractors.inception.weights" in error
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / INCEPTION_FILE) in error
    assert not any((tmp_path / "torch").rglob("*.pth"))  # no half-downloaded file left behind


def test_inception_behind_a_stalled_proxy_fails_in_the_time_out(
    synthetic_run, tmp_path, monkeypatch, capsys, stalled_server
):
    import time

    import ganzoo.files.downloads

    monkeypatch.setattr(ganzoo.files.downloads, "NETWORK_TIMEOUT", 0.5)
    started = time.monotonic()  # the proxy accepts the connection and never answers
    assert inception_fid_behind(stalled_server, synthetic_run, tmp_path, monkeypatch) == 1
    assert time.monotonic() - started < 10
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "could not be downloaded from https://github.com/" in line and "no answer within 0.5 s" in line
    assert not any((tmp_path / "torch").rglob("*.pth"))


def test_inception_runs_from_a_local_weights_file(synthetic_run, tmp_path, capsys):
    """The real weights cannot be downloaded here; a file of the right shape, with random
    values, shows the local-weights path works end to end (its numbers mean nothing)."""
    from unittest import mock

    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with (
        mock.patch("torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url", return_value={}),
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict"),
    ):
        network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    weights = tmp_path / INCEPTION_FILE
    torch.save(network.state_dict(), weights)
    assert (
        main(
            [
                "eval",
                str(synthetic_run),
                "--metrics",
                "fid,is",
                "--n",
                "12",
                "--json",
                "eval.metrics=[{name: fid, extractor: inception}, {name: is, extractor: inception, splits: 2}]",
                f"eval.extractors.inception.weights={weights}",
            ]
        )
        == 0
    )
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["key"] for r in results} == {"fid/inception", "is/inception", "is_std/inception"}
    assert all(math.isfinite(r["value"]) and INCEPTION_FILE in r["extractor"] for r in results)


# --------------------------------------------------------------------------- hooks


class MeanPixel(ganzoo.Metric):
    """The mean generated pixel, in [0, 255]."""

    name = "mean_pixel"

    def compute(self, ctx):
        return {"mean_pixel": ctx.fake.float().mean().item()}


class Flat(ganzoo.FeatureExtractor):
    """Raw pixels as features (the first 16)."""

    name = "flat"

    def prepare(self, data):
        self.prepared_for = data.dataset

    def describe(self):
        return f"flat: the first 16 pixels of {self.prepared_for}"

    def extract(self, samples):
        return ganzoo.Features(samples.flatten(1)[:, :16].float())


class MetricPlugin:
    @staticmethod
    @ganzoo.hookimpl
    def register_metrics(register):
        register(MeanPixel)

    @staticmethod
    @ganzoo.hookimpl
    def register_feature_extractors(register):
        register(Flat)


def plugin_registry() -> Registry:
    return Registry.from_plugin_manager(
        make_plugin_manager(
            {"vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets, "metrics": ganzoo_metrics, "mine": MetricPlugin()},
            entry_points=False,
        )
    )


def test_hook_register_metrics(synthetic_run):
    registry = plugin_registry()
    assert registry.entry("metric", "mean_pixel").plugin == "mine"
    model = load_trained(synthetic_run, registry)
    (result,) = evaluate_model(model, registry, names=["mean_pixel"], n=64, progress=False)
    images = torch.from_numpy(__import__("numpy").load(_sample(synthetic_run, 64))["images"])
    assert result.key == "mean_pixel" and result.extractor is None and result.n_fake == 64
    assert result.value == pytest.approx(images.float().mean().item(), rel=1e-6)


def test_hook_register_feature_extractors(synthetic_run):
    registry = plugin_registry()
    assert registry.entry("feature_extractor", "flat").plugin == "mine"
    model = load_trained(synthetic_run, registry, ["eval.metrics=[{name: fid, extractor: flat}]"])
    (result,) = evaluate_model(model, registry, names=["fid"], n=64, progress=False)
    assert result.key == "fid/flat" and result.extractor == "flat: the first 16 pixels of mnist"
    assert result.value > 0


def _sample(folder: Path, n: int) -> Path:
    out = folder.parent / f"sample-{n}.npz"
    assert main(["sample", str(folder), "--n", str(n), "--out", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- during training


@pytest.fixture
def ring_recipe(tmp_path, toy_recipe):
    return write_recipe(
        tmp_path / "ring.yaml",
        {
            "extends": str(toy_recipe),
            "train": {"epochs": 3},
            "eval": {"every": 1, "n": 500},
            "checkpoint": {"best_metric": "high_quality", "best_mode": "max"},
            "wandb": {"mode": "offline"},
        },
    )


def test_training_evaluates_every_epoch_logs_everywhere_and_keeps_the_best(ring_recipe, tmp_path, capsys):
    assert main(["run", str(ring_recipe), "--no-progress"]) == 0
    folder = run_folder(capsys.readouterr().out)
    evaluations = [row for row in metrics(folder) if "eval_n" in row]
    assert [row["step"] for row in evaluations] == [16, 32, 48]  # 16 steps an epoch
    assert all(set(row) == {"step", "epoch", "eval_n", "modes_covered", "high_quality"} for row in evaluations)
    records = [json.loads(line) for line in (folder / "eval.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [16, 32, 48] and all(r["source"] == "training" for r in records)

    best = torch.load(folder / "checkpoints" / "best.pt", weights_only=True)
    assert best["best"] == {"metric": "high_quality", "value": max(row["high_quality"] for row in evaluations)}
    history = logged_history(next(next((folder / "wandb").glob("offline-run-*")).glob("*.wandb")))
    assert [(row["_step"], row["high_quality"]) for row in history if "high_quality" in row] == [
        (row["step"], row["high_quality"]) for row in evaluations
    ]

    # Evaluating does not change what is learned: the same run without it ends identically.
    assert main(["run", str(ring_recipe), "eval.every=null", "checkpoint.best_metric=null", "--no-progress"]) == 0
    plain = run_folder(capsys.readouterr().out)
    ours, theirs = (torch.load(f / "weights.pt", weights_only=True)["generator"] for f in (folder, plain))
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert [row for row in metrics(folder) if "eval_n" not in row] == metrics(plain)


def test_a_resumed_run_keeps_its_evaluations_and_logs_each_once(ring_recipe, tmp_path, capsys):
    # A checkpoint due at an epoch's last step (16 steps an epoch) is saved after the epoch's
    # evaluation, so that a run resumed from it does not evaluate that step again.
    assert main(["run", str(ring_recipe), "checkpoint.every=16", "--no-progress"]) == 0
    reference = run_folder(capsys.readouterr().out)
    # The same run, as a crash right after epoch 2's checkpoint leaves it.
    folder = tmp_path / "crashed"
    shutil.copytree(reference, folder)
    (folder / "checkpoints" / "step_0000048.pt").unlink()
    (folder / "weights.pt").unlink()
    assert main(["run", "--resume", str(folder), "--no-progress"]) == 0
    assert metrics(folder) == metrics(reference)
    steps = [json.loads(line)["step"] for line in (folder / "eval.jsonl").read_text().splitlines()]
    assert steps == [16, 32, 48]
