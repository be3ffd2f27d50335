"""The training engine: the loop (:mod:`~ganzoo.train.loop`), one step of it
(:mod:`~ganzoo.train.step`) and its capture as a CUDA graph (:mod:`~ganzoo.train.capture`),
the log window that sums scalars on the device (:mod:`~ganzoo.train.log_window`), the
divergence watch (:mod:`~ganzoo.train.divergence`), the batches (:mod:`~ganzoo.train.batches`),
every random stream (:mod:`~ganzoo.train.rng`), data parallelism
(:mod:`~ganzoo.train.distributed`), the device (:mod:`~ganzoo.train.devices`), what the
loop does with callbacks (:mod:`~ganzoo.train.callbacks`), and K runs trained in one
batched step (:mod:`~ganzoo.train.population`).

Nothing here reads a recipe or knows a plugin: :mod:`ganzoo.run` builds what it trains."""

from ganzoo.train.batches import BatchStream
from ganzoo.train.capture import CapturedStep
from ganzoo.train.loop import Trainer
from ganzoo.train.step import TrainingStep

__all__ = ["BatchStream", "CapturedStep", "Trainer", "TrainingStep"]
