"""Drawing samples from a trained generator: seeded latents, class labels, interpolation
strips, walks along a latent code, and the sampling options an architecture declares (a
truncation ψ). Drawing never touches the global random streams: the same seed gives the
same samples, whether from ``ganzoo sample``, ``ganzoo eval`` or an evaluation during
training."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Optional

import pydantic
import torch

from ganzoo.api import Architecture, DataInfo, GanzooError, to_uint8

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.inference.models import TrainedModel


def class_labels(
    architecture: Architecture,
    info: DataInfo,
    n: int,
    *,
    seed: int,
    class_index: Optional[int] = None,
    frequencies: Optional[torch.Tensor] = None,
) -> Optional[torch.Tensor]:
    """Labels to condition ``n`` samples on: all ``class_index`` when asked for; for a
    conditional model otherwise, drawn with the data's class ``frequencies`` (uniform when
    unknown); None for an unconditional model."""
    classes = info.num_classes
    if class_index is not None:
        if not architecture.conditional:
            raise GanzooError(
                f"model {architecture.name!r} is not class-conditional: it cannot be asked for class {class_index}"
            )
        if not classes or not 0 <= class_index < classes:
            raise GanzooError(f"class {class_index} does not exist: the data has {classes or 0} classes")
        return torch.full((n,), class_index, dtype=torch.int64)
    if not (architecture.conditional and classes):
        return None
    weights = frequencies.double() if frequencies is not None else torch.ones(classes, dtype=torch.float64)
    return torch.multinomial(weights, n, replacement=True, generator=torch.Generator().manual_seed(seed + 1))


def sampling_options(architecture: Architecture, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` sampling options, validated against what ``architecture`` declares
    (``Architecture.SamplingOptions``): the keywords to call its generator with. An option
    the architecture does not declare, or a value it refuses, is a :class:`GanzooError`
    in one line."""
    if not given:
        return {}
    declared = architecture.SamplingOptions.model_fields
    for key in given:
        if key not in declared:
            has = f"its sampling options are {', '.join(declared)}" if declared else "it declares no sampling options"
            raise GanzooError(f"model {architecture.name!r} has no {key} ({has})")
    try:
        validated = architecture.SamplingOptions(**given)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise GanzooError(f"{where}: {first['msg']} (got {first.get('input')!r})") from None
    return {key: getattr(validated, key) for key in given}


def generate(
    generator: torch.nn.Module,
    architecture: Architecture,
    n: int,
    *,
    device: torch.device,
    seed: int,
    labels: Optional[torch.Tensor] = None,
    batch_size: int = 500,
    latents: Optional[torch.Tensor] = None,
    convert: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    options: Optional[Mapping[str, Any]] = None,
) -> torch.Tensor:
    """``n`` samples in the model range, on the CPU, from seeded latents (or ``latents``),
    with ``generator`` in eval mode (its mode is restored afterwards). ``convert`` is applied
    to each batch as it comes (:func:`to_data_format` keeps uint8 images, a quarter of the
    memory). ``options`` are sampling options already checked by :func:`sampling_options`,
    passed to G as keywords."""
    noise = torch.Generator(device=device).manual_seed(seed)
    was_training = generator.training
    generator.eval()
    parts = []
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                size = min(batch_size, n - start)
                if latents is not None:
                    z = latents[start : start + size].to(device)
                else:
                    z = architecture.sample_latent(size, device=device, generator=noise)
                y = labels[start : start + size].to(device) if labels is not None else None
                batch = generator(z, y, **(options or {})).float().cpu()
                parts.append(convert(batch) if convert else batch)
    finally:
        generator.train(was_training)
    return torch.cat(parts)


def to_data_format(samples: torch.Tensor, info: DataInfo) -> torch.Tensor:
    """Generated samples as the data holds them: uint8 images, float points."""
    return to_uint8(samples) if len(info.shape) == 3 else samples.float()


def interpolation_latents(
    model: TrainedModel, strips: int, steps: int, *, seed: int, path: Literal["linear", "spherical"] = "linear"
) -> torch.Tensor:
    """``strips * steps`` latents: each strip walks from one random latent to another."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    ends = model.architecture.sample_latent(2 * strips, device=model.device, generator=generator)
    start, end = ends[:strips].flatten(1), ends[strips:].flatten(1)
    t = torch.linspace(0, 1, steps, device=model.device).view(1, steps, 1)
    a, b = start.unsqueeze(1), end.unsqueeze(1)
    if path == "spherical":  # along the great circle: keeps the norm a Gaussian latent expects
        cos = torch.nn.functional.cosine_similarity(start, end, dim=1).clamp(-1, 1).view(strips, 1, 1)
        omega = torch.acos(cos)
        sin = torch.sin(omega).clamp_min(1e-8)
        walk = torch.where(
            omega > 1e-4, (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin, (1 - t) * a + t * b
        )
    else:
        walk = (1 - t) * a + t * b
    return walk.reshape(strips * steps, *ends.shape[1:])


def code_traversal_latents(
    model: TrainedModel, code: str, strips: int, steps: int, *, seed: int
) -> tuple[torch.Tensor, int]:
    """``(latents, columns)``: ``strips`` random latents, each followed along code ``code``
    (``columns`` values: a categorical code's categories, or ``steps`` continuous values),
    the rest of the latent held fixed."""
    codes = model.architecture.latent_codes()
    if not codes:
        raise GanzooError(f"model {model.architecture.name!r} has no latent codes to vary")
    if code not in codes:
        known = ", ".join(f"{name} ({description})" for name, description in codes.items())
        raise GanzooError(f"model {model.architecture.name!r} has no latent code {code!r}; its codes: {known}")
    generator = torch.Generator(device=model.device).manual_seed(seed)
    base = model.architecture.sample_latent(strips, device=model.device, generator=generator)
    latents = model.architecture.vary_code(base, code, steps)
    return latents, len(latents) // strips
