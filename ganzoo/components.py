"""Base classes for everything a plugin can provide.

A component is a class with a ``name``, a nested pydantic ``Options`` model and a docstring.
It is usable directly from Python with explicit options (``MLP(latent_dim=64)``); a recipe
is only one way of supplying those options. Options models forbid unknown keys, so a typo
fails with the key and the reason instead of being silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Optional

import torch
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from ganzoo.training_run import TrainingRun


class Options(BaseModel):
    """Base for every component's options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Component:
    """A named, documented, option-validated building block."""

    name: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = Options

    def __init__(self, **options: Any) -> None:
        self.options = type(self).Options(**options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


# --------------------------------------------------------------------------- data


ConditionKind = Literal["labels", "images"]
"""The two cases of a per-sample condition: class labels, or images (paired data)."""


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
        return {"shape": list(self.shape), "num_classes": self.num_classes,
                "condition_shape": list(self.condition_shape) if self.condition_shape is not None else None}

    @classmethod
    def from_dict(cls, saved: dict) -> "DataInfo":
        """The inverse of :meth:`as_dict`; files written before conditions could be images
        have no ``condition_shape``."""
        condition_shape = saved.get("condition_shape")
        return cls(shape=tuple(saved["shape"]), num_classes=saved.get("num_classes"),
                   condition_shape=tuple(condition_shape) if condition_shape is not None else None)


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

    def __init__(self, samples: torch.Tensor, labels: Optional[torch.Tensor] = None, num_classes: Optional[int] = None,
                 class_names: Optional[list[str]] = None, modes: Optional[torch.Tensor] = None,
                 mode_std: Optional[float] = None, *, condition: Optional[torch.Tensor] = None) -> None:
        if labels is None and condition is not None and condition.dim() == 1:
            labels = condition  # a label condition is the samples' labels
        self.samples = samples
        self.labels = labels
        self.num_classes = num_classes
        self.class_names = list(class_names or [])
        self.modes = modes
        self.mode_std = mode_std
        self.condition = condition if condition is not None else labels
        if self.samples.dtype not in (torch.uint8, torch.float32):
            raise TypeError(f"samples must be uint8 images or float32 points, got {self.samples.dtype}")
        if self.labels is not None and len(self.labels) != len(self.samples):
            raise ValueError(f"{len(self.labels)} labels for {len(self.samples)} samples")
        if self.condition is None:
            return
        if self.condition.dim() not in (1, 4):
            raise ValueError(f"a condition must be class labels (N,) or images (N, C, H, W), got shape "
                             f"{tuple(self.condition.shape)}")
        if self.condition.dim() == 4 and self.condition.dtype not in (torch.uint8, torch.float32):
            raise TypeError(f"image conditions must be uint8 or float32, got {self.condition.dtype}")
        if len(self.condition) != len(self.samples):
            raise ValueError(f"{len(self.condition)} conditions for {len(self.samples)} samples")

    def __len__(self) -> int:
        return len(self.samples)

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
        condition_shape = tuple(self.condition.shape[1:]) if self.condition_kind == "images" else None
        return DataInfo(shape=tuple(self.samples.shape[1:]), num_classes=self.num_classes,
                        condition_shape=condition_shape)


class Dataset(Component):
    """Loads a dataset into memory once, as a :class:`Data`."""

    def load(self) -> Data:
        raise NotImplementedError


# --------------------------------------------------------------------------- models


class Architecture(Component):
    """A generator, a discriminator and the latent distribution that feeds the generator.

    Contract for the networks: ``generator(z, labels=None)`` returns samples shaped like the
    data (in the model range, [-1, 1] for images); ``discriminator(x, labels=None)`` returns
    whatever the paired loss expects (a score per sample, or a tuple with auxiliary heads).
    The second argument carries the data's condition (``Data.condition``): class labels, or
    condition images for paired data; its name ``labels`` stays from the label case.
    Unconditional models simply ignore it.
    """

    conditional: ClassVar[bool] = False
    """True when the generator honours ``labels``: ``ganzoo sample --class`` needs it, and
    evaluation then draws labels with the data's class frequencies."""

    def build_generator(self, data: DataInfo) -> torch.nn.Module:
        raise NotImplementedError

    def build_discriminator(self, data: DataInfo) -> torch.nn.Module:
        raise NotImplementedError

    def sample_latent(
        self, n: int, *, device: torch.device, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """Draw ``n`` latent vectors. ``generator`` is given for fixed-noise sample grids,
        which must not disturb the training random stream."""
        raise NotImplementedError

    def latent_codes(self) -> dict[str, str]:
        """Named parts of the latent that control one factor each (infoGAN's codes), as
        ``{name: description}``; ``ganzoo sample --vary NAME`` walks along one of them."""
        return {}

    def vary_code(self, latents: torch.Tensor, code: str, steps: int) -> torch.Tensor:
        """For each of ``latents``, copies with code ``code`` set to successive values, in
        order: ``(len(latents) * K, ...)``. A categorical code takes each of its K values
        (``steps`` is ignored); a continuous one takes K = ``steps`` values over its range."""
        raise NotImplementedError


# --------------------------------------------------------------------------- losses


@dataclass
class StepContext:
    """Everything a loss may use for one update.

    ``real`` and ``condition`` are the current batch, already on the device and scaled to
    the model range. The generator step sees the batch of the last discriminator step.
    """

    real: torch.Tensor
    condition: Optional[torch.Tensor]
    """The batch's condition: class labels ``(B,)``, images ``(B, C, H, W)`` in the model
    range (paired data), or None. Hand it to the networks as their second argument."""
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    architecture: Architecture
    step: int
    shard: tuple[int, int] = (0, 1)
    """``(rank, world size)``: in a data-parallel run, ``real`` is this rank's share of the
    global batch, and ``latent`` returns the matching share of the global latents."""

    @property
    def labels(self) -> Optional[torch.Tensor]:
        """The condition, under the name it had when conditions were only class labels:
        losses that pass ``ctx.labels`` to G and D pass an image condition just the same."""
        return self.condition

    @property
    def batch_size(self) -> int:
        return self.real.shape[0]

    def latent(self, n: Optional[int] = None) -> torch.Tensor:
        """Fresh latent vectors from the training random stream (one batch by default).

        In a data-parallel run every rank draws the latents of the whole global batch (the
        random streams are the same on every rank) and keeps its own share, so that the
        ranks together compute exactly what one process computes."""
        n = n or self.batch_size
        rank, size = self.shard
        if size == 1:
            return self.architecture.sample_latent(n, device=self.real.device)
        return self.architecture.sample_latent(n * size, device=self.real.device)[rank * n:(rank + 1) * n]


@dataclass
class LossOutput:
    """A scalar to minimise plus detached scalars to log (e.g. ``d_real``, ``d_fake``).

    Log values stay tensors: the trainer averages them on the device and reads them only
    every ``log_every`` steps, so a loss never forces a host synchronisation.
    """

    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)


class Loss(Component, torch.nn.Module):
    """The two objectives of a GAN.

    A loss is an ``nn.Module`` so that state of its own (BEGAN's ``k``, running statistics)
    lives in buffers: it moves to the device with the models and is saved with them.
    """

    def __init__(self, **options: Any) -> None:
        torch.nn.Module.__init__(self)
        Component.__init__(self, **options)

    def discriminator_loss(self, ctx: StepContext) -> LossOutput:
        raise NotImplementedError

    def generator_loss(self, ctx: StepContext) -> LossOutput:
        raise NotImplementedError

    def after_discriminator_step(self, ctx: StepContext) -> None:
        """Called after each discriminator update (weight clipping, state updates)."""

    def after_generator_step(self, ctx: StepContext) -> None:
        """Called after each generator update."""


# --------------------------------------------------------------------------- callbacks


class Callback(Component):
    """Observes training. Every method is optional.

    ``on_step_end`` runs every step and must not read tensor values (that would synchronise
    the device); ``on_log`` receives the averaged scalars every ``log_every`` steps.

    A callback with state that training depends on (an average of G's weights, a schedule)
    returns it from ``state_dict``: it is saved in every checkpoint under the callback's
    name and handed back to ``load_state_dict`` on resume, before ``on_train_start``. A
    callback that keeps better weights to sample from (an EMA of G) returns them from
    ``sampling_generator``: sample grids, evaluations during training, ``weights.pt`` and
    ``ganzoo sample``/``ganzoo eval`` then use them.
    """

    def state_dict(self) -> dict:
        """Tensors and plain values to save in checkpoints; empty when there is nothing."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned (called on resume, before training starts)."""

    def sampling_generator(self, trainer: "TrainingRun") -> Optional[torch.nn.Module]:
        """A generator to draw samples from instead of the trained one, or None."""
        return None

    def on_train_start(self, trainer: "TrainingRun") -> None: ...

    def on_step_end(self, trainer: "TrainingRun") -> None: ...

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None: ...

    def on_epoch_end(self, trainer: "TrainingRun") -> None: ...

    def on_train_end(self, trainer: "TrainingRun") -> None: ...


# --------------------------------------------------------------------------- CUDA graph capture (issue 13)

CAPTURE_UNDECLARED = "it does not declare that it can be captured (capturable = True)"


def capture_refusal(component: object) -> Optional[str]:
    """Why an architecture, loss or callback (a class or an instance) cannot be part of a
    training step captured as one CUDA graph (``train.cuda_graph``), or None when it can.

    A component declares it with a class attribute: ``capturable = True`` when everything it
    does during a step is device work that reads no tensor value on the host, keeps the
    tensors it updates (in place: ``copy_``, ``clamp_``, ``fill_``) and takes its random
    numbers from the CUDA generator; ``capturable = "the reason"`` when it cannot. A
    component that declares nothing, as any third-party one written before the contract,
    is not captured. A loss of a captured step sees ``ctx.step`` of the captured step only.
    Callbacks run between steps, outside the graph: one can be captured when it never
    replaces a tensor the step holds (parameters, optimiser state, a loss's buffers)."""
    declared = getattr(component, "capturable", None)
    if declared is True:
        return None
    if isinstance(declared, str) and declared:
        return declared
    return CAPTURE_UNDECLARED
