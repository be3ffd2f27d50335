"""Trained generators loaded back from run folders and checkpoints, and what they draw.

Sampling is seeded and never touches the global random streams: the same seed gives the
same samples, whether from ``ganzoo sample``, ``ganzoo eval`` or an evaluation during
training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Literal, Optional

import torch

from ganzoo.checkpoint import CheckpointError, atomic_write, latest_checkpoint
from ganzoo.components import Architecture, Data, DataInfo
from ganzoo.data import to_model_range, to_uint8
from ganzoo.devices import select_device
from ganzoo.errors import GanzooError
from ganzoo.recipe import Recipe, load_recipe, saved_recipe
from ganzoo.registry import Registry
from ganzoo.weights import FILE as WEIGHTS_FILE
from ganzoo.weights import check_fits, generator_weights, load_weights, saved_data_info

MAX_PNG_IMAGES = 10_000
"""Most images ``ganzoo sample`` draws into one PNG (``--grid``, ``--interpolate``, ``--vary``):
a 100x100 grid, 6,600 pixels square for 64x64 images."""
MAX_NPZ_BYTES = 2**30
"""Most bytes of samples ``ganzoo sample --n`` keeps in memory and writes (uint8 images or
float32 points): 1 GiB, e.g. 1,369,568 MNIST digits or 87,381 RGB images of 64x64."""


def check_png_request(images: int, what: str) -> None:
    """Refuse (``ValueError``) a picture of more than :data:`MAX_PNG_IMAGES` images, before any is drawn."""
    if images > MAX_PNG_IMAGES:
        raise ValueError(f"{what} asks for {images:,} images in one PNG; the limit is {MAX_PNG_IMAGES:,}")


def check_npz_request(n: int, info: DataInfo) -> None:
    """Refuse (``ValueError``) ``n`` samples of ``info``'s shape over :data:`MAX_NPZ_BYTES`, before any is drawn."""
    values = n
    for size in info.shape:
        values *= size
    size = values * (1 if len(info.shape) == 3 else 4)
    if size > MAX_NPZ_BYTES:
        most = MAX_NPZ_BYTES // max(1, size // n)
        raise ValueError(
            f"--n {n:,} samples of shape {tuple(info.shape)} take {size / 2**30:,.1f} GiB; the limit "
            f"is {MAX_NPZ_BYTES // 2**30} GiB ({most:,} samples of this model); draw several files "
            f"with different --seed"
        )


@dataclass
class TrainedModel:
    """A generator in eval mode with everything needed to sample from it."""

    folder: Path
    """The run folder."""
    source: Path
    """The file the weights came from (``weights.pt`` or a checkpoint)."""
    recipe: Recipe
    architecture: Architecture
    generator: torch.nn.Module
    info: DataInfo
    step: int
    device: torch.device
    weights: str = "trained"
    """Which weights the generator holds: ``trained``, or the callback that kept the
    weights to sample from (``ema``)."""


def load_dataset(recipe: Recipe, registry: Registry, **overrides: object) -> Data:
    """The recipe's dataset, loaded (``overrides`` replace some of its options)."""
    name, options = recipe.component("data")
    return registry.get("dataset", name)(**{**options, **overrides}).load()


def load_split(recipe: Recipe, registry: Registry, split: str) -> Optional[Data]:
    """The recipe's dataset with ``split`` (``"test"``) in place of its own, or None when
    the dataset has no ``split`` option or that split cannot be loaded."""
    name, _ = recipe.component("data")
    if "split" not in registry.get("dataset", name).Options.model_fields:
        return None
    try:
        return load_dataset(recipe, registry, split=split)
    except (GanzooError, ValueError):
        return None


PREVIEW_PAIRS = 8
"""How many (condition, output, target) rows a sample grid of paired data shows."""


def held_out(recipe: Recipe, registry: Registry, data: Optional[Data] = None) -> Data:
    """The pairs to show and measure a translator on: the dataset's test split when it has
    one (and the recipe does not train on it), else the training data (``data``, or loaded)."""
    test = load_split(recipe, registry, "test") if recipe.component("data")[1].get("split") != "test" else None
    if test is not None and test.condition is not None:
        return test
    return data if data is not None else load_dataset(recipe, registry)


def preview_pairs(
    recipe: Recipe, registry: Registry, data: Data, n: int = PREVIEW_PAIRS
) -> Optional[tuple[torch.Tensor, torch.Tensor]]:
    """For paired data (image conditions): the first ``n`` ``(conditions, targets)`` of the
    held-out pairs, in the model range on the CPU, for the sample grids. None for any
    other data."""
    if data.condition_kind != "images":
        return None
    pairs = held_out(recipe, registry, data)
    return to_model_range(torch.as_tensor(pairs.condition)[:n]), to_model_range(pairs.samples[:n])


