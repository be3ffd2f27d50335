"""Datasets: the ``Dataset`` base class, the ``Data`` it loads, and what models know of it.

A dataset is loaded into memory once, as a :class:`Data`: uint8 images or float points, with
optional labels and conditions. Models size themselves from a :class:`DataInfo`, which is
saved with the weights. A dataset may declare what it provides (:class:`DataSpec`) so that
``ganzoo check`` can compare it with the architecture and the loss before anything loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import torch

from ganzoo.api.component import Component

ConditionKind = Literal["labels", "images"]
"""The two cases of a per-sample condition: class labels, or images (paired data)."""

DataKind = Literal["images", "points"]
"""What one sample is: an image ``(C, H, W)`` or a point ``(D,)``."""


def to_model_range(samples: torch.Tensor) -> torch.Tensor:
    """uint8 images to float in [-1, 1], with the same arithmetic as torchvision's
    ``ToTensor()`` followed by ``Normalize(0.5, 0.5)``; float points pass unchanged."""
    if samples.dtype == torch.uint8:
        return samples.to(torch.float32).div(255).sub(0.5).div(0.5)
    return samples


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Model-range images in [-1, 1] back to uint8 pixels."""
    return images.detach().add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)


@dataclass(frozen=True)
class DataSpec:
    """What a dataset provides, known from its options without loading it (``Dataset.provides``)."""

    kind: DataKind
    shape: Optional[tuple[int, ...]] = None
    """One sample's shape, ``(C, H, W)`` or ``(D,)``; None when only the files tell."""
    labels: Optional[bool] = False
    """Whether the samples have class labels; None when only the files tell (image folders)."""
    condition: Optional[ConditionKind] = None
    """``"images"`` for paired data (an image condition per sample); labels are the default
    condition of labelled data and need not be named here."""


@dataclass(frozen=True)
class DataInfo:
    """What a model needs to know about the data to size itself."""

    shape: tuple[int, ...]
    """Shape of one sample: ``(C, H, W)`` for images, ``(D,)`` for points."""
    num_classes: Optional[int] = None
    """Number of label classes, or None for unlabelled data."""
    condition_shape: Optional[tuple[int, ...]] = None
    """Shape of one image condition, ``(C, H, W)``, for paired data; None otherwise (the
    label case is described by ``num_classes``)."""

    @property
    def condition_kind(self) -> Optional[ConditionKind]:
        """``"images"``, ``"labels"`` or None: what the networks' second argument carries."""
        if self.condition_shape is not None:
            return "images"
        return "labels" if self.num_classes else None

    def as_dict(self) -> dict:
        """Plain values, saved with the weights so that sampling can rebuild the models
        without loading the dataset."""
        return {
            "shape": list(self.shape),
            "num_classes": self.num_classes,
            "condition_shape": list(self.condition_shape) if self.condition_shape is not None else None,
        }

    @classmethod
    def from_dict(cls, saved: dict) -> "DataInfo":
        """The inverse of :meth:`as_dict`; a file whose data had no image condition may
        lack ``condition_shape``."""
        condition_shape = saved.get("condition_shape")
        return cls(
            shape=tuple(saved["shape"]),
            num_classes=saved.get("num_classes"),
            condition_shape=tuple(condition_shape) if condition_shape is not None else None,
        )


