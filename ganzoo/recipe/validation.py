"""Recipe validation: pydantic errors as problem lines, and every component looked up in the
registry with its options validated and defaulted (stages 3 and 4 of loading)."""

from __future__ import annotations

import reprlib
from typing import Any, Mapping, Optional

from pydantic import BaseModel, ValidationError

from ganzoo.api.capture import capture_decision
from ganzoo.api.errors import Problem, unknown_name_message
from ganzoo.api.population import population_refusals
from ganzoo.plugins.registry import Registry, split_name
from ganzoo.recipe.schema import COMPONENT_SECTIONS, DATA_KEYS, RecipeModel, dataset_options
from ganzoo.recipe.sources import Sources


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
        found = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if found is None:
            return None
        model = found
    return model


def pydantic_problems(error: ValidationError, model: type[BaseModel], prefix: str, sources: Sources) -> list[Problem]:
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
            message = f"{item['msg'].removeprefix('Value error, ')} (got {_shown(item.get('input'))})"
        problems.append(Problem(sources.of(key), key, message))
    return problems


def _validate_options(
    options_cls: type[BaseModel], options: dict[str, Any], key: str, sources: Sources, problems: list[Problem]
) -> dict[str, Any]:
    try:
        return options_cls(**options).model_dump(mode="json")
    except ValidationError as error:
        problems.extend(pydantic_problems(error, options_cls, key, sources))
        return options


def _resolve(
    raw: Any, key: str, what: str, classes: Mapping[str, type[BaseModel]], sources: Sources, problems: list[Problem]
) -> Optional[dict[str, Any]]:
    """``{name, **options}`` with every option validated and defaulted, for a section that
    names a component; None when the section is not even a mapping with a ``name`` (the
    schema validation reports that)."""
    if not (isinstance(raw, dict) and isinstance(raw.get("name"), str)):
        return None
    name, options = split_name(raw)
    if name not in classes:
        problems.append(
            Problem(sources.of(f"{key}.name"), f"{key}.name", unknown_name_message(what, name, list(classes)))
        )
        return dict(raw)
    return {"name": name, **_validate_options(classes[name], options, key, sources, problems)}


def resolve_components(
    tree: dict[str, Any], registry: Registry, sources: Sources, problems: list[Problem]
) -> dict[str, Any]:
    """Every component section looked up and its options validated. Works on the raw
    tree, so that these problems are reported even when other sections are invalid."""

    def options_of(kind: str) -> dict[str, type[BaseModel]]:
        return _options(registry, kind)

    resolved: dict[str, Any] = {}
    requires = tree.get("requires", [])
    for plugin in requires if isinstance(requires, list) else []:
        if isinstance(plugin, str) and plugin not in registry.plugin_names:
            problems.append(
                Problem(
                    sources.of("requires"), "requires", unknown_name_message("plugin", plugin, registry.plugin_names)
                )
            )
    for section, kind in COMPONENT_SECTIONS.items():
        raw, core = _core_keys(section, tree.get(section, DEFAULT_SECTIONS.get(section)))
        done = _resolve(raw, section, kind, options_of(kind), sources, problems)
        resolved[section] = {**done, **core} if done is not None else None
    optim = raw_optim if isinstance(raw_optim := tree.get("optim"), dict) else {}
    resolved["optim"] = {
        net: _resolve_optimizer(optim.get(net, {"name": "adam"}), f"optim.{net}", registry, sources, problems)
        for net in ("generator", "discriminator")
    }
    callbacks = raw_callbacks if isinstance(raw_callbacks := tree.get("callbacks"), list) else []
    resolved["callbacks"] = [
        _resolve(spec, f"callbacks.{i}", "callback", options_of("callback"), sources, problems)
        for i, spec in enumerate(callbacks)
    ]
    resolved["eval"] = _resolve_eval(tree.get("eval"), registry, sources, problems)
    return resolved


DEFAULT_SECTIONS = {"augment": {"name": "none"}}
"""Component sections a recipe may leave out, and what it then gets."""


