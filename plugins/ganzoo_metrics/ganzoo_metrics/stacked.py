"""Mode counting on Stacked-MNIST (VEEGAN, PacGAN): every channel is one MNIST digit.

The extractor ``mnist_channels`` classifies each channel of an image with the MNIST dataset
classifier, the very network (and cache entry) the ``classifier`` extractor trains for an
MNIST run, and combines the channels into one class per digit combination: 1000 for three
channels. The metric ``stacked_modes`` counts the combinations the generator produces and
the KL divergence of their histogram from the uniform one, as PacGAN's reference code does.

An argmax over garbled strokes names some digit too, and random strokes cover many modes
by chance; so the metric also says which share of the samples has every channel read with
confidence (the classifier's probability of its digit at least ``confidence``), and counts
the modes and the KL over those samples alone.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field

import ganzoo
from ganzoo_metrics.classifier import FEATURES, ClassifierOptions, load_or_train, to_input

DIGITS = 10
SIDE = 28


def joint_logits(channel_logits: list[torch.Tensor]) -> torch.Tensor:
    """Per-channel digit logits ``(N, 10)`` each, to log-probabilities of every digit
    combination ``(N, 10**C)``, the first channel the most significant digit. Channels are
    classified independently, so the joint log-probability is the sum of theirs, and its
    argmax is the combination of each channel's argmax."""
    joint = torch.zeros(len(channel_logits[0]), 1, device=channel_logits[0].device)
    for logits in channel_logits:
        joint = (joint.unsqueeze(2) + logits.log_softmax(1).unsqueeze(1)).flatten(1)
    return joint


def channel_confidence(joint: torch.Tensor) -> torch.Tensor:
    """``(N, C)``: each channel's probability of its most likely digit, from the joint
    log-probabilities :func:`joint_logits` made (the channels are independent, so each
    channel's marginal sums the joint over the other channels)."""
    channels = round(math.log(joint.shape[1], DIGITS))
    grid = joint.view(len(joint), *[DIGITS] * channels)
    marginals = [grid.logsumexp(dim=[d + 1 for d in range(channels) if d != c]) for c in range(channels)]
    return torch.stack([m.max(1).values.exp() for m in marginals], dim=1)


def mode_histogram(modes: torch.Tensor, count: int) -> tuple[int, float]:
    """``(modes covered, KL(generated || uniform))`` of a tensor of mode indices: a mode is
    covered when at least one sample falls in it (PacGAN's count); 0 log 0 = 0. No samples
    at all cover nothing, and their KL is NaN."""
    if len(modes) == 0:
        return 0, float("nan")
    histogram = torch.bincount(modes.to(torch.int64), minlength=count).double() / len(modes)
    present = histogram > 0
    kl = float((histogram[present] * (histogram[present] * count).log()).sum())
    return int(present.sum()), kl


class MnistChannels(ganzoo.FeatureExtractor):
    """Each channel of 28x28 images classified by the MNIST dataset classifier (the `classifier` extractor's network, trained on MNIST and shared with it through the cache): Stacked-MNIST's modes.

    Features are the channels' 128-d features side by side; logits are the log-probabilities
    of every digit combination (1000 for three channels). MNIST is read from the run's
    ``data.root`` unless ``root`` says otherwise."""

    name = "mnist_channels"

    class Options(ClassifierOptions):
        root: str | None = Field(None, description="folder holding MNIST/raw/ (default: the run's data.root)")

    options: Options

    def prepare(self, data: ganzoo.EvalData) -> None:
        shape = tuple(data.data.samples.shape[2:])
        if not data.data.is_image or shape != (SIDE, SIDE):
            raise ganzoo.EvaluationError(
                f"mnist_channels classifies {SIDE}x{SIDE} digit images, got samples of shape "
                f"{tuple(data.data.samples.shape[1:])}"
            )
        try:
            from ganzoo_datasets import MNIST
        except ImportError:
            raise ganzoo.EvaluationError(
                "mnist_channels needs MNIST from the datasets plugin: pip install -e plugins/ganzoo_datasets"
            ) from None
        root = self.options.root or data.options.get("root", "data")
        download = bool(data.options.get("download", True))
        train, test = (MNIST(root=root, download=download, split=split).load() for split in ("train", "test"))
        self.trained = load_or_train(train, test, self.options, data)

    def describe(self) -> str:
        t = self.trained
        return (
            f"mnist_channels: each channel by ganzoo SmallConvNet ({FEATURES}-d features) trained on mnist, "
            f"{t.accuracy:.2%} accuracy on {t.held_out}; {t.path.name}"
        )

    def extract(self, samples: torch.Tensor) -> ganzoo.Features:
        outputs = [self.trained.network(to_input(samples[:, c : c + 1])) for c in range(samples.shape[1])]
        return ganzoo.Features(
            torch.cat([features for features, _ in outputs], 1), joint_logits([logits for _, logits in outputs])
        )


class StackedModes(ganzoo.Metric):
    """Stacked-MNIST's mode collapse (VEEGAN, PacGAN): digit combinations covered out of 1000, and KL(generated || uniform), each channel classified by the MNIST classifier.

    The papers count on 26,000 samples: set ``eval.n: 26000`` (the stacked recipes do).
    ``stacked_confident`` is the share of samples whose every channel is read with at least
    ``confidence``; ``stacked_confident_modes`` and ``stacked_confident_kl`` count over them alone."""

    name = "stacked_modes"

    class Options(ganzoo.Options):
        confidence: float = Field(
            0.9,
            gt=0,
            lt=1,
            description="a channel is read with confidence when its digit's probability is at least this",
        )

    options: Options

    def unsupported(self, data: ganzoo.Data) -> str | None:
        if not data.is_image or tuple(data.samples.shape[1:]) != (3, SIDE, SIDE):
            return f"needs 3x{SIDE}x{SIDE} images whose channels are MNIST digits (stacked_mnist)"
        return None

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        logits = ctx.features(MnistChannels.name, "fake").logits
        if logits is None:
            raise ganzoo.EvaluationError(f"stacked_modes needs the digit logits of extractor {MnistChannels.name!r}")
        modes = logits.argmax(1)
        covered, kl = mode_histogram(modes, logits.shape[1])
        confident = (channel_confidence(logits) >= self.options.confidence).all(1)
        sure, sure_kl = mode_histogram(modes[confident], logits.shape[1])
        return {
            "stacked_modes": float(covered),
            "stacked_kl": kl,
            "stacked_confident": float(confident.double().mean()),
            "stacked_confident_modes": float(sure),
            "stacked_confident_kl": sure_kl,
        }
