"""Base classes for everything a plugin can provide.

A component is a class with a ``name``, a nested pydantic ``Options`` model and a docstring.
It is usable directly from Python with explicit options (``MLP(latent_dim=64)``); a recipe
is only one way of supplying those options. Options models forbid unknown keys, so a typo
fails with the key and the reason instead of being silently ignored.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Literal, Optional

import torch
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Options(BaseModel):
    """Base for every component's options: unknown keys are errors, and so is ``true`` or
    ``false`` given for a number, or a float for a whole number (pydantic would read
    ``epochs: true`` as 1 and ``batch_size: 1.0e8`` as 100000000)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, (bool, float)) and info.field_name:
            takes = _numbers_taken(cls.model_fields[info.field_name].annotation)
            if isinstance(value, bool) and takes:
                raise ValueError("expected a number, not true or false")
            if isinstance(value, float) and takes == {int}:
                raise ValueError("expected a whole number written without a decimal point or exponent")
        return value


def _numbers_taken(annotation: Any) -> set[type]:
    """Which of int and float a field of this type takes, when it takes no bool: ``{int}``
    for ``Optional[PositiveInt]``; empty for ``bool``, ``Literal[False, "x"]`` or ``Any``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _numbers_taken(args[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        if any(a is bool for a in args):
            return set()
        return set().union(*(_numbers_taken(a) for a in args))
    return {annotation} if annotation in (int, float) else set()


class Component:
    """A named, documented, option-validated building block."""

    name: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = Options

    def __init__(self, **options: Any) -> None:
        self.options = type(self).Options(**options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


ConditionKind = Literal["labels", "images"]
"""The two cases of a per-sample condition: class labels, or images (paired data)."""


# --------------------------------------------------------------------------- compatibility declarations
#
# What a component says about the others, so that a mismatch is reported by ``ganzoo check``
# (and ``ganzoo run``, before training) instead of failing at the first step. Every
# declaration is optional: a component that declares nothing is not checked. The checks
# themselves live in ``ganzoo.compatibility``.

DataKind = Literal["images", "points"]
"""What one sample is: an image ``(C, H, W)`` or a point ``(D,)``."""

DOutput = str
"""What D returns, in the loss's terms: ``"probability"`` (a sigmoid output), ``"logit"`` (a
raw score), ``"reconstruction"`` (an autoencoder D: D(x) reconstructs x), ``"logit+classes"``
(a score and class logits, ACGAN) or ``"logit+codes"`` (a score and a Q head that predicts
the latent codes, infoGAN). Other values are allowed: they are compared as plain strings."""


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
class Accepts:
    """What data an architecture's networks accept (``Architecture.accepts``)."""

    kinds: tuple[DataKind, ...] = ("images", "points")
    square: bool = False
    """Images must be square."""
    min_side: int = 1
    """Images must be at least this many pixels on a side."""
    side_multiple: int = 1
    """An image's side must divide by this."""
    point_dims: Optional[tuple[int, ...]] = None
    """The point dimensions accepted; None for any."""
    labels: bool = False
    """The networks need class labels (a class-conditional architecture)."""
    conditions: tuple[Optional[ConditionKind], ...] = (None, "labels")
    """The conditions the networks can take as their second argument (None: unconditioned
    data). Image-to-image architectures list ``"images"``."""


@dataclass(frozen=True)
class Needs:
    """What a loss needs from the architecture and the data (``Loss.needs``)."""

    d_output: Optional[tuple[DOutput, ...]] = None
    """The D outputs the loss works with (see :data:`DOutput`); None for any."""
    labels: bool = False
    """The data must have class labels."""
    latent_codes: bool = False
    """The architecture must have latent codes (``Architecture.latent_codes``)."""
    image_condition: bool = False
    """The data must be paired: an image condition per sample."""


