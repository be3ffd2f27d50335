"""``ganzoo translate``: a trained image-to-image generator applied to image files.

Each input file gives one output file of the same name (as PNG) and the same size, so a
folder of edge maps becomes a folder of digits. The generator is the run's (its
``weights.pt``, else its newest checkpoint), in eval mode; a model that was not trained on
paired data, or an image size it does not accept, is a one-line error.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo.data import to_model_range, to_uint8
from ganzoo.errors import GanzooError
from ganzoo.sampling import TrainedModel

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def input_files(source: Path) -> list[Path]:
    """``source`` itself, or the images directly inside the folder ``source``, in name order."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise GanzooError(f"{source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files
    raise GanzooError(f"{source}: no such file or folder")


def read_image(path: Path, channels: int) -> torch.Tensor:
    """uint8 ``(C, H, W)`` with the channels the model was trained on (greyscale or RGB)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            converted = image.convert("L" if channels == 1 else "RGB")
            width, height = converted.size
            pixels = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
    except OSError as error:
        raise GanzooError(f"{path} cannot be read as an image: {error}") from None
    return pixels.view(height, width, -1).permute(2, 0, 1).contiguous()


def translate_files(model: TrainedModel, files: list[Path], out: Path) -> list[Path]:
    """Translate every file into ``out/<stem>.png``; returns the paths written."""
    from PIL import Image

    shape = model.info.condition_shape
    if shape is None:
        raise GanzooError(
            f"model {model.architecture.name!r} of {model.folder} was not trained on paired data: it "
            f"generates from noise and has no images to translate (use ganzoo sample)"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in files:
        image = read_image(path, shape[0])
        condition = to_model_range(image).unsqueeze(0).to(model.device)
        z = model.architecture.sample_latent(
            1, device=model.device, generator=torch.Generator(model.device).manual_seed(0)
        )
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
        pixels = to_uint8(output[0].float().cpu()).permute(1, 2, 0)
        target = out / f"{path.stem}.png"
        Image.fromarray((pixels[..., 0] if pixels.shape[-1] == 1 else pixels).numpy()).save(target)
        written.append(target)
    return written
