"""``subset.json``: which samples a run with ``data.limit`` trains on.

The subset is fixed by the data and ``data.subset_seed``, so a resumed run and ``ganzoo
eval`` choose it again identically; the file records it for a reader (which images did the
100-image run see?), as the indices into the dataset as loaded, with the class counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import torch

from ganzoo.files.safe import atomic_write_text


def write_subset(path: Path, indices: torch.Tensor, labels: Optional[torch.Tensor], limit: int, seed: int) -> None:
    """Record the ``indices`` that ``data.limit`` (``limit``) kept with ``data.subset_seed``
    (``seed``), and how many of each class (``labels``: the kept samples', or None)."""
    record: dict = {"limit": limit, "subset_seed": seed, "indices": indices.tolist()}
    if labels is not None:
        counts = torch.bincount(labels.to(torch.int64))
        record["class_counts"] = {str(label): int(count) for label, count in enumerate(counts.tolist()) if count}
    atomic_write_text(path, json.dumps(record) + "\n")