class DatasetDeclarations:
    """The compatibility declaration of a dataset (mixed into :class:`Dataset`)."""

    def provides(self) -> Optional[DataSpec]:
        """What this dataset provides, from its options alone; None (the default) declares
        nothing and skips the checks that need it."""
        return None


class ArchitectureDeclarations:
    """The compatibility declarations of an architecture (mixed into :class:`Architecture`)."""

    def accepts(self) -> Optional[Accepts]:
        """What data the networks accept; None (the default) declares nothing."""
        return None

    def discriminator_output(self) -> Optional[DOutput]:
        """What D returns (see :data:`DOutput`), given the options; None (the default) declares nothing."""
        return None


class LossDeclarations:
    """The compatibility declaration of a loss (mixed into :class:`Loss`)."""

    def needs(self) -> Optional[Needs]:
        """What the loss needs; None (the default) declares nothing."""
        return None


# --------------------------------------------------------------------------- data


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
        """The inverse of :meth:`as_dict`; files written before conditions could be images
        have no ``condition_shape``."""
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


class Dataset(DatasetDeclarations, Component):
    """Loads a dataset into memory once, as a :class:`Data`."""

    def load(self) -> Data:
        raise NotImplementedError


# --------------------------------------------------------------------------- models


class Architecture(ArchitectureDeclarations, Component):
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
        return self.architecture.sample_latent(n * size, device=self.real.device)[rank * n : (rank + 1) * n]


@dataclass
class LossOutput:
    """A scalar to minimise plus detached scalars to log (e.g. ``d_real``, ``d_fake``).

    Log values stay tensors: the trainer averages them on the device and reads them only
    every ``log_every`` steps, so a loss never forces a host synchronisation.
    """

    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class ScalarInfo:
    """How the curves, the progress bar and the reports name a logged scalar."""

    label: str
    """Short: a legend entry, a column heading, a progress-bar field (``D(x)``)."""
    description: str = ""
    """One sentence: what the number means for this loss."""
    probability: bool = False
    """A probability: the curves draw it in [0, 1], with the 0.5 of the equilibrium."""


class Loss(LossDeclarations, Component, torch.nn.Module):
    """The two objectives of a GAN.

    A loss is an ``nn.Module`` so that state of its own (BEGAN's ``k``, running statistics)
    lives in buffers: it moves to the device with the models and is saved with them.

    ``scalars`` names what its ``LossOutput.logs`` hold (``d_real`` is D's mean probability
    for one loss and a critic's mean score for another); :mod:`ganzoo.scalars` is where the
    curves, the progress bar and the reports look labels up.
    """

    scalars: ClassVar[dict[str, ScalarInfo]] = {}

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


# --------------------------------------------------------------------------- optimisers and schedules


class Optimizer(Component):
    """An optimiser a recipe names under ``optim.generator`` or ``optim.discriminator``
    (registered through ``register_optimizers``)."""

    def build(self, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        """A torch optimiser over ``params`` with these options."""
        raise NotImplementedError


class Schedule(Component):
    """A learning-rate schedule for one network's optimiser, named under
    ``optim.<network>.schedule`` (registered through ``register_schedules``).

    The trainer calls ``start`` once, before training (and before a resumed run's state is
    loaded), ``step`` after every training step (one generator update and its ``d_steps``
    discriminator updates) and ``on_log`` with every row of logged scalars, so that a
    schedule can follow a measure of training (reduce-on-plateau). Whatever it needs to
    continue exactly on resume, it returns from ``state_dict``: it is saved in checkpoints.
    """

    def start(self, optimizer: torch.optim.Optimizer, total_steps: int) -> None:
        """Attach to ``optimizer``; ``total_steps`` is the run's length in steps."""

    def step(self) -> None:
        """After every training step."""

    def on_log(self, scalars: dict[str, float]) -> None:
        """With every row of logged scalars (means over the last ``log_every`` steps)."""

    def state_dict(self) -> dict:
        """Tensors and plain values to save in checkpoints; empty when there is nothing."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned (on resume, after ``start``)."""


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
