"""The metrics. Feature-space arithmetic is torch-fidelity's own (the code papers use);
this module only feeds it features and names the results.

Every key a feature-space metric logs ends in its extractor (``fid/classifier``), because
the same metric in two feature spaces gives incomparable numbers.
"""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import Field, PositiveFloat, PositiveInt

import ganzoo

EXTRACTOR = Field(
    "auto",
    description="feature extractor: auto (classifier for labelled images, else inception), classifier or inception",
)


def _image_only(data: ganzoo.Data, extractor: str) -> Optional[str]:
    if not data.is_image:
        return "needs images (for 2-D mixtures use `modes`)"
    if extractor == "classifier" and (data.labels is None or not data.num_classes):
        return "the classifier extractor needs labelled data"
    return None


class FID(ganzoo.Metric):
    """Fréchet distance between Gaussians fitted to real and generated features (Heusel et al., 2017); lower is better."""

    name = "fid"

    class Options(ganzoo.Options):
        extractor: str = EXTRACTOR

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _image_only(data, self.options.extractor)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

        name = ctx.resolve_extractor(self.options.extractor)
        real = fid_features_to_statistics(ctx.features(name, "real").features.double())
        fake = fid_features_to_statistics(ctx.features(name, "fake").features.double())
        return {f"fid/{name}": fid_statistics_to_metric(fake, real, verbose=False)[KEY_METRIC_FID]}


class KID(ganzoo.Metric):
    """Kernel Inception Distance: unbiased squared MMD with a cubic polynomial kernel (Bińkowski et al., 2018); lower is better."""

    name = "kid"

    class Options(ganzoo.Options):
        extractor: str = EXTRACTOR
        subsets: PositiveInt = Field(100, description="random subsets averaged over")
        subset_size: PositiveInt = Field(1000, description="samples per subset (capped at the sample counts)")

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _image_only(data, self.options.extractor)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

        name = ctx.resolve_extractor(self.options.extractor)
        size = min(self.options.subset_size, ctx.n_real, ctx.n_fake)
        out = kid_features_to_metric(
            ctx.features(name, "fake").features.double(),
            ctx.features(name, "real").features.double(),
            kid_subsets=self.options.subsets,
            kid_subset_size=size,
            verbose=False,
        )
        return {f"kid/{name}": out[KEY_METRIC_KID_MEAN], f"kid_std/{name}": out[KEY_METRIC_KID_STD]}


class InceptionScore(ganzoo.Metric):
    """exp E[KL(p(y|x) || p(y))] over generated samples (Salimans et al., 2016); higher is better, at most the class count."""

    name = "is"

    class Options(ganzoo.Options):
        extractor: str = EXTRACTOR
        splits: PositiveInt = Field(
            10, description="the samples are scored in this many splits (mean and std reported)"
        )

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _image_only(data, self.options.extractor)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD, isc_features_to_metric

        name = ctx.resolve_extractor(self.options.extractor)
        logits = ctx.features(name, "fake").logits
        if logits is None:
            raise ganzoo.EvaluationError(f"the Inception Score needs class logits, and extractor {name!r} gives none")
        out = isc_features_to_metric(logits, splits=min(self.options.splits, ctx.n_fake))
        return {f"is/{name}": out[KEY_METRIC_ISC_MEAN], f"is_std/{name}": out[KEY_METRIC_ISC_STD]}


class PrecisionRecall(ganzoo.Metric):
    """Improved precision (fidelity) and recall (diversity) from k-NN manifolds (Kynkäänniemi et al., 2019); higher is better."""

    name = "precision_recall"
    default = False  # k-NN over all pairs: seconds on a CPU for n=10,000, and not one of the headline numbers

    class Options(ganzoo.Options):
        extractor: str = EXTRACTOR
        k: PositiveInt = Field(3, description="neighbourhood size of the manifold estimate")

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _image_only(data, self.options.extractor)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        from torch_fidelity.metric_prc import KEY_METRIC_PRECISION, KEY_METRIC_RECALL, prc_features_to_metric

        name = ctx.resolve_extractor(self.options.extractor)
        out = prc_features_to_metric(
            ctx.features(name, "fake").features,
            ctx.features(name, "real").features,
            prc_neighborhood=self.options.k,
            prc_batch_size=2000,
            save_cpu_ram=True,
            verbose=False,
        )
        return {f"precision/{name}": out[KEY_METRIC_PRECISION], f"recall/{name}": out[KEY_METRIC_RECALL]}


class ClassCoverage(ganzoo.Metric):
    """Which classes the generator produces, by the dataset classifier: the covered fraction, and KL(generated || data) of the class histograms."""

    name = "class_coverage"

    class Options(ganzoo.Options):
        min_share: float = Field(
            0.1,
            gt=0,
            le=1,
            description="a class is covered when its share of the samples is at least this fraction of its share of the data",
        )

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _image_only(data, "classifier")

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        logits, labels, k = ctx.features("classifier", "fake").logits, ctx.data.data.labels, ctx.data.data.num_classes
        assert logits is not None and labels is not None and k is not None, (
            "a classifier; unsupported() checked the labels"
        )
        generated = torch.bincount(logits.argmax(1), minlength=k).double() / len(logits)
        data = torch.bincount(labels.to(torch.int64), minlength=k).double()
        data /= data.sum()
        covered = int((generated >= self.options.min_share * data).logical_and(data > 0).sum())
        present = generated > 0  # 0 log 0 = 0; data > 0 for every class the data holds
        kl = float((generated[present] * (generated[present] / data[present]).log()).sum())
        return {"class_coverage": covered / int((data > 0).sum()), "class_kl": kl}


class ModeCoverage(ganzoo.Metric):
    """For 2-D mixtures of Gaussians: modes covered and the share of high-quality samples (VEEGAN, PacGAN)."""

    name = "modes"

    class Options(ganzoo.Options):
        sigmas: PositiveFloat = Field(
            3.0, description="a sample is high quality within this many standard deviations of its nearest mode"
        )
        min_share: float = Field(
            0.2,
            gt=0,
            le=1,
            description="a mode is covered when it holds at least this fraction of a fair share (n / modes) of high-quality samples",
        )

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        if data.modes is None or data.mode_std is None:
            return "needs a mixture of Gaussians that gives its modes (the ring and grid datasets)"
        return None

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        modes, std = ctx.data.data.modes, ctx.data.data.mode_std
        assert modes is not None and std is not None, "unsupported() checked both"
        counts, high_quality = mode_counts(ctx.fake, modes, std, self.options.sigmas)
        needed = self.options.min_share * len(ctx.fake) / len(counts)
        return {"modes_covered": float((counts >= needed).sum()), "high_quality": high_quality}


def mode_counts(points: torch.Tensor, modes: torch.Tensor, std: float, sigmas: float) -> tuple[torch.Tensor, float]:
    """High-quality samples per mode, and their share of all samples."""
    distances = torch.cdist(points.double(), modes.double())
    nearest, index = distances.min(dim=1)
    good = nearest <= sigmas * std
    counts = torch.bincount(index[good], minlength=len(modes))
    return counts, float(good.double().mean())
