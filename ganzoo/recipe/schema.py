"""The recipe schema: every section, key, type and default, as pydantic models.

``RecipeModel`` is a whole recipe after ``extends`` and overrides are applied; ``Recipe`` is
a validated one. docs/recipes.md documents each key (tests/test_docs.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
)

from ganzoo.api import Options
from ganzoo.api.population import MAX_MEMBERS
from ganzoo.plugins.registry import Registry, split_name

MAX_EVAL_SAMPLES = 100_000
"""Most samples an evaluation draws (``eval.n``, ``ganzoo eval --n``): twice the 50,000 of the
papers' FID."""

# Recipe section -> registry kind of the component it names.
COMPONENT_SECTIONS = {"data": "dataset", "model": "architecture", "loss": "loss", "augment": "augmentation"}
COMPONENT_PATHS = (
    {(s,) for s in COMPONENT_SECTIONS}
    | {("optim", "generator"), ("optim", "discriminator")}
    | {("optim", "generator", "schedule"), ("optim", "discriminator", "schedule")}
)
COMPONENT_LISTS = {("callbacks",), ("eval", "metrics")}
"""Lists whose every item names a component (an override can reach one: ``callbacks.0.every=10``)."""


class ComponentSpec(BaseModel):
    """``name`` picks a registered component; every other key is one of its options."""

    model_config = ConfigDict(extra="allow")
    name: str

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class DataSection(ComponentSpec):
    """The dataset (``name`` and its options), and what the core keeps of it: any dataset
    can be cut down to a fixed subset, to train with little data."""

    limit: Optional[PositiveInt] = Field(
        None,
        description="train on a fixed subset of N samples, class-balanced when the data has labels (null: all)",
    )
    subset_seed: int = Field(0, ge=0, lt=2**63, description="seed of the subset that limit keeps")


DATA_KEYS = tuple(key for key in DataSection.model_fields if key != "name")
"""The keys of ``data:`` that the core reads (the rest are the dataset's options). They
appear in a resolved recipe only where the recipe sets them."""


def dataset_options(section: dict[str, Any]) -> dict[str, Any]:
    """A ``data:`` section without the keys the core reads (:data:`DATA_KEYS`): what the
    dataset's options model sees."""
    return {key: value for key, value in section.items() if key not in DATA_KEYS}


class OptimSection(Options):
    """One optimiser per network (bundled: adam, adamw, rmsprop, sgd), each with an optional
    learning-rate ``schedule`` (bundled: constant, linear, cosine, step, plateau)."""

    generator: ComponentSpec = ComponentSpec(name="adam")
    discriminator: ComponentSpec = ComponentSpec(name="adam")


class TrainSection(Options):
    """How long and how the alternating updates run."""

    epochs: PositiveInt = Field(300, description="passes over the dataset")
    max_steps: Optional[PositiveInt] = Field(
        None, description="stop after this many steps (overrides epochs when reached first)"
    )
    batch_size: PositiveInt = Field(32, description="samples per discriminator step")
    d_steps: PositiveInt = Field(1, description="discriminator updates per generator update (k of Algorithm 1)")
    drop_last: bool = Field(False, description="drop the last incomplete batch of each epoch")
    log_every: PositiveInt = Field(200, description="steps between logged (averaged) scalars")
    sample_every: PositiveInt = Field(1875, description="steps between fixed-noise sample grids")
    num_samples: PositiveInt = Field(64, le=10_000, description="samples in each fixed-noise grid (at most 10,000)")
    compile: Literal[False, "default", "reduce-overhead", "max-autotune"] = Field(
        False, description="torch.compile both networks with this mode (reduce-overhead: CUDA graphs on a GPU)"
    )
    precision: Literal["fp32", "bf16"] = Field("fp32", description="bf16: forward passes under bfloat16 autocast")
    cuda_graph: Literal["auto", "on", "off"] = Field(
        "auto",
        description="capture the whole training step as one CUDA graph: auto (on CUDA when every component can), on, off",
    )
    overfitting_batch: NonNegativeInt = Field(
        256,
        le=10_000,
        description="training and held-out images D's mean output is logged on at every log, to show overfitting (0: off)",
    )
    population: PositiveInt = Field(
        1,
        le=MAX_MEMBERS,
        description="K copies of the recipe (seeds seed, seed+1, ...) trained as one batched step, each into a run folder of its own; 1: one run",
    )
    population_values: dict[str, list[Any]] = Field(
        {},
        description="each member's own value of optim.* keys (or seed), K values per key, e.g. {optim.generator.lr: [1.0e-4, 2.0e-4]}",
    )

    @field_validator("cuda_graph", mode="before")
    @classmethod
    def _yaml_on_off(cls, value: Any) -> Any:
        """YAML reads a bare ``on``/``off`` as true/false: take them as meant."""
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value


class RunSection(Options):
    """Where the run folder goes."""

    dir: str = Field("runs", description="parent folder of run folders")
    name: Optional[str] = Field(None, description="run folder name (default: recipe name + time)")

    @field_validator("name")
    @classmethod
    def _one_path_component(cls, value: Optional[str]) -> Optional[str]:
        """A run name is a folder inside ``run.dir``, never a path that leaves it."""
        if value is not None and (value in ("", ".", "..") or "/" in value or "\\" in value or "\0" in value):
            raise ValueError("a run name is one folder name inside run.dir: no '/', no '..', not empty")
        return value