def _core_keys(section: str, raw: Any) -> tuple[Any, dict[str, Any]]:
    """``(the component's part, the core's part)`` of a section: ``data:`` mixes the
    dataset's options with keys the core reads (:data:`DATA_KEYS`, validated with the
    schema), which the dataset's options model must not see."""
    if section != "data" or not isinstance(raw, dict):
        return raw, {}
    return dataset_options(raw), {key: raw[key] for key in DATA_KEYS if key in raw}


def _options(registry: Registry, kind: str) -> dict[str, type[BaseModel]]:
    """The options model of every registered component of ``kind``, by name."""
    return {name: registry.get(kind, name).Options for name in registry.names(kind)}


def _resolve_optimizer(
    raw: Any, key: str, registry: Registry, sources: Sources, problems: list[Problem]
) -> Optional[dict[str, Any]]:
    """An optimiser section, ``{name, **options, schedule: {name, **options}}``, with both
    components validated; without a schedule, the optimiser keeps its ``lr`` (``constant``)."""
    if not isinstance(raw, dict):
        return None
    raw = dict(raw)
    if "schedule" not in raw:  # constant: left out of the resolved recipe, which then names no schedule at all
        return _resolve(raw, key, "optimizer", _options(registry, "optimizer"), sources, problems)
    schedule = raw.pop("schedule")
    resolved = _resolve(raw, key, "optimizer", _options(registry, "optimizer"), sources, problems)
    if not (isinstance(schedule, dict) and isinstance(schedule.get("name"), str)):
        where = (
            f"{key}.schedule.{next(iter(schedule))}" if isinstance(schedule, dict) and schedule else f"{key}.schedule"
        )
        problems.append(
            Problem(
                sources.of(where),
                f"{key}.schedule",
                f"expected a schedule with a name, such as {{name: cosine}}, got {schedule!r}",
            )
        )
        return resolved
    done = _resolve(schedule, f"{key}.schedule", "schedule", _options(registry, "schedule"), sources, problems)
    return {**resolved, "schedule": done} if resolved is not None else None


def _resolve_eval(
    section: Any, registry: Registry, sources: Sources, problems: list[Problem]
) -> Optional[dict[str, Any]]:
    """The ``eval`` section with its metrics and extractor options validated against the
    installed plugins (the section's own keys are validated with the schema)."""
    section = section if isinstance(section, dict) else {}
    metrics = section.get("metrics") if isinstance(section.get("metrics"), list) else []
    extractors = section.get("extractors") if isinstance(section.get("extractors"), dict) else {}
    metric_options = {name: registry.get("metric", name).Options for name in registry.names("metric")}
    extractor_options = {
        name: registry.get("feature_extractor", name).Options for name in registry.names("feature_extractor")
    }
    resolved_extractors = {}
    for name, options in extractors.items():
        spec = {"name": name, **(options if isinstance(options, dict) else {})}
        done = _resolve(spec, f"eval.extractors.{name}", "feature extractor", extractor_options, sources, problems)
        resolved_extractors[name] = split_name(done)[1] if done else {}
    return {
        "metrics": [
            _resolve(spec, f"eval.metrics.{i}", "metric", metric_options, sources, problems)
            for i, spec in enumerate(metrics)
        ],
        "extractors": resolved_extractors,
    }


