"""What every run leaves behind, written by built-in callbacks.

``ProgressBar`` shows the run; ``MetricsLog`` appends scalars to ``metrics.jsonl``;
``SampleGrids`` draws the fixed-noise samples; ``WandbLogger`` mirrors all of it to
Weights & Biases; ``FinalWeights`` saves the networks, also when a run is interrupted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import torch
from tqdm import tqdm

from ganzoo.components import Callback
from ganzoo.errors import GanzooError
from ganzoo.visualize import save_samples

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.recipe import WandbSection
    from ganzoo.trainer import Trainer

# How the progress bar and the console name the standard scalars.
DISPLAY_NAMES = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "D(x)", "d_fake": "D(G(z))"}


class ProgressBar(Callback):
    """epoch, step, d_loss, g_loss, D(x), D(G(z)) and the time left (tqdm)."""

    name = "progress_bar"

    def __init__(self, disable: Optional[bool] = None) -> None:
        self.disable = disable
        self.bar: Optional[tqdm] = None

    def on_train_start(self, trainer: "Trainer") -> None:
        self.bar = tqdm(total=trainer.total_steps, initial=trainer.step, unit="step", dynamic_ncols=True, mininterval=0.5, disable=self.disable)
        self._describe(trainer)

    def on_step_end(self, trainer: "Trainer") -> None:
        self.bar.update(1)

    def on_epoch_end(self, trainer: "Trainer") -> None:
        self._describe(trainer, finished=1)

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        self.bar.set_postfix(
            {DISPLAY_NAMES[k]: f"{v:.3f}" for k, v in scalars.items() if k in DISPLAY_NAMES}, refresh=False
        )

    def on_train_end(self, trainer: "Trainer") -> None:
        self.bar.close()

    def _describe(self, trainer: "Trainer", finished: int = 0) -> None:
        epoch = min(trainer.epoch + 1 + finished, trainer.epochs)
        self.bar.set_description(f"epoch {epoch}/{trainer.epochs}", refresh=False)


class MetricsLog(Callback):
    """One JSON object per logged step in ``metrics.jsonl``, flushed as it is written so
    that a crash loses nothing already logged."""

    name = "metrics_log"

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(scalars) + "\n")


class SampleGrids(Callback):
    """Samples from one fixed batch of noise every ``every`` steps and at the end, so that
    the grids show the same latent points improving. The noise comes from its own random
    generator: drawing it does not change the training random stream. With labelled data,
    sample i is conditioned on class ``i % num_classes`` (so each grid row cycles through
    the classes); unconditional models ignore the labels."""

    name = "sample_grids"

    def __init__(self, folder: Path, every: int, count: int, seed: int, real: torch.Tensor,
                 on_saved: Optional[Callable[[int, Path], None]] = None) -> None:
        self.folder = folder
        self.every = every
        self.count = count
        self.seed = seed
        self.real = real
        self.on_saved = on_saved
        self.noise: Optional[torch.Tensor] = None
        self.labels: Optional[torch.Tensor] = None
        self.last_step = -1

    def on_train_start(self, trainer: "Trainer") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        generator = torch.Generator(device=trainer.device).manual_seed(self.seed)
        self.noise = trainer.architecture.sample_latent(self.count, device=trainer.device, generator=generator)
        classes = trainer.batches.num_classes
        if trainer.batches.labels is not None and classes:
            self.labels = torch.arange(self.count, device=trainer.device) % classes

    def on_step_end(self, trainer: "Trainer") -> None:
        if trainer.step % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer: "Trainer") -> None:
        if trainer.status == "finished" and trainer.step != self.last_step:
            self.save(trainer)

    def save(self, trainer: "Trainer") -> Path:
        generator = trainer.generator
        was_training = generator.training
        generator.eval()
        with torch.no_grad():
            samples = generator(self.noise, self.labels).cpu()
        generator.train(was_training)
        path = save_samples(samples, self.folder / f"step_{trainer.step:07d}", real=self.real, title=f"step {trainer.step}")
        self.last_step = trainer.step
        if self.on_saved:
            self.on_saved(trainer.step, path)
        return path


class FinalWeights(Callback):
    """Saves G, D and the loss state to ``weights.pt`` at the end of the run, and to
    ``interrupted.pt`` when the run stops early, so no training is lost."""

    name = "final_weights"

    def __init__(self, folder: Path, on_saved: Optional[Callable[[Path], None]] = None) -> None:
        self.folder = folder
        self.on_saved = on_saved

    def on_train_end(self, trainer: "Trainer") -> None:
        name = "weights.pt" if trainer.status == "finished" else "interrupted.pt"
        state = {
            "generator": trainer.generator.state_dict(),
            "discriminator": trainer.discriminator.state_dict(),
            "loss": trainer.loss.state_dict(),
            "step": trainer.step,
            "epoch": trainer.epoch,
            "status": trainer.status,
        }
        path = self.folder / name
        temporary = path.with_suffix(".tmp")
        torch.save(state, temporary)
        os.replace(temporary, path)  # never a half-written weights file
        if self.on_saved:
            self.on_saved(path)


class WandbLogger(Callback):
    """Logs the resolved recipe as config, every scalar with its step, and the sample grids.

    wandb is imported only when a run actually logs to it (it is slow to import)."""

    name = "wandb"

    def __init__(self, settings: "WandbSection", folder: Path, run_name: str, config: dict[str, Any]) -> None:
        self.settings = settings
        self.folder = folder
        self.run_name = run_name
        self.config = config
        self.run = None

    def on_train_start(self, trainer: "Trainer") -> None:
        import wandb

        s = self.settings
        try:
            self.run = wandb.init(
                mode=s.mode, project=s.project, entity=s.entity, group=s.group, tags=s.tags or None,
                name=self.run_name, dir=str(self.folder), config=self.config,
                settings=wandb.Settings(console="off", quiet=True),
            )
        except Exception as error:  # login, network, or a bad WANDB_* variable
            raise GanzooError(
                f"wandb could not start a {s.mode} run: {error}. Use wandb.mode=offline (no account "
                f"needed) or wandb.mode=disabled, and check the WANDB_* environment variables."
            ) from None

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        self.run.log({k: v for k, v in scalars.items() if k != "step"}, step=scalars["step"])

    def log_samples(self, step: int, path: Path) -> None:
        import wandb

        if self.run is not None:
            self.run.log({"samples": wandb.Image(str(path), caption=f"step {step}")}, step=step)

    def on_train_end(self, trainer: "Trainer") -> None:
        if self.run is None:
            return
        self.run.summary.update({"status": trainer.status, "final_step": trainer.step, **{
            k: v for k, v in trainer.last_scalars.items() if k not in ("step", "epoch")}})
        self.run.finish(exit_code=0 if trainer.status == "finished" else 1)

    @property
    def run_folder(self) -> Optional[Path]:
        """The offline run's own folder (what ``wandb sync`` takes), not its ``files/``."""
        return Path(self.run.dir).parent if self.run is not None else None
