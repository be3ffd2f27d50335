"""The fixed-noise sample grids, drawn every ``train.sample_every`` steps and at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import torch

from ganzoo.api import Callback, TrainingRun
from ganzoo.viz.grids import save_samples, save_triples


class SampleGrids(Callback):
    """Samples from one fixed batch of noise every ``every`` steps and at the end, so that
    the grids show the same latent points improving. The noise comes from its own random
    generator: drawing it does not change the training random stream. With labelled data,
    sample i is conditioned on class ``i % num_classes`` (so each grid row cycles through
    the classes); unconditional models ignore the labels. With paired data (image
    conditions), ``pairs`` holds fixed ``(conditions, targets)`` (held-out ones, where the
    dataset has a test split) and each grid row is a (condition, output, target) triple."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "sample_grids"

    def __init__(
        self,
        folder: Path,
        every: int,
        count: int,
        seed: int,
        real: Optional[torch.Tensor],
        on_saved: Optional[Callable[[int, Path], None]] = None,
        pairs: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
    ) -> None:
        self.folder = folder
        self.every = every
        self.count = count if pairs is None else len(pairs[0])
        self.seed = seed
        self.real = real
        self.on_saved = on_saved
        self.pairs = pairs
        self.noise: Optional[torch.Tensor] = None
        self.labels: Optional[torch.Tensor] = None
        self.last_step = -1

    def on_train_start(self, trainer: "TrainingRun") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        generator = torch.Generator(device=trainer.device).manual_seed(self.seed)
        self.noise = trainer.architecture.sample_latent(self.count, device=trainer.device, generator=generator)
        classes = trainer.batches.num_classes
        if self.pairs is not None:
            self.labels = self.pairs[0].to(trainer.device)
        elif trainer.batches.labels is not None and classes:
            self.labels = torch.arange(self.count, device=trainer.device) % classes

    def on_step_end(self, trainer: "TrainingRun") -> None:
        if trainer.step % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if trainer.status == "finished" and trainer.step != self.last_step:
            self.save(trainer)

    def save(self, trainer: "TrainingRun") -> Path:
        generator = trainer.sampling_generator
        was_training = generator.training
        generator.eval()
        with torch.no_grad():
            samples = generator(self.noise, self.labels).cpu()
        generator.train(was_training)
        stem = self.folder / f"step_{trainer.step:07d}"
        if self.pairs is not None:
            path = save_triples(self.pairs[0], samples, self.pairs[1], stem)
        else:
            path = save_samples(samples, stem, real=self.real, title=f"step {trainer.step}")
        self.last_step = trainer.step
        if self.on_saved:
            self.on_saved(trainer.step, path)
        return path
