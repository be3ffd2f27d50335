"""``ganzoo translate``: a trained image-to-image generator applied to image files.

Each input file gives one output file of the same name (as PNG) and the same size, so a
folder of edge maps becomes a folder of digits. The generator is the run's (its
``weights.pt``, else its newest checkpoint), in eval mode; a model that was not trained on
paired data, or an image size it does not accept, is a one-line error.

Every check that can fail is made before the first output is written: the outputs are
planned (one name each, none of them an input, none inside a file), then written one by one
through :func:`ganzoo.files.safe.atomic_write`, which never follows a link planted in the
output folder.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo.api import GanzooError, to_model_range, to_uint8
from ganzoo.files.images import is_image_name, read_image
from ganzoo.files.safe import overwrites_input
from ganzoo.inference.models import TrainedModel
from ganzoo.viz.grids import save_png


def input_files(source: Path) -> list[Path]:
    """``source`` itself, or the images directly inside the folder ``source``, in name order."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if is_image_name(p) and p.is_file())
        if not files:
            raise GanzooError(f"{source} holds no images (.png, .jpg, .jpeg, .bmp, .gif, .webp, .tif, .tiff)")
        return files
    raise GanzooError(f"{source}: no such file or folder")


def plan_outputs(files: list[Path], out: Path) -> list[Path]:
    """``out/<stem>.png`` for each input, refused in one line when ``out`` is not a folder to
    write in, when two inputs would share an output, or when an output is one of the inputs."""
    if out.exists() and not out.is_dir():
        raise GanzooError(f"--out {out} is a file; give a folder for the translated images")
    blocking = next((parent for parent in out.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise GanzooError(f"--out {out} cannot be made: {blocking} is a file, not a folder")
    targets = [out / f"{path.stem}.png" for path in files]
    seen: dict[Path, Path] = {}
    for path, target in zip(files, targets):
        if target in seen:
            raise GanzooError(
                f"{seen[target].name} and {path.name} would both be written to {target}; rename one of them"
            )
        seen[target] = path
    clash = overwrites_input(targets, files)
    if clash is not None:
        raise GanzooError(
            f"the output {clash[0]} is the input {clash[1]}: translating would overwrite it; give another --out folder"
        )
    return targets


def translate_files(model: TrainedModel, files: list[Path], out: Path) -> list[Path]:
    """Translate every file into ``out/<stem>.png``; returns the paths written."""
    shape = model.info.condition_shape
    if shape is None:
        raise GanzooError(
            f"model {model.architecture.name!r} of {model.folder} was not trained on paired data: it "
            f"generates from noise and has no images to translate (use ganzoo sample)"
        )
    targets = plan_outputs(files, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, target in zip(files, targets):
            save_png(_translate(model, path, shape), target)
    except OSError as error:
        raise GanzooError(f"cannot write to {out}: {error.strerror or error}") from None
    return targets


def _translate(model: TrainedModel, path: Path, shape: tuple[int, ...]) -> torch.Tensor:
    """The generator's output for one image file, as uint8 ``(C, H, W)``."""
    image = read_image(path, shape[0])
    condition = to_model_range(image).unsqueeze(0).to(model.device)
    z = model.architecture.sample_latent(1, device=model.device, generator=torch.Generator(model.device).manual_seed(0))
    try:
        with torch.no_grad():
            output = model.generator(z, condition)
    except (RuntimeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GanzooError(
            f"{path}: the model cannot translate a {image.shape[2]}x{image.shape[1]} image (it was "
            f"trained on {shape[2]}x{shape[1]}): {reason}"
        ) from None
    if output.shape[-2:] != image.shape[-2:]:
        raise GanzooError(
            f"{path}: the model turned a {image.shape[2]}x{image.shape[1]} image into "
            f"{output.shape[-1]}x{output.shape[-2]}; it only translates {shape[2]}x{shape[1]} images"
        )
    return to_uint8(output[0].float().cpu())
