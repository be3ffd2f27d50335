"""Using a trained generator: loading it back from a run folder (:mod:`~ganzoo.inference.models`),
drawing from it (:mod:`~ganzoo.inference.draw`), writing what it draws
(:mod:`~ganzoo.inference.files`), translating image files (:mod:`~ganzoo.inference.translate`),
and measuring it (:mod:`~ganzoo.inference.evaluation`, :mod:`~ganzoo.inference.records`)
on the data of :mod:`~ganzoo.inference.data`."""

from ganzoo.inference.data import held_out, load_dataset, load_split, preview_pairs
from ganzoo.inference.draw import (
    class_labels,
    code_traversal_latents,
    generate,
    interpolation_latents,
    sampling_options,
    to_data_format,
)
from ganzoo.inference.files import check_npz_request, check_png_request, grid_shape, sample_pairs, save_npz
from ganzoo.inference.models import TrainedModel, load_trained

__all__ = [
    "TrainedModel",
    "check_npz_request",
    "check_png_request",
    "class_labels",
    "code_traversal_latents",
    "generate",
    "grid_shape",
    "held_out",
    "interpolation_latents",
    "load_dataset",
    "load_split",
    "load_trained",
    "preview_pairs",
    "sample_pairs",
    "sampling_options",
    "save_npz",
    "to_data_format",
]
