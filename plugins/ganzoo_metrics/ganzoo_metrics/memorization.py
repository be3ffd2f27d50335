"""Memorisation: does the generator copy its training images?

A generator trained on a few hundred images can reproduce them, and then scores well
against any real reference: FID cannot tell a copy from a new digit. This metric measures,
in an extractor's feature space, how far each generated sample lies from its nearest
training image, and compares that with how far real images the generator never saw lie
from theirs (Meehan et al., 2020, and the "nearest neighbour" check of the GAN papers, made
a number). New digits sit about as far from the training set as held-out real digits do:
a ratio near 1. Copies sit closer: a ratio below 1, most clearly among the closest samples,
which is why the ratio compares a low quantile of the two distributions.
"""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import Field

import ganzoo
from ganzoo_metrics.metrics import EXTRACTOR, _image_only

CHUNK = 1024
"""Queries per block of the distance matrix (10,000 x 60,000 distances do not fit at once)."""


def nearest_distances(queries: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """Each query's Euclidean distance to its nearest reference, in float64 (the distances
    that matter most are the smallest, where float32's cancellation would blur them)."""
    references = references.double()
    parts = [
        torch.cdist(queries[i : i + CHUNK].double(), references).min(dim=1).values
        for i in range(0, len(queries), CHUNK)
    ]
    return torch.cat(parts)


class Memorization(ganzoo.Metric):
    """Copying: generated samples' distance to their nearest training image against held-out real images', in a feature space; below 1 means closer than new real data, as copies are."""

    name = "memorization"

    class Options(ganzoo.Options):
        extractor: str = EXTRACTOR
        quantile: float = Field(
            0.1,
            gt=0,
            le=1,
            description="copy_ratio compares this quantile of the two distance distributions (the closest samples)",
        )

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _image_only(data, self.options.extractor)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        name = ctx.resolve_extractor(self.options.extractor)
        training = ctx.features(name, "trained_on").features
        fake = nearest_distances(ctx.features(name, "fake").features, training)
        results = {f"nn_fake/{name}": float(fake.median())}
        if ctx.held_out is not None:  # no real image the run never saw: the distances alone
            held_out = nearest_distances(ctx.features(name, "held_out").features, training)
            q = self.options.quantile
            results[f"nn_held_out/{name}"] = float(held_out.median())
            results[f"copy_ratio/{name}"] = float(fake.quantile(q) / held_out.quantile(q).clamp(min=1e-12))
        return results