def _shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: a problem stays one readable line even
    when the value is a list of thousands."""
    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxlist, shortener.maxdict = 3, 6, 6
    shortener.maxstring = shortener.maxother = shortener.maxlong = limit
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- CUDA graph capture


def recipe_components(
    resolved: dict[str, Any], registry: Registry, built: tuple[str, ...] = ("loss",)
) -> list[tuple[str, object]]:
    """``(role, component)`` of the recipe's architecture, loss, augmentation and callbacks:
    the components whose declarations decide ``train.cuda_graph`` (``capturable``) and
    ``train.population`` (``stackable``). Those whose role is in ``built`` are built with
    their options (cheap), because a declaration may depend on them (a loss's extra passes,
    ``bce`` with ``r1_gamma``); the class stands in for one whose options do not build
    (they are reported as problems of their own)."""
    sections = [("model", "architecture", resolved["model"]), ("loss", "loss", resolved["loss"])]
    sections += [("augment", "augmentation", resolved["augment"])]
    sections += [("callback", "callback", spec) for spec in resolved["callbacks"]]
    parts: list[tuple[str, object]] = []
    for role, kind, spec in sections:
        name, options = split_name(spec)
        cls = registry.get(kind, name)
        component: object = cls
        if role in built:
            try:
                component = cls(**options)
            except Exception:  # noqa: BLE001 - an option problem is reported elsewhere
                pass
        parts.append((role, component))
    return parts


def built_components(resolved: dict[str, Any], registry: Registry) -> list[tuple[str, object]]:
    """As :func:`recipe_components`, every component built with its options where they build."""
    return recipe_components(resolved, registry, built=("model", "loss", "augment", "callback"))


def schedule_names(resolved: dict[str, Any]) -> list[str]:
    """The ``optim.<network>.schedule`` names of a resolved recipe (``constant`` when unset)."""
    return [network.get("schedule", {}).get("name", "constant") for network in resolved["optim"].values()]


def expected_device_type(device: str) -> str:
    """The device type a recipe's ``device`` will select here (``auto``: cuda, then mps, then cpu)."""
    if device != "auto":
        return device.partition(":")[0]
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "mps" if torch.backends.mps.is_available() else "cpu"


def capture_problems(
    config: RecipeModel, resolved: dict[str, Any], registry: Registry, sources: Sources
) -> list[Problem]:
    """``train.cuda_graph: on`` that this recipe cannot honour: one problem per reason.
    The run applies the same policy (:func:`ganzoo.api.capture.capture_decision`) once it
    knows the process group and every callback it attaches."""
    if config.train.cuda_graph != "on":
        return []
    decision = capture_decision(
        "on",
        device_type=expected_device_type(config.device),
        distributed=False,
        compile=config.train.compile,
        precision=config.train.precision,
        schedules=schedule_names(resolved),
        components=recipe_components(resolved, registry),
    )
    return decision.problems(sources.of("train.cuda_graph"))


# --------------------------------------------------------------------------- populations

MEMBER_KEYS = ("seed", "optim.")
"""What members of one population may differ in: their seed and their optimisers' options
(the batched step runs one architecture and one loss for all of them)."""


def population_problems(
    config: RecipeModel, resolved: dict[str, Any], registry: Registry, sources: Sources
) -> list[Problem]:
    """``train.population`` that this recipe cannot honour: its settings, its components,
    and ``train.population_values`` (keys members may differ in, K values each). Whether each
    member's values make a valid recipe is :func:`ganzoo.recipe.population.members`' to say,
    once these problems are out of the way (``ganzoo check`` and ``ganzoo run`` ask it)."""
    train, problems = config.train, []
    where = sources.of("train.population")
    for reason in population_refusals(
        members=train.population,
        compile=train.compile,
        cuda_graph=train.cuda_graph,
        distributed=False,
        components=built_components(resolved, registry) if train.population > 1 else [],  # one run: nothing to build
    ):
        problems.append(Problem(where, "train.population", reason))
    for key, values in train.population_values.items():
        at = f"train.population_values.{key}"
        if train.population == 1:
            problems.append(Problem(sources.of(at), at, "member values need train.population of 2 or more"))
        elif not (key == MEMBER_KEYS[0] or key.startswith(MEMBER_KEYS[1])):
            problems.append(
                Problem(
                    sources.of(at),
                    at,
                    "members may differ in seed and optim.* keys only (one architecture, loss and data serve them all)",
                )
            )
        elif len(values) != train.population:
            problems.append(
                Problem(sources.of(at), at, f"{len(values)} value(s) for a population of {train.population}")
            )
    return problems
