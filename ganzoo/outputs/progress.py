"""The progress bar: epoch, step, the standard scalars and the time left."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from tqdm import tqdm

from ganzoo.components import Callback

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.training_run import TrainingRun


# How the progress bar and the console name the standard scalars.
DISPLAY_NAMES = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "D(x)", "d_fake": "D(G(z))"}


class ProgressBar(Callback):
    """epoch, step, d_loss, g_loss, D(x), D(G(z)) and the time left (tqdm)."""
    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)

    name = "progress_bar"

    def __init__(self, disable: Optional[bool] = None) -> None:
        self.disable = disable
        self.bar: Optional[tqdm] = None

    def on_train_start(self, trainer: "TrainingRun") -> None:
        self.bar = tqdm(total=trainer.total_steps, initial=trainer.step, unit="step", dynamic_ncols=True, mininterval=0.5, disable=self.disable)
        self._describe(trainer)

    def on_step_end(self, trainer: "TrainingRun") -> None:
        self.bar.update(1)

    def on_epoch_end(self, trainer: "TrainingRun") -> None:
        self._describe(trainer)

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        self.bar.set_postfix(
            {DISPLAY_NAMES[k]: f"{v:.3f}" for k, v in scalars.items() if k in DISPLAY_NAMES}, refresh=False
        )

    def on_train_end(self, trainer: "TrainingRun") -> None:
        self.bar.close()

    def _describe(self, trainer: "TrainingRun") -> None:
        self.bar.set_description(f"epoch {trainer.display_epoch}/{trainer.epochs}", refresh=False)