class WandbSection(Options):
    """Weights & Biases logging; offline by default so that no account is needed."""

    mode: Literal["offline", "online", "disabled"] = "offline"
    project: str = "ganzoo"
    entity: Optional[str] = None
    group: Optional[str] = None
    tags: list[str] = []
    notes: Optional[str] = None


class VideoSection(Options):
    """The pictures of training a run leaves: the progress video made from the sample grids
    at the end (30 s by default, as in the source article), and the curves redrawn while
    it trains."""

    seconds: PositiveFloat = Field(30.0, le=600, description="length of the progress video, in seconds (at most 600)")
    fps: PositiveInt = Field(10, le=60, description="frames per second of the progress video (at most 60)")
    format: Literal["auto", "mp4", "gif"] = Field("auto", description="auto: mp4 when ffmpeg is there, else gif")
    curves_interval: NonNegativeFloat = Field(
        10.0, description="least seconds between two redraws of the curves while training (0: at every log)"
    )


class CheckpointSection(Options):
    """How often the whole training state is saved, so that a run can be resumed."""

    every: Optional[PositiveInt] = Field(
        None,
        description="steps between checkpoints (null: at the end of an epoch, at least 1,000 steps after the last)",
    )
    keep_last: PositiveInt = Field(3, description="step checkpoints kept; older ones are deleted")
    best_metric: Optional[str] = Field(
        None, description="logged scalar that decides checkpoints/best.pt (null: no best)"
    )
    best_mode: Literal["min", "max"] = Field("min", description="whether a lower or a higher best_metric is better")


class EvalSection(Options):
    """How samples are measured: by ``ganzoo eval``, and during training when ``every`` is
    set (see docs/evaluation.md)."""

    every: Optional[PositiveInt] = Field(None, description="epochs between evaluations while training (null: never)")
    every_steps: Optional[PositiveInt] = Field(
        None, description="steps between evaluations while training (null: never); for short epochs"
    )
    reference: Literal["auto", "training", "held_out"] = Field(
        "auto",
        description="the real images compared with: auto (held_out when data.limit is set, else training), "
        "training or held_out (the dataset's test split)",
    )
    n: PositiveInt = Field(
        10_000,
        le=MAX_EVAL_SAMPLES,
        description=f"generated samples per evaluation (and real ones, up to the dataset's size; at most {MAX_EVAL_SAMPLES:,})",
    )
    seed: int = Field(0, ge=0, lt=2**63, description="seed of the generated and the chosen real samples")
    batch_size: PositiveInt = Field(500, description="samples per batch when generating and extracting features")
    metrics: list[ComponentSpec] = Field(
        [], description="metrics, each {name, options}; empty: every default metric that applies to the data"
    )
    extractors: dict[str, dict[str, Any]] = Field({}, description="options of feature extractors, by extractor name")


class DistributedSection(Options):
    """Settings for data-parallel runs under torchrun (``ganzoo run --nproc N``); a run of
    one process ignores them."""

    timeout: PositiveFloat = Field(
        300.0, le=604_800, description="seconds a rank waits for the others before the job fails (at most a week)"
    )
    sync_batchnorm: bool = Field(
        False, description="turn batch norm layers into SyncBatchNorm (statistics over the global batch)"
    )


class RecipeModel(Options):
    """A whole recipe after ``extends`` and overrides are applied."""

    requires: list[str] = Field([], description="plugins that must be installed")
    seed: int = Field(0, ge=0, lt=2**63)
    device: str = "auto"
    data: DataSection
    model: ComponentSpec
    loss: ComponentSpec
    augment: ComponentSpec = ComponentSpec(name="none")
    optim: OptimSection = OptimSection()
    train: TrainSection = TrainSection()
    run: RunSection = RunSection()
    wandb: WandbSection = WandbSection()
    video: VideoSection = VideoSection()
    checkpoint: CheckpointSection = CheckpointSection()
    callbacks: list[ComponentSpec] = []
    eval: EvalSection = EvalSection()
    distributed: DistributedSection = DistributedSection()

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        kind, _, index = value.partition(":")
        if kind not in ("auto", "cpu", "cuda", "mps") or (index and not (kind == "cuda" and index.isdigit())):
            raise ValueError(f"expected auto, cpu, cuda, cuda:N or mps, got {value!r}")
        return value


@dataclass
class Recipe:
    """A validated recipe: typed sections plus the fully resolved plain dict."""

    path: Path
    config: RecipeModel
    resolved: dict[str, Any]
    """Every section with every option filled in; saved with the run and loadable again."""

    @property
    def stem(self) -> str:
        return self.path.stem

    def component(self, section: str) -> tuple[str, dict[str, Any]]:
        """``(name, options)`` of a component section such as ``"loss"`` (for ``data``, the
        dataset's options: without the keys the core reads, :data:`DATA_KEYS`)."""
        name, options = split_name(self.resolved[section])
        return name, dataset_options(options) if section == "data" else options

    def build(self, section: str, registry: Registry, **overrides: Any) -> Any:
        """The component that section ``data``, ``model`` or ``loss`` names, built with its
        options (``overrides`` replace some of them): the one place a recipe's component
        becomes an object."""
        name, options = self.component(section)
        return registry.get(COMPONENT_SECTIONS[section], name)(**{**options, **overrides})

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.resolved, sort_keys=False)


RESOLVED_ORDER = [
    "requires",
    "seed",
    "device",
    "data",
    "model",
    "loss",
    "augment",
    "optim",
    "train",
    "callbacks",
    "run",
    "wandb",
    "video",
    "checkpoint",
    "eval",
    "distributed",
]
