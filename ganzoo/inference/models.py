"""Trained generators loaded back from run folders and checkpoints, in eval mode, with
everything needed to draw from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import torch

from ganzoo.api import Architecture, DataInfo, GanzooError
from ganzoo.inference.data import load_dataset
from ganzoo.plugins.registry import Registry
from ganzoo.recipe import Recipe, load_recipe
from ganzoo.runfolder.checkpoints import CheckpointError, latest_checkpoint
from ganzoo.runfolder.layout import RunFolder
from ganzoo.runfolder.weights import check_fits, generator_weights, load_weights, saved_data_info
from ganzoo.train.devices import select_device


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
        RunFolder(folder).saved_recipe()
        source = RunFolder(folder).weights
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
    recipe = load_recipe(RunFolder(folder).saved_recipe(), registry, overrides)
    state = load_weights(source)
    weights = state["trainer"] if "trainer" in state else state
    architecture = recipe.build("model", registry)
    saved_info = state.get("data_info")
    if saved_info is not None:
        info = saved_data_info(saved_info, source)
    else:  # a file that does not carry the data's shape: ask the dataset
        info = load_dataset(recipe, registry).info
    device = device or select_device(recipe.config.device)
    generator = architecture.build_generator(info)
    kind, generator_state = generator_weights(weights, trained)
    check_fits(generator, generator_state, "generator", source)
    try:
        generator.load_state_dict(generator_state)
    except (KeyError, RuntimeError) as error:
        raise GanzooError(
            f"{source} does not hold a generator for the recipe's model {architecture.name!r}: "
            f"{str(error).splitlines()[0]}"
        ) from None
    step = weights.get("step", 0)
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise GanzooError(
            f"{source}: its step is not a count of steps (found {type(step).__name__}); the file is "
            f"damaged or was not written by ganzoo"
        )
    return TrainedModel(folder, source, recipe, architecture, generator.to(device).eval(), info, step, device, kind)
