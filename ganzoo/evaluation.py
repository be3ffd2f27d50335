"""Measuring a generator: which metrics, on which samples, and the record of each result.

An :class:`Evaluation` is a session: the real samples are chosen and the feature
extractors prepared (a classifier trained, InceptionV3 loaded) once, then every
``evaluate`` call draws ``n`` fresh samples from the same seed and computes every metric.
``ganzoo eval`` runs one; training with ``eval.every`` keeps one for the whole run.

Every result keeps what makes it comparable: the sample counts and the extractor.
Results are appended to the run folder's ``eval.jsonl`` and logged like training scalars.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

import torch

from ganzoo.callback import Callback, TrainingRun
from ganzoo.components import Architecture, Data
from ganzoo.data import to_model_range
from ganzoo.errors import Problem, RecipeError, unknown_name_message
from ganzoo.jsonl import append_row, keep_rows
from ganzoo.metrics import EvalData, EvaluationError, FeatureExtractor, Metric, MetricContext
from ganzoo.recipe import Recipe
from ganzoo.registry import Registry, split_name
from ganzoo.sampling import TrainedModel, class_labels, generate, held_out, load_dataset, load_split, to_data_format

RECORD_FILE = "eval.jsonl"


@dataclass
class Result:
    """One number, with the metric that produced it and what it was computed on."""

    key: str
    value: float
    metric: str
    n_fake: int
    n_real: int
    extractor: Optional[str]
    """The extractor's full description, or None for a metric computed without one."""


def select_metrics(
    registry: Registry, recipe: Recipe, data: Data, names: Optional[Sequence[str]] = None
) -> list[Metric]:
    """The metrics to compute: ``names`` (with options from the recipe's ``eval.metrics``
    where it lists them), else the recipe's ``eval.metrics``, else every default metric
    that applies to ``data``. A metric asked for by name that cannot run is an error."""
    configured = {spec["name"]: spec for spec in recipe.resolved["eval"]["metrics"]}
    if names:
        known = registry.names("metric")
        problems = [
            Problem("command line", "--metrics", unknown_name_message("metric", name, known))
            for name in names
            if name not in known
        ]
        if problems:
            raise RecipeError(problems)
        specs, explicit = [configured.get(name, {"name": name}) for name in names], True
    elif configured:
        specs, explicit = list(configured.values()), True
    else:
        specs = [{"name": e.name} for e in registry.entries("metric") if getattr(e.cls, "default", False)]
        explicit = False
    metrics = []
    for spec in specs:
        name, options = split_name(spec)
        metric = registry.get("metric", name)(**options)
        reason = metric.unsupported(data)
        if reason is None:
            metrics.append(metric)
        elif explicit:
            raise EvaluationError(f"metric {metric.name!r} cannot run on this run's data: {reason}")
    if not metrics:
        raise EvaluationError(
            f"no installed metric applies to this data (metrics: {', '.join(registry.names('metric')) or 'none'}); "
            f"pip install -e plugins/ganzoo_metrics"
        )
    return metrics


class Evaluation:
    """Real samples and prepared extractors, reused by every ``evaluate`` call."""

    def __init__(
        self,
        registry: Registry,
        recipe: Recipe,
        data: Data,
        metrics: list[Metric],
        *,
        device: torch.device,
        n: Optional[int] = None,
        seed: Optional[int] = None,
        progress: bool = True,
    ) -> None:
        settings = recipe.config.eval
        self.registry = registry
        self.recipe = recipe
        self.metrics = metrics
        self.n = n or settings.n
        self.seed = settings.seed if seed is None else seed
        self.batch_size = settings.batch_size
        self.device = device
        self.extractor_options = recipe.resolved["eval"]["extractors"]
        name, options = recipe.component("data")
        self.data = EvalData(data, name, options, device, self._split_loader(), progress)
        # Paired data (image conditions) is measured on held-out pairs: each output against its target.
        pairs = held_out(recipe, registry, data) if data.condition_kind == "images" else None
        real_source = pairs if pairs is not None else data
        chosen = torch.randperm(len(real_source), generator=torch.Generator().manual_seed(self.seed))[: self.n]
        self.real = real_source.samples[chosen]
        self.real_labels = real_source.labels[chosen] if real_source.labels is not None else None
        self.conditions = pairs.condition[chosen] if pairs is not None and pairs.condition is not None else None
        self.frequencies = (
            torch.bincount(data.labels.to(torch.int64), minlength=data.num_classes)
            if (data.labels is not None and data.num_classes)
            else None
        )
        self._extractors: dict[str, FeatureExtractor] = {}
        self._real_features: dict = {}

    def _split_loader(self):
        return lambda split: load_split(self.recipe, self.registry, split)

    def extractor(self, name: str) -> FeatureExtractor:
        """The named extractor, built with the recipe's options and prepared once."""
        if name not in self._extractors:  # an unknown name: the registry's error, with "did you mean"
            extractor = self.registry.get("feature_extractor", name)(**self.extractor_options.get(name, {}))
            extractor.prepare(self.data)
            self._extractors[name] = extractor
        return self._extractors[name]

    def evaluate(self, generator: torch.nn.Module, architecture: Architecture, info) -> list[Result]:
        """Every metric on ``n`` samples of ``generator``. The global random streams are
        left as they were, so evaluating during training does not change what is learned."""
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            if self.conditions is not None:  # paired data: translate the held-out conditions
                fake = generate(
                    generator,
                    architecture,
                    len(self.conditions),
                    device=self.device,
                    seed=self.seed,
                    labels=to_model_range(self.conditions),
                    batch_size=self.batch_size,
                )
                labels = None
            else:
                labels = class_labels(architecture, info, self.n, seed=self.seed, frequencies=self.frequencies)
                fake = generate(
                    generator,
                    architecture,
                    self.n,
                    device=self.device,
                    seed=self.seed,
                    labels=labels,
                    batch_size=self.batch_size,
                )
            ctx = MetricContext(
                self.real,
                to_data_format(fake, info),
                self.real_labels,
                labels,
                self.data,
                self.extractor,
                self.batch_size,
                cache=dict(self._real_features),
                conditions=self.conditions,
            )
            results = []
            for metric in self.metrics:
                ctx.touched = set()
                values = metric.compute(ctx)
                extractor = "; ".join(ctx.used[name] for name in sorted(ctx.touched)) or None
                results += [
                    Result(key, float(value), metric.name, ctx.n_fake, ctx.n_real, extractor)
                    for key, value in values.items()
                ]
            self._real_features.update({k: v for k, v in ctx.cache.items() if k[1] == "real"})
        return results


