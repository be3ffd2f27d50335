"""A small convolutional classifier that ganzoo trains on a labelled dataset, and caches.

Its 128 penultimate activations are the feature space of the offline FID and KID; its
class probabilities give the classifier Inception Score and the class coverage. Trained
once per dataset (about a minute on a 2-core CPU for MNIST), it is cached under a name
derived from the data itself, so a changed dataset never reuses a stale classifier.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from pydantic import Field, PositiveFloat, PositiveInt
from torch import nn
from tqdm import tqdm

import ganzoo

VERSION = 1  # bump when the network or its training changes: old cache entries are then unused
FEATURES = 128


class ClassifierOptions(ganzoo.Options):
    """How the dataset classifier is trained and where it is cached: the options of every
    extractor that uses it (a changed setting trains, and caches, another classifier)."""

    epochs: PositiveInt = Field(3, description="training epochs over the dataset")
    batch_size: PositiveInt = Field(128, description="training batch size")
    lr: PositiveFloat = Field(1e-3, description="Adam learning rate")
    seed: int = Field(0, description="seed of the classifier's initialisation and shuffling")
    cache_dir: Optional[str] = Field(None, description="cache folder (default: $GANZOO_CACHE or ~/.cache/ganzoo)")


class SmallConvNet(nn.Module):
    """conv5(32), pool, conv5(64), pool, pooled to 4x4, Linear(1024, 128), ReLU | Linear(128, K).

    Inputs are images in [-1, 1]; any size from 16x16 up works, any channel count."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(64 * 16, FEATURES),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features, logits)``."""
        features = self.body(x)
        return features, self.head(self.dropout(features))


@dataclass
class TrainedClassifier:
    network: SmallConvNet
    accuracy: float
    """Accuracy on held-out samples: the dataset's test split, or a tenth kept aside."""
    held_out: str
    """What ``accuracy`` was measured on."""
    path: Path


def cache_folder(option: Optional[str]) -> Path:
    """The extractor's ``cache_dir`` option, else ``$GANZOO_CACHE``, else ``~/.cache/ganzoo``."""
    folder = option or os.environ.get("GANZOO_CACHE") or Path.home() / ".cache" / "ganzoo"
    return Path(folder).expanduser() / "classifiers"


def data_digest(data: ganzoo.Data, settings: dict) -> str:
    """A name for the classifier of this exact data, trained with these settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": VERSION, **settings}, sort_keys=True).encode())
    digest.update(str(tuple(data.samples.shape)).encode())
    digest.update(data.samples.contiguous().numpy().tobytes())
    assert data.labels is not None, "the classifier is trained on labelled data only"
    digest.update(data.labels.to(torch.int64).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to the network's input range, [-1, 1]."""
    return images.float().div(127.5).sub(1)


def accuracy(
    network: SmallConvNet, images: torch.Tensor, labels: torch.Tensor, device: torch.device, batch_size: int = 1000
) -> float:
    network.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            _, logits = network(to_input(images[start : start + batch_size].to(device)))
            correct += int((logits.argmax(1).cpu() == labels[start : start + batch_size]).sum())
    return correct / len(images)


def train_classifier(
    data: ganzoo.Data,
    test: Optional[ganzoo.Data],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: torch.device,
    progress: bool,
) -> tuple[SmallConvNet, float, str]:
    """Train on ``data`` (all of it when a ``test`` split is given, else nine tenths) and
    return the network with its held-out accuracy. Uses only its own random streams."""
    assert data.labels is not None and data.num_classes is not None, "the classifier is trained on labelled data only"
    generator = torch.Generator().manual_seed(seed)
    images, labels = data.samples, data.labels.to(torch.int64)
    if test is not None and test.labels is not None:
        held_images, held_labels, held_out = (
            test.samples,
            test.labels.to(torch.int64),
            f"the test split ({len(test)} samples)",
        )
    else:
        order = torch.randperm(len(images), generator=generator)
        cut = len(images) // 10
        held_images, held_labels = images[order[:cut]], labels[order[:cut]]
        images, labels = images[order[cut:]], labels[order[cut:]]
        held_out = f"a tenth of the training data kept aside ({cut} samples)"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # weight initialisation and dropout
        network = SmallConvNet(images.shape[1], data.num_classes).to(device)
        optimizer = torch.optim.Adam(network.parameters(), lr=lr)
        steps = epochs * -(-len(images) // batch_size)
        bar = tqdm(total=steps, desc="training the dataset classifier", unit="step", disable=not progress, leave=False)
        for _ in range(epochs):
            network.train()
            order = torch.randperm(len(images), generator=generator)
            for start in range(0, len(images), batch_size):
                index = order[start : start + batch_size]
                _, logits = network(to_input(images[index].to(device)))
                loss = nn.functional.cross_entropy(logits, labels[index].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                bar.update(1)
        bar.close()
    network.eval()
    return network, accuracy(network, held_images, held_labels, device), held_out


def load_or_train(
    data: ganzoo.Data, test: Optional[ganzoo.Data], options: ClassifierOptions, evaluation: ganzoo.EvalData
) -> TrainedClassifier:
    """The cached classifier for ``data`` (its accuracy measured on ``test`` when there is
    one), training and caching it first when missing, on ``evaluation``'s device."""
    epochs, batch_size, lr, seed = options.epochs, options.batch_size, options.lr, options.seed
    device, progress = evaluation.device, evaluation.progress
    if data.labels is None or not data.num_classes:
        raise ganzoo.EvaluationError(
            "the dataset classifier needs labelled data (a dataset that gives labels and "
            "num_classes); use the inception extractor for unlabelled images"
        )
    if data.samples.dim() != 4 or min(data.samples.shape[2:]) < 16:
        raise ganzoo.EvaluationError(
            f"the dataset classifier needs images of at least 16x16 pixels, got samples of "
            f"shape {tuple(data.samples.shape[1:])}"
        )
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "test": None if test is None else len(test),
    }
    path = cache_folder(options.cache_dir) / f"classifier-{data_digest(data, settings)}.pt"
    network = SmallConvNet(data.samples.shape[1], data.num_classes)
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            network.load_state_dict(saved["network"])
            return TrainedClassifier(network.to(device).eval(), saved["accuracy"], saved["held_out"], path)
        except Exception as error:  # a damaged cache entry is retrained, not trusted
            tqdm.write(f"ganzoo: warning: retraining the dataset classifier; {path} cannot be loaded ({error})")
    network, held_accuracy, held_out = train_classifier(
        data, test, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device, progress=progress
    )
    state = {
        "network": {k: v.cpu() for k, v in network.state_dict().items()},
        "accuracy": held_accuracy,
        "held_out": held_out,
        "version": VERSION,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(state, temporary)
        os.replace(temporary, path)
    except OSError as error:  # a read-only cache costs a retraining next time, not this evaluation
        tqdm.write(f"ganzoo: warning: the dataset classifier could not be cached in {path.parent}: {error}")
    return TrainedClassifier(network, held_accuracy, held_out, path)