@dataclass(init=False)
class Data:
    """A whole dataset held in memory.

    ``samples`` is either ``uint8`` images of shape ``(N, C, H, W)`` in [0, 255], which the
    trainer scales to [-1, 1] on the device batch by batch, or ``float32`` points of shape
    ``(N, D)`` used as they are. Keeping images as uint8 costs a quarter of the memory and
    avoids any per-sample Python work in the training loop.

    ``labels`` are the samples' classes (an integer tensor ``(N,)`` with ``num_classes``),
    which metrics read. ``condition`` is what G and D are conditioned on, one entry per
    sample, in one of two cases: class labels (by default the ``labels`` themselves: a
    CGAN), or images ``(N, C, H, W)`` stored like the samples (``uint8``, scaled to the
    model range batch by batch; or ``float32``, used as they are), the inputs of paired
    image-to-image data. The batch stream slices the condition with the samples and the
    networks receive it as their second argument.
    """

    samples: torch.Tensor
    labels: Optional[torch.Tensor]
    num_classes: Optional[int]
    class_names: list[str]
    modes: Optional[torch.Tensor]
    """For a mixture of Gaussians: the ``(K, D)`` centres, which the ``modes`` metric counts."""
    mode_std: Optional[float]
    """For a mixture of Gaussians: the standard deviation of each component."""
    condition: Optional[torch.Tensor]
    indices: Optional[torch.Tensor]
    """For a subset of a dataset (``data.limit``, :meth:`subset`): the indices of its samples
    in the dataset as loaded; None for a whole dataset."""

    def __init__(
        self,
        samples: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        num_classes: Optional[int] = None,
        class_names: Optional[list[str]] = None,
        modes: Optional[torch.Tensor] = None,
        mode_std: Optional[float] = None,
        *,
        condition: Optional[torch.Tensor] = None,
    ) -> None:
        if labels is None and condition is not None and condition.dim() == 1:
            labels = condition  # a label condition is the samples' labels
        self.samples = samples
        self.labels = labels
        self.num_classes = num_classes
        self.class_names = list(class_names or [])
        self.modes = modes
        self.mode_std = mode_std
        self.condition = condition if condition is not None else labels
        self.indices = None
        self._check()

    def _check(self) -> None:
        if self.samples.dtype not in (torch.uint8, torch.float32):
            raise TypeError(f"samples must be uint8 images or float32 points, got {self.samples.dtype}")
        if self.labels is not None and len(self.labels) != len(self.samples):
            raise ValueError(f"{len(self.labels)} labels for {len(self.samples)} samples")
        if self.condition is None:
            return
        if self.condition.dim() not in (1, 4):
            raise ValueError(
                f"a condition must be class labels (N,) or images (N, C, H, W), got shape {tuple(self.condition.shape)}"
            )
        if self.condition.dim() == 4 and self.condition.dtype not in (torch.uint8, torch.float32):
            raise TypeError(f"image conditions must be uint8 or float32, got {self.condition.dtype}")
        if len(self.condition) != len(self.samples):
            raise ValueError(f"{len(self.condition)} conditions for {len(self.samples)} samples")

    def __len__(self) -> int:
        return len(self.samples)

    def subset(self, indices: torch.Tensor) -> "Data":
        """The samples at ``indices``, with their labels and conditions (the mixture's modes
        and class names as they are); the result remembers ``indices``."""
        part = Data(
            self.samples[indices],
            self.labels[indices] if self.labels is not None else None,
            self.num_classes,
            self.class_names,
            self.modes,
            self.mode_std,
            condition=self.condition[indices] if self.condition is not None else None,
        )
        part.indices = indices
        return part

    @property
    def condition_kind(self) -> Optional[ConditionKind]:
        """``"labels"``, ``"images"``, or None for unconditioned data."""
        if self.condition is None:
            return None
        return "labels" if self.condition.dim() == 1 else "images"

    @property
    def is_image(self) -> bool:
        return self.samples.dtype == torch.uint8

    @property
    def info(self) -> DataInfo:
        condition_shape = (
            tuple(self.condition.shape[1:]) if self.condition is not None and self.condition_kind == "images" else None
        )
        return DataInfo(
            shape=tuple(self.samples.shape[1:]), num_classes=self.num_classes, condition_shape=condition_shape
        )


class Dataset(Component):
    """Loads a dataset into memory once, as a :class:`Data`.

    ``provides`` is an optional declaration (``ganzoo check`` compares it with the
    architecture's ``accepts`` and the loss's ``needs``); a dataset that declares nothing is
    not checked."""

    def load(self) -> Data:
        raise NotImplementedError

    def provides(self) -> Optional[DataSpec]:
        """What this dataset provides, from its options alone; None (the default) declares
        nothing and skips the checks that need it."""
        return None
