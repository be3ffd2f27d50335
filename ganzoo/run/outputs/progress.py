"""The progress bar: epoch, step, the standard scalars and the time left."""

from __future__ import annotations

from typing import Optional

from tqdm import tqdm

from ganzoo.api import Callback, TrainingRun
from ganzoo.api.scalars import CORE, Infos, label
from ganzoo.viz.curves import STANDARD


class ProgressBar(Callback):
    """epoch, step, d_loss, g_loss, the loss's d_real and d_fake (under its labels, such as
    D(x) and D(G(z))) and the time left (tqdm)."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "progress_bar"

    def __init__(self, disable: Optional[bool] = None, infos: Infos = CORE) -> None:
        self.disable = disable
        self.infos = infos
        self.bar: Optional[tqdm] = None
        self.run: Optional[TrainingRun] = None
        self.first_step = 0  # the step training starts from (a resumed run's is not 0)
        self.shown: dict[str, str] = {}  # the loop's scalars, and those callbacks log (run.log)

    @property
    def _live(self) -> tqdm:
        """The bar, drawn when first needed: after every callback's ``on_train_start``, so
        that the lines those print (wandb's, the step path) come above it, not through it."""
        if self.bar is None:
            assert self.run is not None, "on_train_start comes first"
            self.bar = tqdm(
                total=self.run.total_steps,
                initial=self.first_step,
                unit="step",
                dynamic_ncols=True,
                mininterval=0.5,
                disable=self.disable,
            )
            self._describe(self.run)
        return self.bar

    def on_train_start(self, trainer: "TrainingRun") -> None:
        self.run, self.first_step = trainer, trainer.step

    def on_step_end(self, trainer: "TrainingRun") -> None:
        self._live.update(1)

    def on_epoch_end(self, trainer: "TrainingRun") -> None:
        self._describe(trainer)

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        # The loop's rows show the standard scalars; a row logged by a callback (run.log) shows all of its own.
        extra = "d_loss" not in scalars
        self.shown.update(
            {
                label(k, self.infos): f"{v:.3f}"
                for k, v in scalars.items()
                if k in STANDARD or (extra and k not in ("step", "epoch"))
            }
        )
        self._live.set_postfix(self.shown, refresh=False)

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if self.bar is not None:
            self.bar.close()

    def _describe(self, trainer: "TrainingRun") -> None:
        # The epoch now under way (in on_epoch_end, display_epoch is the one that ended).
        self._live.set_description(f"epoch {min(trainer.epoch + 1, trainer.epochs)}/{trainer.epochs}", refresh=False)
