"""Batches: index slices of one resident tensor, scaled to the model range on the device.

The order of samples reproduces ``DataLoader(dataset, batch_size, shuffle=True)`` exactly,
including the two draws its iterator makes from the global random stream each epoch, so a
ganzoo run consumes random numbers in the same order as the source article's script and
trains to the same numbers, without a per-sample transform or a worker in the hot loop.
"""

from __future__ import annotations

from typing import Iterator, Optional

import torch

from ganzoo.api import Data, GanzooError, to_model_range


def epoch_order(n: int, stream: Optional[torch.Generator] = None) -> torch.Tensor:
    """The sample indices of one shuffled epoch, drawn from the global random stream (or
    ``stream``, a population member's own) the way ``DataLoader(shuffle=True)`` with no
    generator draws them."""
    torch.empty((), dtype=torch.int64).random_(generator=stream)  # the iterator's worker base seed
    seed = int(torch.empty((), dtype=torch.int64).random_(generator=stream).item())  # the sampler's seed
    generator = torch.Generator()
    generator.manual_seed(seed)
    return torch.randperm(n, generator=generator)


class BatchStream:
    """Batches of a :class:`Data` resident on ``device``, one shuffled epoch at a time.

    In a data-parallel run (``shard=(rank, size)``), every rank draws the same order and
    keeps its own contiguous share of each global batch of ``batch_size``. A last batch
    that does not split evenly over the ranks is dropped."""

    def __init__(
        self,
        data: Data,
        batch_size: int,
        device: torch.device,
        drop_last: bool = False,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        if batch_size % shard[1]:
            raise GanzooError(
                f"train.batch_size {batch_size} (the global batch) does not split evenly over "
                f"{shard[1]} processes; choose a multiple of {shard[1]}"
            )
        self.shard = shard
        self.data = data
        """The dataset as loaded (labels, class names, mixture modes), for evaluation."""
        self.samples = data.samples.to(device)
        self.condition: Optional[torch.Tensor] = data.condition.to(device) if data.condition is not None else None
        """The per-sample condition (labels or images), resident like the samples."""
        self._scale_condition = data.condition_kind == "images"
        self.num_classes = data.num_classes
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.device = device

    @property
    def labels(self) -> Optional[torch.Tensor]:
        """The condition when it is class labels (the grids cycle through them), else None."""
        return self.condition if self.data.condition_kind == "labels" else None

    def __len__(self) -> int:
        full, rest = divmod(len(self.samples), self.batch_size)
        return full + int(bool(rest) and not self.drop_last and rest % self.shard[1] == 0)

    def new_order(self, stream: Optional[torch.Generator] = None) -> torch.Tensor:
        """The shuffled order of a new epoch (draws from the global random stream, or ``stream``)."""
        return epoch_order(len(self.samples), stream)

    def batches(self, order: torch.Tensor, start: int = 0) -> Iterator[tuple[torch.Tensor, Optional[torch.Tensor]]]:
        """``(real, condition)`` batches of an epoch in ``order``, from batch ``start`` on (a
        resumed run continues mid-epoch); real, and an image condition, are already in the
        model range; labels pass as they are."""
        order = order.to(self.device)
        rank, size = self.shard
        for i in range(start, len(self)):
            index = order[i * self.batch_size : (i + 1) * self.batch_size]
            if size > 1:
                share = len(index) // size
                index = index[rank * share : (rank + 1) * share]
            real = to_model_range(self.samples[index])
            condition = self.condition[index] if self.condition is not None else None
            if condition is not None and self._scale_condition:
                condition = to_model_range(condition)
            yield real, condition