def load_trained(
    path: Path,
    registry: Registry,
    overrides: Iterable[str] = (),
    device: Optional[torch.device] = None,
    *,
    trained: bool = False,
) -> TrainedModel:
    """The generator of a run folder (its ``weights.pt``, else its newest checkpoint) or of
    one checkpoint file inside a run folder. ``overrides`` change the saved recipe
    (``data.root=...`` when the data moved).

    When the run kept other weights to sample from (an EMA of G), those are loaded, unless
    ``trained`` asks for the trained weights."""
    path = Path(path)
    if path.is_dir():
        folder = path
        saved_recipe(folder)
        source = folder / WEIGHTS_FILE
        if not source.is_file():
            try:
                source, _, _ = latest_checkpoint(folder)
            except CheckpointError:
                raise GanzooError(
                    f"{folder} has neither weights.pt nor a loadable checkpoint: nothing to sample "
                    f"from (an unfinished run? resume it with ganzoo run --resume {folder})"
                ) from None
    elif path.is_file():
        source = path
        folder = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    else:
        raise GanzooError(f"{path}: no such run folder or checkpoint")
    recipe = load_recipe(saved_recipe(folder), registry, overrides)
    state = load_weights(source)
    weights = state["trainer"] if "trainer" in state else state
    name, options = recipe.component("model")
    architecture = registry.get("architecture", name)(**options)
    saved_info = state.get("data_info")
    if saved_info:
        info = saved_data_info(saved_info, source)
    else:  # written before weights carried the data's shape: ask the dataset
        info = load_dataset(recipe, registry).info
    device = device or select_device(recipe.config.device)
    generator = architecture.build_generator(info)
    kind, generator_state = generator_weights(weights, trained)
    check_fits(generator, generator_state, "generator", source)
    try:
        generator.load_state_dict(generator_state)
    except (KeyError, RuntimeError) as error:
        raise GanzooError(
            f"{source} does not hold a generator for the recipe's model {name!r}: {str(error).splitlines()[0]}"
        ) from None
    step = weights.get("step", 0)
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise GanzooError(
            f"{source}: its step is not a count of steps (found {type(step).__name__}); the file is "
            f"damaged or was not written by ganzoo"
        )
    return TrainedModel(folder, source, recipe, architecture, generator.to(device).eval(), info, step, device, kind)


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
) -> torch.Tensor:
    """``n`` samples in the model range, on the CPU, from seeded latents (or ``latents``),
    with ``generator`` in eval mode (its mode is restored afterwards). ``convert`` is applied
    to each batch as it comes (:func:`to_data_format` keeps uint8 images, a quarter of the memory)."""
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
                batch = generator(z, y).float().cpu()
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


def save_npz(samples: torch.Tensor, info: DataInfo, path: Path, labels: Optional[torch.Tensor] = None) -> Path:
    """``images`` as uint8 ``(N, H, W)`` for one channel, ``(N, H, W, C)`` otherwise (or
    float ``points``), plus ``labels`` when the samples were conditioned on classes;
    written through a temporary file, so a failure leaves no half file. Images may come in
    the model range or already as uint8 (:func:`to_data_format`)."""
    import numpy

    arrays = {}
    if len(info.shape) == 3:
        images = (samples if samples.dtype == torch.uint8 else to_uint8(samples)).permute(0, 2, 3, 1)
        arrays["images"] = (images[..., 0] if images.shape[-1] == 1 else images).numpy()
    else:
        arrays["points"] = samples.float().numpy()
    if labels is not None:
        arrays["labels"] = labels.numpy()
    atomic_write(path, lambda file: numpy.savez(file, allow_pickle=True, **arrays))  # the default, named: not an array
    return path


def grid_shape(text: str) -> tuple[int, int]:
    """``"8x8"`` -> ``(8, 8)`` (rows, columns)."""
    rows, sep, cols = text.lower().partition("x")
    if not (sep and rows.isdigit() and cols.isdigit() and int(rows) > 0 and int(cols) > 0):
        raise ValueError(f"expected ROWSxCOLUMNS such as 8x8, got {text!r}")
    return int(rows), int(cols)


def sample_pairs(
    model: TrainedModel, registry: Registry, out: Path, n: int, *, seed: int, grid: bool
) -> tuple[Path, int]:
    """A translator's outputs for the first ``n`` held-out pairs: a PNG of (condition,
    output, target) rows when ``grid``, else an .npz of uint8 ``images`` (the outputs),
    ``conditions`` and ``targets``. Returns the path written and the pair count."""
    from ganzoo.visualize import save_triples

    pairs = held_out(model.recipe, registry)
    conditions = to_model_range(torch.as_tensor(pairs.condition)[:n])
    targets = to_model_range(pairs.samples[:n])
    outputs = generate(
        model.generator, model.architecture, len(conditions), device=model.device, seed=seed, labels=conditions
    )
    if grid:
        return save_triples(conditions, outputs, targets, out.with_suffix("")), len(conditions)
    import numpy

    def images(batch: torch.Tensor) -> numpy.ndarray:
        pixels = to_uint8(batch).permute(0, 2, 3, 1)
        return (pixels[..., 0] if pixels.shape[-1] == 1 else pixels).numpy()

    arrays = {"images": images(outputs), "conditions": images(conditions), "targets": images(targets)}
    atomic_write(out, lambda file: numpy.savez(file, allow_pickle=True, **arrays))  # the default, named: not an array
    return out, len(conditions)
