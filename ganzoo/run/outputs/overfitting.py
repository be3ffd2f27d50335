"""D's verdict on training images against images it never trains on (``train.overfitting_batch``).

With little data, D memorises its training set: its output on the training images drifts
away from its output on new real images long before the samples show it (Karras et al.,
2020, fig. 1). Logging both, on fixed batches, makes that gap a curve of its own
(``curves/overfitting.png``) beside the losses.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from ganzoo.api import Callback, Data, TrainingRun, to_model_range


def fixed_batch(data: Data, count: int, seed: int, device: torch.device) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """``count`` samples of ``data`` chosen by ``seed`` (all when it has fewer), and their
    condition, on ``device`` in the model range: what D is called with in training."""
    chosen = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:count]
    samples = to_model_range(data.samples[chosen]).to(device)
    condition = data.condition[chosen] if data.condition is not None else None
    if condition is not None and condition.dim() > 1:
        condition = to_model_range(condition)
    return samples, condition.to(device) if condition is not None else None


def first_output(out: Any) -> torch.Tensor:
    """D's score: its output, or the first of its outputs (ACGAN's source head)."""
    return out[0] if isinstance(out, tuple) else out


class OverfittingWatch(Callback):
    """Logs ``d_train`` and ``d_held_out``, D's mean raw output on a fixed batch of training
    images and on a fixed batch of real images it never trains on, at every log.

    D runs as in training (batch norm on the batch's own statistics), without augmentation
    and without leaving a trace: its buffers (running statistics, spectral norm's vectors)
    are put back and the random streams are left as they were, so that a run with the watch
    trains to the same numbers as one without."""

    capturable = True  # it runs between steps and copies D's buffers back in place

    name = "overfitting_watch"

    def __init__(self, training: Data, held_out: Data, count: int, seed: int) -> None:
        self.training, self.held_out = training, held_out
        self.count, self.seed = count, seed
        self.batches: list[tuple[torch.Tensor, Optional[torch.Tensor]]] = []

    def on_train_start(self, trainer: TrainingRun) -> None:
        self.batches = [
            fixed_batch(data, self.count, self.seed, trainer.device) for data in (self.training, self.held_out)
        ]

    def on_step_end(self, trainer: TrainingRun) -> None:
        if trainer.step % trainer.log_every == 0:
            trainer.log(self.measure(trainer.discriminator, trainer.device))

    def measure(self, discriminator: torch.nn.Module, device: torch.device) -> dict[str, float]:
        """D's mean output on each fixed batch, leaving D and the random streams as they were."""
        buffers = [(buffer, buffer.clone()) for buffer in discriminator.buffers()]
        means = []
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []), torch.no_grad():
            for samples, condition in self.batches:
                means.append(first_output(discriminator(samples, condition)).float().mean())
        for buffer, saved in buffers:
            buffer.copy_(saved)
        train, held_out = torch.stack(means).tolist()
        return {"d_train": train, "d_held_out": held_out}
