"""Recipes: YAML files that compose plugins into one training run.

Loading goes in four stages, each adding to one list of problems so that a bad recipe is
reported whole, one line per problem, instead of one error per attempt:

1. read the file and everything it ``extends`` (safe YAML only; cycles and missing files
   are problems);
2. apply dotted command-line overrides (``train.epochs=3``);
3. validate the sections against :class:`RecipeModel`;
4. look every component up in the registry and validate its options.

Every key remembers which file (or the command line) set it, so a problem names the file
where the user has to fix it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Optional

import yaml
from pydantic import (BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, ValidationError,
                      field_validator)

from ganzoo.components import Options
from ganzoo.errors import GanzooError, Problem, RecipeError, unknown_name_message
from ganzoo.optim import OPTIMIZERS
from ganzoo.registry import Registry

COMMAND_LINE = "command line"

# Recipe section -> registry kind of the component it names.
COMPONENT_SECTIONS = {"data": "dataset", "model": "architecture", "loss": "loss"}
COMPONENT_PATHS = {(s,) for s in COMPONENT_SECTIONS} | {("optim", "generator"), ("optim", "discriminator")}


# --------------------------------------------------------------------------- schema


class ComponentSpec(BaseModel):
    """``name`` picks a registered component; every other key is one of its options."""

    model_config = ConfigDict(extra="allow")
    name: str

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class OptimSection(Options):
    """One optimiser per network (names: adam, adamw, rmsprop, sgd)."""

    generator: ComponentSpec = ComponentSpec(name="adam")
    discriminator: ComponentSpec = ComponentSpec(name="adam")


class TrainSection(Options):
    """How long and how the alternating updates run."""

    epochs: PositiveInt = Field(300, description="passes over the dataset")
    max_steps: Optional[PositiveInt] = Field(None, description="stop after this many steps (overrides epochs when reached first)")
    batch_size: PositiveInt = Field(32, description="samples per discriminator step")
    d_steps: PositiveInt = Field(1, description="discriminator updates per generator update (k of Algorithm 1)")
    drop_last: bool = Field(False, description="drop the last incomplete batch of each epoch")
    log_every: PositiveInt = Field(200, description="steps between logged (averaged) scalars")
    sample_every: PositiveInt = Field(1875, description="steps between fixed-noise sample grids")
    num_samples: PositiveInt = Field(64, description="samples in each fixed-noise grid")
    compile: Literal[False, "default", "reduce-overhead", "max-autotune"] = Field(
        False, description="torch.compile both networks with this mode (reduce-overhead: CUDA graphs on a GPU)")
    precision: Literal["fp32", "bf16"] = Field("fp32", description="bf16: forward passes under bfloat16 autocast")


class RunSection(Options):
    """Where the run folder goes."""

    dir: str = Field("runs", description="parent folder of run folders")
    name: Optional[str] = Field(None, description="run folder name (default: recipe name + time)")


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

    seconds: PositiveFloat = Field(30.0, description="length of the progress video, in seconds")
    fps: PositiveInt = Field(10, description="frames per second of the progress video")
    format: Literal["auto", "mp4", "gif"] = Field("auto", description="auto: mp4 when ffmpeg is there, else gif")
    curves_interval: NonNegativeFloat = Field(
        10.0, description="least seconds between two redraws of the curves while training (0: at every log)")


class CheckpointSection(Options):
    """How often the whole training state is saved, so that a run can be resumed."""

    every: Optional[PositiveInt] = Field(None, description="steps between checkpoints (null: at the end of every epoch)")
    keep_last: PositiveInt = Field(3, description="step checkpoints kept; older ones are deleted")
    best_metric: Optional[str] = Field(None, description="logged scalar that decides checkpoints/best.pt (null: no best)")
    best_mode: Literal["min", "max"] = Field("min", description="whether a lower or a higher best_metric is better")


class EvalSection(Options):
    """How samples are measured: by ``ganzoo eval``, and during training when ``every`` is
    set (see docs/evaluation.md)."""

    every: Optional[PositiveInt] = Field(None, description="epochs between evaluations while training (null: never)")
    n: PositiveInt = Field(10_000, description="generated samples per evaluation (and real ones, up to the dataset's size)")
    seed: int = Field(0, description="seed of the generated and the chosen real samples")
    batch_size: PositiveInt = Field(500, description="samples per batch when generating and extracting features")
    metrics: list[ComponentSpec] = Field(
        [], description="metrics, each {name, options}; empty: every default metric that applies to the data")
    extractors: dict[str, dict[str, Any]] = Field({}, description="options of feature extractors, by extractor name")


class DistributedSection(Options):
    """Settings for data-parallel runs under torchrun (``ganzoo run --nproc N``); a run of
    one process ignores them."""

    timeout: PositiveFloat = Field(300.0, description="seconds a rank waits for the others before the job fails")
    sync_batchnorm: bool = Field(False, description="turn batch norm layers into SyncBatchNorm (statistics over the global batch)")


class RecipeModel(Options):
    """A whole recipe after ``extends`` and overrides are applied."""

    requires: list[str] = Field([], description="plugins that must be installed")
    seed: int = 0
    device: str = "auto"
    data: ComponentSpec
    model: ComponentSpec
    loss: ComponentSpec
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
        """``(name, options)`` of a component section such as ``"loss"``."""
        spec = dict(self.resolved[section])
        return spec.pop("name"), spec

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.resolved, sort_keys=False)


# --------------------------------------------------------------------------- loading


class _Sources:
    """Which file set each dotted key; problems are reported against it."""

    def __init__(self, default: str) -> None:
        self.default = default
        self._by_key: dict[str, str] = {}

    def record(self, tree: Any, source: str, prefix: str = "") -> None:
        if prefix:
            self._by_key[prefix] = source
        if isinstance(tree, dict):
            for key, value in tree.items():
                self.record(value, source, f"{prefix}.{key}" if prefix else str(key))

    def of(self, key: str) -> str:
        while key:
            if key in self._by_key:
                return self._by_key[key]
            key = key.rpartition(".")[0]
        return self.default


def _is_component(path: tuple[str, ...]) -> bool:
    """Sections whose ``name`` picks a component (and whose other keys are its options)."""
    return path in COMPONENT_PATHS


def _renames_component(path: tuple[str, ...], old: Any, new: Any) -> bool:
    return _is_component(path) and isinstance(old, dict) and isinstance(new, dict) and new.get("name", old.get("name")) != old.get("name")


def _merge(base: dict[str, Any], update: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Deep merge; a component section whose ``name`` changes is replaced, not merged,
    because the old component's options mean nothing to the new one. Lists are replaced."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        old, here = merged.get(key), (*path, key)
        if isinstance(old, dict) and isinstance(value, dict) and not _renames_component(here, old, value):
            merged[key] = _merge(old, value, here)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, problems: list[Problem]) -> Optional[dict[str, Any]]:
    where = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(where, "", "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(where, "", f"cannot read: {error}"))
        return None
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.append(Problem(where, "", f"invalid YAML at {at}{reason}"))
        return None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        problems.append(Problem(where, "", f"a recipe must be a mapping of sections, got {type(tree).__name__}"))
        return None
    return tree


def _read_chain(path: Path, sources: _Sources, problems: list[Problem], chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file merged over everything it extends, bases first."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(_display(p) for p in (*chain, path))
        problems.append(Problem(_display(chain[-1]), "extends", f"circular extends: {cycle}"))
        return {}
    tree = _read_yaml(path, problems)
    if tree is None:
        return {}
    bases = tree.pop("extends", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        problems.append(Problem(_display(path), "extends", "expected a file name or a list of file names"))
        bases = []
    merged: dict[str, Any] = {}
    for base in bases:
        merged = _merge(merged, _read_chain(path.parent / base, sources, problems, (*chain, path)))
    sources.record(tree, _display(path))
    return _merge(merged, tree)


def parse_overrides(overrides: Iterable[str], problems: list[Problem]) -> list[tuple[list[str], Any]]:
    """``a.b=value`` pairs; values are YAML scalars or flow collections (``[1, 2]``)."""
    parsed = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            problems.append(Problem(COMMAND_LINE, item, "expected an override of the form section.key=value"))
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as error:
            problems.append(Problem(COMMAND_LINE, key, f"cannot parse value {raw!r}: {getattr(error, 'problem', error)}"))
            continue
        parsed.append((parts, value))
    return parsed


def _apply_override(tree: dict[str, Any], parts: list[str], value: Any, problems: list[Problem]) -> bool:
    """Set one dotted key; True when it replaced a whole component section."""
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            problems.append(Problem(COMMAND_LINE, ".".join(parts), f"{where} is a value ({type(child).__name__}), not a section"))
            return False
        node = child
    replaced = parts[-1] == "name" and _is_component(tuple(parts[:-1])) and node.get("name") != value
    if replaced:
        node.clear()  # a different component: the old one's options do not apply
    node[parts[-1]] = value
    return replaced


# --------------------------------------------------------------------------- validation


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Optional[type[BaseModel]]:
    """The pydantic model that owns the field at ``loc`` (to list its known keys)."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ()) or ()
        candidates = [annotation, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return None
    return model


def _pydantic_problems(error: ValidationError, model: type[BaseModel], prefix: str, sources: _Sources) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join(str(p) for p in (prefix, *loc) if p != "")
        if item["type"] == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            known = list(owner.model_fields) if owner else []
            message = unknown_name_message("key", loc[-1], known)
        elif item["type"] == "missing":
            message = "required but missing"
        else:
            message = f"{item['msg'].removeprefix('Value error, ')} (got {item.get('input')!r})"
        problems.append(Problem(sources.of(key), key, message))
    return problems


def _validate_options(options_cls: type[BaseModel], options: dict[str, Any], key: str, sources: _Sources, problems: list[Problem]) -> dict[str, Any]:
    try:
        return options_cls(**options).model_dump(mode="json")
    except ValidationError as error:
        problems.extend(_pydantic_problems(error, options_cls, key, sources))
        return options


def _resolve(raw: Any, key: str, what: str, classes: dict[str, type[BaseModel]], sources: _Sources, problems: list[Problem]) -> Optional[dict[str, Any]]:
    """``{name, **options}`` with every option validated and defaulted, for a section that
    names a component; None when the section is not even a mapping with a ``name`` (the
    schema validation reports that)."""
    if not (isinstance(raw, dict) and isinstance(raw.get("name"), str)):
        return None
    name, options = raw["name"], {k: v for k, v in raw.items() if k != "name"}
    if name not in classes:
        problems.append(Problem(sources.of(f"{key}.name"), f"{key}.name", unknown_name_message(what, name, list(classes))))
        return dict(raw)
    return {"name": name, **_validate_options(classes[name], options, key, sources, problems)}


def _resolve_components(tree: dict[str, Any], registry: Registry, sources: _Sources, problems: list[Problem]) -> dict[str, Any]:
    """Every component section looked up and its options validated. Works on the raw
    tree, so that these problems are reported even when other sections are invalid."""
    def options_of(kind: str) -> dict[str, type[BaseModel]]:
        return {name: registry.get(kind, name).Options for name in registry.names(kind)}

    resolved: dict[str, Any] = {}
    requires = tree.get("requires", [])
    for plugin in requires if isinstance(requires, list) else []:
        if isinstance(plugin, str) and plugin not in registry.plugin_names:
            problems.append(Problem(sources.of("requires"), "requires", unknown_name_message("plugin", plugin, registry.plugin_names)))
    for section, kind in COMPONENT_SECTIONS.items():
        resolved[section] = _resolve(tree.get(section), section, kind, options_of(kind), sources, problems)
    optim = tree.get("optim") if isinstance(tree.get("optim"), dict) else {}
    optimizers = {name: options for name, (_, options) in OPTIMIZERS.items()}
    resolved["optim"] = {
        net: _resolve(optim.get(net, {"name": "adam"}), f"optim.{net}", "optimizer", optimizers, sources, problems)
        for net in ("generator", "discriminator")
    }
    callbacks = tree.get("callbacks") if isinstance(tree.get("callbacks"), list) else []
    resolved["callbacks"] = [
        _resolve(spec, f"callbacks.{i}", "callback", options_of("callback"), sources, problems)
        for i, spec in enumerate(callbacks)
    ]
    resolved["eval"] = _resolve_eval(tree.get("eval"), registry, sources, problems)
    return resolved


def _resolve_eval(section: Any, registry: Registry, sources: _Sources, problems: list[Problem]) -> Optional[dict[str, Any]]:
    """The ``eval`` section with its metrics and extractor options validated against the
    installed plugins (the section's own keys are validated with the schema)."""
    section = section if isinstance(section, dict) else {}
    metrics = section.get("metrics") if isinstance(section.get("metrics"), list) else []
    extractors = section.get("extractors") if isinstance(section.get("extractors"), dict) else {}
    metric_options = {name: registry.get("metric", name).Options for name in registry.names("metric")}
    extractor_options = {name: registry.get("feature_extractor", name).Options for name in registry.names("feature_extractor")}
    resolved_extractors = {}
    for name, options in extractors.items():
        spec = {"name": name, **(options if isinstance(options, dict) else {})}
        done = _resolve(spec, f"eval.extractors.{name}", "feature extractor", extractor_options, sources, problems)
        resolved_extractors[name] = {k: v for k, v in (done or {}).items() if k != "name"}
    return {
        "metrics": [_resolve(spec, f"eval.metrics.{i}", "metric", metric_options, sources, problems)
                    for i, spec in enumerate(metrics)],
        "extractors": resolved_extractors,
    }


RESOLVED_ORDER = ["requires", "seed", "device", "data", "model", "loss", "optim", "train", "callbacks", "run", "wandb", "video",
                  "checkpoint", "eval", "distributed"]


def saved_recipe(folder: Path) -> Path:
    """The resolved recipe a run folder keeps; an error when ``folder`` is not a run folder."""
    path = Path(folder) / "recipe.yaml"
    if not path.is_file():
        raise GanzooError(f"{folder} is not a run folder (it has no recipe.yaml); give a folder `ganzoo run` printed")
    return path


def load_recipe(path: str | Path, registry: Registry, overrides: Iterable[str] = ()) -> Recipe:
    """Read, compose, override and validate a recipe; raise :class:`RecipeError` listing
    every problem found."""
    path = Path(path)
    problems: list[Problem] = []
    sources = _Sources(_display(path))
    tree = _read_chain(path, sources, problems)
    for parts, value in parse_overrides(overrides, problems):
        key = ".".join(parts[:-1] if _apply_override(tree, parts, value, problems) else parts)
        sources.record(value, COMMAND_LINE, key)
    if problems:  # nothing sensible to validate in a file that could not be read
        raise RecipeError(problems)

    config = None
    try:
        config = RecipeModel.model_validate(tree)
    except ValidationError as error:
        problems.extend(_pydantic_problems(error, RecipeModel, "", sources))
    components = _resolve_components(tree, registry, sources, problems)
    if problems or config is None:
        raise RecipeError(problems)
    sections = config.model_dump(mode="json")
    resolved = {**sections, **components, "eval": {**sections["eval"], **components["eval"]}}
    return Recipe(path=path, config=config, resolved={key: resolved[key] for key in RESOLVED_ORDER})
