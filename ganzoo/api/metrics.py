"""Base classes for measuring samples: feature extractors and metrics.

A metric compares ``n`` generated samples with real ones. Most metrics compare them in the
feature space of a network, the *feature extractor*. The same metric in two feature spaces,
or on two sample counts, gives numbers that cannot be compared (FID is biased upwards at
small ``n``), so every result keeps the extractor and the counts it was computed with, and
a metric's logged key names its extractor: ``fid/classifier``, ``fid/inception``.

Samples reach extractors and metrics in the data's own format: ``uint8`` images
``(N, C, H, W)`` (generated images are quantised like saved images would be), or
``float32`` points ``(N, D)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar, Literal, Optional

import torch

from ganzoo.api.component import Component
from ganzoo.api.data import Data
from ganzoo.api.errors import GanzooError


class EvaluationError(GanzooError):
    """A metric or an extractor cannot run here; the message says why and what to do."""


@dataclass
class Features:
    """What an extractor computes for a batch: feature vectors and, for a classifier, logits."""

    features: torch.Tensor
    """``(N, D)`` float features."""
    logits: Optional[torch.Tensor] = None
    """``(N, K)`` class logits, for extractors that classify (Inception Score, class coverage)."""


@dataclass
class EvalData:
    """The dataset a run trained on, as extractors see it: the whole of it (a run with
    ``data.limit`` trains on a subset; ``MetricContext.trained_on`` holds that subset)."""

    data: Data
    dataset: str
    """The dataset component's name (``mnist``)."""
    options: dict
    """Its resolved options."""
    device: torch.device
    load_split: Callable[[str], Optional[Data]] = lambda split: None
    """Loads another split of the same dataset (``"test"``), or returns None when the
    dataset has no ``split`` option offering it."""
    progress: bool = True


class FeatureExtractor(Component):
    """Maps samples to feature vectors (and, if it classifies, to class logits)."""

    def prepare(self, data: EvalData) -> None:
        """Get ready for ``data``: load weights, or train on it. Called once per evaluation
        session, before any ``extract``."""

    def describe(self) -> str:
        """One line naming the extractor precisely (weights, training data, accuracy):
        printed and saved with every number computed in its feature space."""
        return self.name

    def extract(self, samples: torch.Tensor) -> Features:
        """Features of one batch of samples (on the evaluation device)."""
        raise NotImplementedError


class Metric(Component):
    """A number (or a few) about generated samples, from a :class:`MetricContext`."""

    default: ClassVar[bool] = True
    """Part of ``ganzoo eval`` without ``--metrics`` when it applies to the data."""

    def unsupported(self, data: Data) -> Optional[str]:
        """Why this metric cannot run on ``data`` (``"needs labelled data"``), or None."""
        return None

    def compute(self, ctx: "MetricContext") -> dict[str, float]:
        """The metric's values by logged key, e.g. ``{"fid/classifier": 12.3}``."""
        raise NotImplementedError


@dataclass
class MetricContext:
    """Everything a metric may use: the samples, their labels, and cached features.

    Features are computed once per extractor and per side, however many metrics ask for
    them (FID, KID and precision/recall share one pass)."""

    real: torch.Tensor
    fake: torch.Tensor
    real_labels: Optional[torch.Tensor]
    fake_labels: Optional[torch.Tensor]
    """The labels the generator was conditioned on (conditional architectures), else None."""
    data: EvalData
    extractor_factory: Callable[[str], FeatureExtractor]
    batch_size: int = 500
    used: dict[str, str] = field(default_factory=dict)
    """Extractor name -> its description, for every extractor a metric asked for."""
    touched: set[str] = field(default_factory=set)
    """Extractors asked for since this was last emptied (to credit each result's extractor)."""
    cache: dict[tuple[str, str], Features] = field(default_factory=dict)
    """Features computed so far, by (extractor, "real" or "fake")."""
    conditions: Optional[torch.Tensor] = None
    """For paired data: the condition images (data format) that ``fake`` was translated
    from; then ``real[i]`` is the target of ``fake[i]``, from the held-out pairs."""
    trained_on: Optional[torch.Tensor] = None
    """The samples the generator was trained on (all of them; a subset of the dataset with
    ``data.limit``), in the data format: what a copying generator reproduces."""
    held_out: Optional[torch.Tensor] = None
    """Real samples the generator was never trained on (the test split, or what
    ``data.limit`` left out), up to ``n`` of them; None when there are none."""

    @property
    def n_real(self) -> int:
        return len(self.real)

    @property
    def n_fake(self) -> int:
        return len(self.fake)

    def resolve_extractor(self, name: str) -> str:
        """``auto``: the dataset classifier for labelled images, InceptionV3 for other images."""
        if name != "auto":
            return name
        data = self.data.data
        if not data.is_image:
            raise EvaluationError(
                "samples that are not images have no feature extractor; use the `modes` metric for 2-D mixtures"
            )
        return "classifier" if data.labels is not None and data.num_classes else "inception"

    def features(self, extractor: str, which: Literal["real", "fake", "trained_on", "held_out"]) -> Features:
        """Features of all real, generated, trained-on or held-out samples in ``extractor``'s
        space (asking for held-out samples where there are none is an ``EvaluationError``)."""
        name = self.resolve_extractor(extractor)
        key = (name, which)
        model = self.extractor_factory(name)  # prepared once per session, so this is cheap
        self.touched.add(name)
        self.used.setdefault(name, model.describe())
        if key not in self.cache:
            samples = {"real": self.real, "fake": self.fake, "trained_on": self.trained_on, "held_out": self.held_out}
            chosen = samples[which]
            if chosen is None:
                raise EvaluationError(f"this evaluation has no {which.replace('_', ' ')} samples")
            self.cache[key] = _extract_all(model, chosen, self.data.device, self.batch_size)
        return self.cache[key]


def _extract_all(extractor: FeatureExtractor, samples: torch.Tensor, device: torch.device, batch_size: int) -> Features:
    parts = []
    with torch.no_grad():
        for start in range(0, len(samples), batch_size):
            out = extractor.extract(samples[start : start + batch_size].to(device))
            parts.append(Features(out.features.float().cpu(), None if out.logits is None else out.logits.float().cpu()))
    logits = None if parts[0].logits is None else torch.cat([p.logits for p in parts if p.logits is not None])
    return Features(torch.cat([p.features for p in parts]), logits)