def scalars(results: list[Result]) -> dict[str, float]:
    """Results as logged scalars: every key, plus ``eval_n`` (the generated sample count)."""
    return {"eval_n": results[0].n_fake, **{r.key: r.value for r in results}} if results else {}


def record(folder: Path, results: list[Result], *, step: int, source: str, seed: int) -> Path:
    """Append one evaluation to ``eval.jsonl`` in the run folder."""
    path = folder / RECORD_FILE
    append_row(
        path,
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "step": step,
            "source": source,
            "seed": seed,
            "results": [asdict(r) for r in results],
        },
    )
    return path


def format_results(results: list[Result]) -> list[str]:
    """Aligned lines, each value with its sample counts and extractor, then the extractors."""
    names: dict[str, str] = {}
    for r in results:
        if r.extractor:
            names.setdefault(r.extractor, r.extractor.split(":", 1)[0])
    width = max((len(r.key) for r in results), default=0)
    lines = []
    for r in results:
        where = f"extractor {names[r.extractor]}" if r.extractor else "no extractor"
        lines.append(f"  {r.key:<{width}}  {r.value:>12.6g}   (n={r.n_fake} generated, {r.n_real} real; {where})")
    if names:
        lines.append("extractors:")
        lines += [f"  {description}" for description in names]
    return lines


class EvaluateEvery(Callback):
    """During training: evaluates every ``every`` epochs and at the end, logs the results
    like any scalar (``metrics.jsonl``, wandb, ``checkpoint.best_metric``) and appends
    them to ``eval.jsonl``. Must come before the checkpointer, so that a checkpoint taken
    at the end of an epoch already follows its evaluation."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "evaluate_every"

    def __init__(self, folder: Path, evaluation: Evaluation, every: int) -> None:
        self.folder = folder
        self.evaluation = evaluation
        self.every = every
        self.last_step: Optional[int] = None

    def on_train_start(self, trainer: "TrainingRun") -> None:
        """A resumed run forgets the evaluations made after its checkpoint: they are made
        again, identically, as training replays."""
        path = self.folder / RECORD_FILE
        if trainer.step and path.is_file():
            keep_rows(path, lambda entry: entry.get("source") != "training" or entry.get("step", 0) <= trainer.step)

    def on_epoch_end(self, trainer: "TrainingRun") -> None:
        if trainer.epoch % self.every == 0:
            self.run(trainer)

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if trainer.status == "finished" and self.last_step != trainer.step:
            self.run(trainer)

    def run(self, trainer: "TrainingRun") -> None:
        trainer.check_finite()  # a diverged generator is reported as such, not measured
        results = self.evaluation.evaluate(trainer.sampling_generator, trainer.architecture, trainer.batches.data.info)
        self.last_step = trainer.step
        record(self.folder, results, step=trainer.step, source="training", seed=self.evaluation.seed)
        trainer.log(scalars(results))


def evaluate_model(
    model: TrainedModel,
    registry: Registry,
    *,
    names: Optional[Sequence[str]] = None,
    n: Optional[int] = None,
    seed: Optional[int] = None,
    progress: bool = True,
) -> list[Result]:
    """``ganzoo eval``: every chosen metric on a trained model, recorded in its run folder."""
    data = load_dataset(model.recipe, registry)
    metrics = select_metrics(registry, model.recipe, data, names)
    evaluation = Evaluation(
        registry, model.recipe, data, metrics, device=model.device, n=n, seed=seed, progress=progress
    )
    results = evaluation.evaluate(model.generator, model.architecture, model.info)
    source = str(model.source.relative_to(model.folder)) + (
        "" if model.weights == "trained" else f" ({model.weights} weights)"
    )
    record(model.folder, results, step=model.step, source=source, seed=evaluation.seed)
    return results
