"""Compatibility of a recipe's components, checked before training.

A dataset says what it provides (``Dataset.provides``), an architecture what data it accepts
(``Architecture.accepts``) and what its D returns (``Architecture.discriminator_output``),
a loss what it needs (``Loss.needs``) and whether it reports D's verdict on real images
(``Loss.reports_real_scores``), an augmentation what data it takes (``Augment.accepts``)
and whether it adapts to that verdict (``Augment.adaptive``); the declarations are in
:mod:`ganzoo.api`. This
module compares them for a validated recipe and returns one problem per mismatch, named
after the key to change (``model.name`` for the data an architecture refuses, ``loss.name``
for what a loss misses). A component that declares nothing is not checked, so a
third-party component need not declare anything.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ganzoo.api import Accepts, Architecture, Augment, Dataset, DataSpec, Loss, Needs, Problem
from ganzoo.plugins.registry import Registry, split_name
from ganzoo.recipe.schema import dataset_options


def build_component(registry: Registry, kind: str, spec: Any) -> Any:
    """The component of a resolved section, built with its options (cheap: components do
    their work in ``load`` and ``build_*``); None when it cannot be built."""
    if not isinstance(spec, dict):
        return None
    name, options = split_name(spec)
    if kind == "dataset":  # data.limit and the like are the core's, not the dataset's
        options = dataset_options(options)
    try:
        return registry.get(kind, name)(**options)
    except Exception:  # noqa: BLE001 - an option problem is reported elsewhere; no check then
        return None


def _describe(data: DataSpec) -> str:
    """``1x28x28 images``, ``2-D points``, or the kind alone when the shape is unknown."""
    if data.kind == "points":
        return f"{data.shape[0]}-D points" if data.shape else "points"
    return f"{'x'.join(map(str, data.shape))} images" if data.shape else "images"


def _takes_condition(accepts: Accepts, data: DataSpec) -> bool:
    """Whether the networks can take the data's condition: an unconditioned network takes
    labelled data (it ignores the labels), not paired data."""
    if data.condition == "images":
        return "images" in accepts.conditions
    return None in accepts.conditions or (data.labels is not False and "labels" in accepts.conditions)


def data_problems(accepts: Accepts, data: DataSpec) -> list[str]:
    """Why an architecture that ``accepts`` refuses ``data`` (empty when it takes it)."""
    what = _describe(data)
    if data.kind not in accepts.kinds:
        return [f"takes {' or '.join(accepts.kinds)}, not {what}"]
    reasons = []
    if data.kind == "images" and data.shape and len(data.shape) == 3:
        _, height, width = data.shape
        if accepts.square and height != width:
            reasons.append(f"needs square images, not {what}")
        if min(height, width) < accepts.min_side:
            reasons.append(f"needs images of at least {accepts.min_side}x{accepts.min_side}, not {what}")
        if accepts.max_side is not None and max(height, width) > accepts.max_side:
            reasons.append(f"needs images of at most {accepts.max_side}x{accepts.max_side}, not {what}")
        if height % accepts.side_multiple or width % accepts.side_multiple:
            reasons.append(f"needs images whose side divides by {accepts.side_multiple}, not {what}")
    if (
        data.kind == "points"
        and data.shape
        and accepts.point_dims is not None
        and data.shape[0] not in accepts.point_dims
    ):
        dims = " or ".join(f"{d}-D" for d in accepts.point_dims)
        reasons.append(f"takes {dims} points, not {what}")
    if accepts.labels and data.labels is False:
        reasons.append(f"needs class labels, and the data ({what}) has none")
    if not _takes_condition(accepts, data):
        given = f"{data.condition} as conditions" if data.condition else "no image conditions"
        wanted = " or ".join("no condition" if c is None else c for c in accepts.conditions)
        reasons.append(f"takes {wanted} as the networks' second argument, and the data gives {given}")
    return reasons


def loss_problems(needs: Needs, architecture: Optional[Architecture], data: Optional[DataSpec]) -> list[str]:
    """Why a loss that ``needs`` cannot train ``architecture`` on ``data`` (either may be
    None: undeclared, not checked)."""
    reasons = []
    if architecture is not None:
        name = architecture.name
        output = architecture.discriminator_output()
        if needs.d_output is not None and output is not None and output not in needs.d_output:
            reasons.append(f"needs D to output {' or '.join(needs.d_output)}, and {name}'s D outputs {output}")
        if needs.latent_codes and not architecture.latent_codes():
            reasons.append(f"needs an architecture with latent codes, and {name} has none")
    if data is not None:
        if needs.labels and data.labels is False:
            reasons.append(f"needs class labels, and the data ({_describe(data)}) has none")
        if needs.image_condition and data.condition != "images":
            reasons.append(
                f"needs paired data (an image condition per sample), and the data ({_describe(data)}) is not"
            )
    return reasons


def augment_problems(
    augment: Augment, architecture: Optional[Architecture], loss: Optional[Loss], data: Optional[DataSpec]
) -> list[str]:
    """Why ``augment`` cannot train with ``architecture`` and ``loss`` on ``data`` (any may
    be None: not checked)."""
    accepts = augment.accepts()
    reasons = data_problems(accepts, data) if accepts is not None and data is not None else []
    needs = loss.needs() if loss is not None else None
    reconstructs = (architecture is not None and architecture.discriminator_output() == "reconstruction") or (
        needs is not None and needs.d_output == ("reconstruction",)
    )
    if not augment.identity and reconstructs:
        reasons.append(
            "cannot augment the input of an autoencoder D: the loss compares D's reconstruction with the "
            "image as it was before the augmentation"
        )
    if augment.adaptive and loss is not None and not loss.reports_real_scores:
        reasons.append(
            f"adapts to D's verdict on the real images, and the loss {loss.name} does not report it "
            "(LossOutput.real_scores: a critic's or an energy's score has no decision boundary); "
            "use a fixed p or another augmentation"
        )
    return reasons


def compatibility_problems(
    resolved: dict[str, Any], registry: Registry, source_of: Callable[[str], str]
) -> list[Problem]:
    """Every mismatch between the data, the architecture, the loss and the augmentation of a validated recipe
    (``resolved``: its component sections; ``source_of``: the file that set a key)."""
    dataset: Optional[Dataset] = build_component(registry, "dataset", resolved.get("data"))
    architecture: Optional[Architecture] = build_component(registry, "architecture", resolved.get("model"))
    loss: Optional[Loss] = build_component(registry, "loss", resolved.get("loss"))
    data = dataset.provides() if dataset is not None else None
    problems = []
    accepts = architecture.accepts() if architecture is not None else None
    if accepts is not None and data is not None:
        problems += [
            Problem(source_of("model.name"), "model.name", f"{architecture.name} {reason}")  # type: ignore[union-attr]
            for reason in data_problems(accepts, data)
        ]
    needs = loss.needs() if loss is not None else None
    if needs is not None:
        problems += [
            Problem(source_of("loss.name"), "loss.name", f"{loss.name} {reason}")  # type: ignore[union-attr]
            for reason in loss_problems(needs, architecture, data)
        ]
    augment: Optional[Augment] = build_component(registry, "augmentation", resolved.get("augment"))
    if augment is not None:
        problems += [
            Problem(source_of("augment.name"), "augment.name", f"{augment.name} {reason}")
            for reason in augment_problems(augment, architecture, loss, data)
        ]
    return problems
