"""The wandb logger: a run mirrored to Weights & Biases (offline by default).

wandb is imported only when a run actually logs to it (it is slow to import)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, cast

from ganzoo.api import Callback, TrainingRun
from ganzoo.api.errors import GanzooError
from ganzoo.files.downloads import unreachable
from ganzoo.files.safe import atomic_write_text, read_text
from ganzoo.runfolder.layout import RunFolder

if TYPE_CHECKING:  # pragma: no cover
    from wandb import Run

    from ganzoo.recipe import WandbSection


class WandbLogger(Callback):
    """Mirrors a run to Weights & Biases, ready for a W&B report: the resolved recipe as
    config, every scalar at its step (W&B draws the curves), the sample grids as images
    (``samples``), the progress video as a video (``progress_video``), the weights as an
    artifact of type ``model``, and the final metrics in the summary.

    wandb is imported only when a run actually logs to it (it is slow to import)."""

    capturable = True  # it runs between steps and replaces no tensor the step holds

    name = "wandb"

    def __init__(self, settings: "WandbSection", folder: Path, run_name: str, config: dict[str, Any]) -> None:
        self.settings = settings
        self.folder = folder
        self.run_name = run_name
        self.config = config
        self.run: Optional[Run] = None
        self.step = 0  # the last step logged: media logged at the end go there too
        self.weights: Optional[Path] = None

    def on_train_start(self, trainer: "TrainingRun") -> None:
        self.start()

    def start(self) -> "Run":
        """Open the run's wandb run: a new one, or the one this run folder already has."""
        import wandb

        s = self.settings
        # One wandb run per ganzoo run: a resumed run continues the same wandb run id.
        id_file = RunFolder(self.folder).wandb_run_id
        run_id = read_text(id_file, limit=1000, what="wandb run id").strip() if id_file.is_file() else None
        if s.mode == "online":  # wandb itself waits 90 s for a server that cannot answer
            problem = unreachable(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai")
            if problem:
                raise GanzooError(
                    f"wandb.mode=online: {problem}. Use wandb.mode=offline and upload the run "
                    f"later with `wandb sync`, or wandb.mode=disabled"
                )
        try:
            self.run = wandb.init(
                mode=s.mode,
                project=s.project,
                entity=s.entity,
                group=s.group,
                tags=s.tags or None,
                notes=s.notes,
                name=self.run_name,
                dir=str(self.folder),
                config=self.config,
                id=run_id,
                resume="allow" if run_id else None,
                reinit="create_new",  # a population's members each hold a run, open side by side
                settings=wandb.Settings(console="off", quiet=True),
            )
            atomic_write_text(id_file, self.run.id)
        except Exception as error:  # login, network, or a bad WANDB_* variable
            raise GanzooError(
                f"wandb could not start a {s.mode} run: {error}. Use wandb.mode=offline (no account "
                f"needed) or wandb.mode=disabled, and check the WANDB_* environment variables."
            ) from None
        return self.run

    def on_log(self, trainer: "TrainingRun", scalars: dict[str, float]) -> None:
        self._log({k: v for k, v in scalars.items() if k != "step"}, int(scalars["step"]))

    def log_samples(self, step: int, path: Path) -> None:
        import wandb

        self._log({"samples": wandb.Image(str(path), caption=f"step {step}")}, step)

    def log_video(self, path: Path) -> None:
        import wandb

        fmt = cast(Literal["mp4", "gif"], path.suffix.lstrip("."))  # ganzoo.video writes one of the two
        self._log(
            {"progress_video": wandb.Video(str(path), format=fmt, caption=f"{self.run_name}: training")}, self.step
        )

    def log_evaluation(self, step: int, values: dict[str, float], extractors: list[str]) -> None:
        """``ganzoo eval`` results for the model at ``step``: under ``eval/`` in the history,
        against their own x-axis ``eval/trained_step`` (the run's own steps may already be
        past it), and in the summary with the extractors they were computed with."""
        values = {f"eval/{key}": value for key, value in values.items()}
        assert self.run is not None, "start() opens the run"
        self.run.define_metric("eval/*", step_metric="eval/trained_step")
        self.run.log({"eval/trained_step": step, **values})
        self.run.summary.update({**values, "eval/trained_step": step, "eval/extractors": "; ".join(extractors)})

    def log_weights(self, path: Path) -> None:
        """Remember ``weights.pt``; it is logged at the end."""
        self.weights = path

    def on_train_end(self, trainer: "TrainingRun") -> None:
        if self.run is None:
            return
        if self.weights is not None:
            self._log_weights(trainer)
        self.run.summary.update(
            {
                "status": trainer.status,
                "final_step": trainer.step,
                "final_epoch": trainer.last_scalars.get("epoch", 0),
                **{k: v for k, v in trainer.last_scalars.items() if k not in ("step", "epoch")},
            }
        )
        self.run.finish(exit_code=0 if trainer.status == "finished" else 1)

    def _log_weights(self, trainer: "TrainingRun") -> None:
        """The weights as a ``model`` artifact. The file is not copied: the artifact points
        at it in the run folder, and ``wandb sync`` uploads it from there."""
        import wandb

        assert self.run is not None and self.weights is not None, "on_train_end checked both"
        artifact = wandb.Artifact(
            _artifact_name(f"{self.run_name}-weights"),
            type="model",
            description=f"G, D and loss state of the ganzoo run {self.run_name} ({trainer.status} at step {trainer.step})",
            metadata={
                "step": trainer.step,
                "status": trainer.status,
                "file": self.weights.name,
                **{key: self.config[key] for key in ("data", "model", "loss") if key in self.config},
            },
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
