"""What every run leaves behind, written by built-in callbacks.

``ProgressBar`` shows the run; ``MetricsLog`` appends scalars to ``metrics.jsonl``;
``Curves`` redraws the loss and score plots from them; ``SampleGrids`` draws the
fixed-noise samples; ``FinalWeights`` saves the networks when training finishes;
``ProgressVideo`` turns the grids into a clip at the end; ``WandbLogger`` mirrors all of it
to Weights & Biases.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import torch
from tqdm import tqdm

from ganzoo.checkpoint import atomic_save, atomic_write
from ganzoo.components import Callback
from ganzoo.curves import draw_curves
from ganzoo.errors import GanzooError
from ganzoo.network import unreachable
from ganzoo.video import make_video, resolve_format, sample_grids
from ganzoo.visualize import save_samples

if TYPE_CHECKING:  # pragma: no cover
    from ganzoo.recipe import VideoSection, WandbSection
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
        self._describe(trainer)

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        self.bar.set_postfix(
            {DISPLAY_NAMES[k]: f"{v:.3f}" for k, v in scalars.items() if k in DISPLAY_NAMES}, refresh=False
        )

    def on_train_end(self, trainer: "Trainer") -> None:
        self.bar.close()

    def _describe(self, trainer: "Trainer") -> None:
        self.bar.set_description(f"epoch {trainer.display_epoch}/{trainer.epochs}", refresh=False)


def read_metrics(path: Path, up_to_step: Optional[int] = None) -> list[dict[str, float]]:
    """The rows of a ``metrics.jsonl`` (those logged at or before ``up_to_step``); a line
    cut short by a crash, or being written right now, is skipped."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if up_to_step is None or row.get("step", 0) <= up_to_step:
                rows.append(row)
    return rows


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one JSON line, written (and flushed) at once."""
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(row) + "\n")


def keep_rows(path: Path, keep: Callable[[dict[str, Any]], bool]) -> None:
    """Rewrite a JSON-lines file with only the rows ``keep`` accepts (a line cut short by a
    crash is dropped), atomically."""
    rows = [row for row in read_metrics(path) if keep(row)]
    atomic_write(path, lambda file: file.write("".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")))


class MetricsLog(Callback):
    """One JSON object per logged step in ``metrics.jsonl``, flushed as it is written so
    that a crash loses nothing already logged. A resumed run first drops the rows logged
    after its checkpoint: they are logged again, identically, as training replays. An
    evaluation row (it has ``eval_n``) at the checkpoint's own step stays: the evaluation
    ran before that checkpoint was written and is not repeated."""

    name = "metrics_log"

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_start(self, trainer: "Trainer") -> None:
        if trainer.step and self.path.is_file():
            keep_rows(self.path, lambda row: row.get("step", 0) <= trainer.logged_through
                      or ("eval_n" in row and row["step"] <= trainer.step))

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        append_row(self.path, scalars)


class Curves(Callback):
    """``losses.png`` and ``scores.png`` in ``folder``, redrawn from the logged scalars as
    training goes, at most once every ``interval`` seconds, and once more at the end, so
    that the last plot holds every logged window. A redraw takes about 0.16 s on a 2-core
    CPU: at every log, it would slow a run on a fast device down noticeably."""

    name = "curves"

    def __init__(self, folder: Path, interval: float, history: Optional[list[dict[str, float]]] = None) -> None:
        self.folder = folder
        self.interval = interval
        self.rows: list[dict[str, float]] = list(history or [])  # what a resumed run logged before
        self.drawn = 0  # rows in the last drawing
        self.last_draw = -float("inf")

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        self.rows.append(scalars)
        if time.monotonic() - self.last_draw >= self.interval:
            self.draw()

    def on_train_end(self, trainer: "Trainer") -> None:
        if len(self.rows) > self.drawn:
            self.draw()

    def draw(self) -> None:
        draw_curves(self.rows, self.folder)
        self.drawn = len(self.rows)
        self.last_draw = time.monotonic()


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
        generator = trainer.sampling_generator
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
    """Saves G, D and the loss state to ``weights.pt`` when training finishes: the file to
    sample from. (An interrupted run is resumed from its checkpoints instead.)

    ``generator`` holds the weights to sample from, ``generator_source`` says which they
    are (``trained``, or the callback that keeps them, such as ``ema``), and in the latter
    case ``trained_generator`` holds the trained weights as well."""

    name = "final_weights"

    def __init__(self, folder: Path, on_saved: Optional[Callable[[Path], None]] = None) -> None:
        self.folder = folder
        self.on_saved = on_saved

    def on_train_end(self, trainer: "Trainer") -> None:
        if trainer.status != "finished":
            return
        name = "weights.pt"
        source, sampler = trainer.sampling
        state = {
            "generator": sampler.state_dict(),
            "generator_source": source,
            **({"trained_generator": trainer.generator.state_dict()} if sampler is not trainer.generator else {}),
            "discriminator": trainer.discriminator.state_dict(),
            "loss": trainer.loss.state_dict(),
            "step": trainer.step,
            "epoch": trainer.epoch,
            "status": trainer.status,
            "data_info": trainer.data_info,
        }
        path = self.folder / name
        atomic_save(state, path)  # never a half-written weights file
        if self.on_saved:
            self.on_saved(path)


class ProgressVideo(Callback):
    """At the end of a finished run, every sample grid in ``samples/`` as one clip,
    ``progress.mp4`` (or ``progress.gif``): the run's whole training in ``seconds``.

    The format is settled when the callback is built, before training starts, so that
    ``video.format=mp4`` without ffmpeg fails at once rather than after hours. A video that
    cannot be written at the end is a warning, not a failed run: the weights are already
    saved by then."""

    name = "progress_video"

    def __init__(self, folder: Path, settings: "VideoSection", progress: bool = True,
                 on_saved: Optional[Callable[[Path], None]] = None) -> None:
        self.folder = folder
        self.settings = settings
        self.progress = progress
        self.on_saved = on_saved
        self.format = resolve_format(settings.format)

    def on_train_end(self, trainer: "Trainer") -> None:
        grids = sample_grids(self.folder / "samples")
        if trainer.status != "finished" or not grids:
            return
        try:
            path = make_video(grids, self.folder / "progress", seconds=self.settings.seconds, fps=self.settings.fps,
                              format=self.format, progress=self.progress)
        except (OSError, RuntimeError, ValueError) as error:
            tqdm.write(f"ganzoo: warning: no progress video: {error}", file=sys.stderr)
            return
        if self.on_saved:
            self.on_saved(path)


class WandbLogger(Callback):
    """Mirrors a run to Weights & Biases, ready for a W&B report: the resolved recipe as
    config, every scalar at its step (W&B draws the curves), the sample grids as images
    (``samples``), the progress video as a video (``progress_video``), the weights as an
    artifact of type ``model``, and the final metrics in the summary.

    wandb is imported only when a run actually logs to it (it is slow to import)."""

    name = "wandb"

    def __init__(self, settings: "WandbSection", folder: Path, run_name: str, config: dict[str, Any]) -> None:
        self.settings = settings
        self.folder = folder
        self.run_name = run_name
        self.config = config
        self.run = None
        self.step = 0  # the last step logged: media logged at the end go there too
        self.weights: Optional[Path] = None

    def on_train_start(self, trainer: "Trainer") -> None:
        self.start()

    def start(self) -> None:
        """Open the run's wandb run: a new one, or the one this run folder already has."""
        import wandb

        s = self.settings
        # One wandb run per ganzoo run: a resumed run continues the same wandb run id.
        id_file = self.folder / "wandb" / "ganzoo-run-id"
        run_id = id_file.read_text().strip() if id_file.is_file() else None
        if s.mode == "online":  # wandb itself waits 90 s for a server that cannot answer
            problem = unreachable(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai")
            if problem:
                raise GanzooError(f"wandb.mode=online: {problem}. Use wandb.mode=offline and upload the run "
                                  f"later with `wandb sync`, or wandb.mode=disabled")
        try:
            self.run = wandb.init(
                mode=s.mode, project=s.project, entity=s.entity, group=s.group, tags=s.tags or None,
                name=self.run_name, dir=str(self.folder), config=self.config, id=run_id,
                resume="allow" if run_id else None, settings=wandb.Settings(console="off", quiet=True),
            )
            id_file.parent.mkdir(parents=True, exist_ok=True)
            id_file.write_text(self.run.id)
        except Exception as error:  # login, network, or a bad WANDB_* variable
            raise GanzooError(
                f"wandb could not start a {s.mode} run: {error}. Use wandb.mode=offline (no account "
                f"needed) or wandb.mode=disabled, and check the WANDB_* environment variables."
            ) from None

    def on_log(self, trainer: "Trainer", scalars: dict[str, float]) -> None:
        self._log({k: v for k, v in scalars.items() if k != "step"}, scalars["step"])

    def log_samples(self, step: int, path: Path) -> None:
        import wandb

        self._log({"samples": wandb.Image(str(path), caption=f"step {step}")}, step)

    def log_video(self, path: Path) -> None:
        import wandb

        fmt = path.suffix.lstrip(".")
        self._log({"progress_video": wandb.Video(str(path), format=fmt, caption=f"{self.run_name}: training")}, self.step)

    def log_evaluation(self, step: int, values: dict[str, float], extractors: list[str]) -> None:
        """``ganzoo eval`` results for the model at ``step``: under ``eval/`` in the history,
        against their own x-axis ``eval/trained_step`` (the run's own steps may already be
        past it), and in the summary with the extractors they were computed with."""
        values = {f"eval/{key}": value for key, value in values.items()}
        self.run.define_metric("eval/*", step_metric="eval/trained_step")
        self.run.log({"eval/trained_step": step, **values})
        self.run.summary.update({**values, "eval/trained_step": step, "eval/extractors": "; ".join(extractors)})

    def log_weights(self, path: Path) -> None:
        """Remember ``weights.pt``; it is logged at the end."""
        self.weights = path

    def on_train_end(self, trainer: "Trainer") -> None:
        if self.run is None:
            return
        if self.weights is not None:
            self._log_weights(trainer)
        self.run.summary.update({
            "status": trainer.status, "final_step": trainer.step, "final_epoch": trainer.last_scalars.get("epoch", 0),
            **{k: v for k, v in trainer.last_scalars.items() if k not in ("step", "epoch")},
        })
        self.run.finish(exit_code=0 if trainer.status == "finished" else 1)

    def _log_weights(self, trainer: "Trainer") -> None:
        """The weights as a ``model`` artifact. The file is not copied: the artifact points
        at it in the run folder, and ``wandb sync`` uploads it from there."""
        import wandb

        artifact = wandb.Artifact(
            _artifact_name(f"{self.run_name}-weights"), type="model",
            description=f"G, D and loss state of the ganzoo run {self.run_name} ({trainer.status} at step {trainer.step})",
            metadata={"step": trainer.step, "status": trainer.status, "file": self.weights.name,
                      **{key: self.config[key] for key in ("data", "model", "loss") if key in self.config}},
        )
        artifact.add_file(str(self.weights.resolve()), name=self.weights.name, policy="immutable")
        self.run.log_artifact(artifact, aliases=["latest", trainer.status])

    def _log(self, values: dict[str, Any], step: int) -> None:
        if self.run is not None:
            self.step = max(self.step, step)
            self.run.log(values, step=self.step)

    @property
    def run_folder(self) -> Optional[Path]:
        """The offline run's own folder (what ``wandb sync`` takes), not its ``files/``."""
        return Path(self.run.dir).parent if self.run is not None else None


def _artifact_name(name: str) -> str:
    """W&B artifact names allow letters, digits, ``-``, ``_`` and ``.`` only."""
    return re.sub(r"[^\w.-]", "-", name)
