"""Measuring a generator: which metrics, on which samples.

An :class:`Evaluation` is a session: the real samples are chosen and the feature
extractors prepared (a classifier trained, InceptionV3 loaded) once, then every
``evaluate`` call draws ``n`` fresh samples from the same seed and computes every metric.
``ganzoo eval`` runs one; training with ``eval.every`` keeps one for the whole run. Every
result keeps what makes it comparable (:mod:`ganzoo.inference.records`).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from ganzoo.api import (
    Architecture,
    Data,
    EvalData,
    EvaluationError,
    FeatureExtractor,
    Metric,
    MetricContext,
    Problem,
    RecipeError,
    to_model_range,
)
from ganzoo.api.errors import unknown_name_message
from ganzoo.inference.data import held_out, load_dataset, load_split, training_data, unseen_images
from ganzoo.inference.draw import class_labels, generate, to_data_format
from ganzoo.inference.models import TrainedModel
from ganzoo.inference.records import Result, check_recordable, record
from ganzoo.plugins.registry import Registry, split_name
from ganzoo.recipe import Recipe

MAX_SAMPLE_BYTES = 4 * 2**30
"""Most bytes the generated samples of one evaluation may take (the real ones take as much)."""


def check_sample_memory(n: int, data: Data) -> None:
    """Refuse (``EvaluationError``) an evaluation whose ``n`` generated samples of the data's
    shape would take more than :data:`MAX_SAMPLE_BYTES`, before any is drawn."""
    per_sample = data.samples[0].numel() * data.samples.element_size() if len(data) else 0
    if n * per_sample > MAX_SAMPLE_BYTES:
        most = MAX_SAMPLE_BYTES // per_sample
        raise EvaluationError(
            f"{n:,} samples of shape {tuple(data.samples.shape[1:])} take {n * per_sample / 2**30:,.1f} GiB; "
            f"an evaluation holds at most {MAX_SAMPLE_BYTES // 2**30} GiB of them ({most:,} samples of this data)"
        )


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
    """Real samples and prepared extractors, reused by every ``evaluate`` call.

    ``data`` is what the run trains on: the dataset, or with ``data.limit`` a subset of it.
    The extractors see the whole dataset (a classifier trained on 100 images would be a poor
    feature space, and another one for every limit), and the real images compared with are
    chosen by ``eval.reference``: the training split as loaded, or real images the run
    never trains on (:func:`~ganzoo.inference.data.unseen_images`)."""

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
        check_sample_memory(self.n, data)
        self.seed = settings.seed if seed is None else seed
        self.batch_size = settings.batch_size
        self.device = device
        self.extractor_options = recipe.resolved["eval"]["extractors"]
        name, options = recipe.component("data")
        whole = load_dataset(recipe, registry) if data.indices is not None else data
        self.data = EvalData(whole, name, options, device, self._split_loader(), progress)
        unseen = unseen_images(recipe, registry, data)
        # Paired data (image conditions) is measured on held-out pairs: each output against its target.
        pairs = held_out(recipe, registry, data) if data.condition_kind == "images" else None
        real_source = pairs if pairs is not None else reference_images(recipe, whole, unseen)
        chosen = self._choose(len(real_source))
        self.real = real_source.samples[chosen]
        self.real_labels = real_source.labels[chosen] if real_source.labels is not None else None
        self.conditions = pairs.condition[chosen] if pairs is not None and pairs.condition is not None else None
        self.trained_on = data.samples
        """The images the run trains on (memorisation: how close do generated ones come?)."""
        self.held_out = unseen.samples[self._choose(len(unseen))] if unseen is not None else None
        """Up to ``n`` real images the run never trains on, chosen by the seed."""
        self.frequencies = (
            torch.bincount(data.labels.to(torch.int64), minlength=data.num_classes)
            if (data.labels is not None and data.num_classes)
            else None
        )
        self._extractors: dict[str, FeatureExtractor] = {}
        self._real_features: dict = {}

    def _choose(self, available: int) -> torch.Tensor:
        """``n`` indices (or all) of ``available`` real samples, the same for the same seed."""
        return torch.randperm(available, generator=torch.Generator().manual_seed(self.seed))[: self.n]

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
                trained_on=self.trained_on,
                held_out=self.held_out,
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
            self._real_features.update({k: v for k, v in ctx.cache.items() if k[1] != "fake"})  # fixed per session
        return results


def reference_images(recipe: Recipe, whole: Data, unseen: Optional[Data]) -> Data:
    """The real images generated ones are compared with (``eval.reference``): the dataset as
    loaded (``training``), or images the run never trains on (``held_out``); ``auto`` is
    ``held_out`` for a run with ``data.limit`` and ``training`` otherwise."""
    reference = recipe.config.eval.reference
    if reference == "auto":
        reference = "held_out" if recipe.config.data.limit is not None else "training"
    if reference == "training":
        return whole
    if unseen is None:
        raise EvaluationError(
            "eval.reference is held_out, and the run has no real images it does not train on: the dataset has "
            "no test split, and data.limit leaves none out; set eval.reference: training"
        )
    return unseen


def evaluate_model(
    model: TrainedModel,
    registry: Registry,
    *,
    names: Optional[Sequence[str]] = None,
    n: Optional[int] = None,
    seed: Optional[int] = None,
    progress: bool = True,
) -> list[Result]:
    """``ganzoo eval``: every chosen metric on a trained model, recorded in its run folder
    (which must take the record: that is checked before anything is measured)."""
    check_recordable(model.folder)
    data = training_data(model.recipe, registry)
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
