"""What every run leaves behind, written by built-in callbacks that the run attaches.

``ProgressBar`` shows the run; ``MetricsLog`` appends scalars to ``metrics.jsonl``;
``OverfittingWatch`` logs D's output on training and on held-out images; ``Curves``
redraws the loss and score plots from them; ``SampleGrids`` draws the
fixed-noise samples; ``EvaluateEvery`` measures the generator every ``eval.every`` epochs;
``Checkpointer`` saves the whole training state; ``FinalWeights`` saves the networks when
training finishes; ``ProgressVideo`` turns the grids into a clip at the end; ``WandbLogger``
mirrors all of it to Weights & Biases. Where each file goes is :mod:`ganzoo.runfolder.layout`'s.
"""

from ganzoo.api import Callback
from ganzoo.recipe import RecipeModel
from ganzoo.run.outputs.checkpoints import Checkpointer
from ganzoo.run.outputs.evaluate import EvaluateEvery
from ganzoo.run.outputs.final import FinalWeights, ProgressVideo
from ganzoo.run.outputs.grids import SampleGrids
from ganzoo.run.outputs.logs import Curves, MetricsLog
from ganzoo.run.outputs.overfitting import OverfittingWatch
from ganzoo.run.outputs.progress import ProgressBar
from ganzoo.run.outputs.wandb_logger import WandbLogger
from ganzoo.train.distributed import World


def output_classes(config: RecipeModel, world: World) -> list[type[Callback]]:
    """The outputs a run with the settings ``config`` attaches on this rank (rank 0 writes
    the run folder; the others attach none): the capture decision covers them too."""
    if not world.is_main:
        return []
    outputs: list[type[Callback]] = [ProgressBar, MetricsLog, Curves, SampleGrids, Checkpointer, FinalWeights]
    outputs += [OverfittingWatch] if config.train.overfitting_batch else []
    outputs += [ProgressVideo] + ([EvaluateEvery] if config.eval.every or config.eval.every_steps else [])
    return outputs + ([WandbLogger] if config.wandb.mode != "disabled" else [])


__all__ = [
    "Checkpointer",
    "Curves",
    "EvaluateEvery",
    "FinalWeights",
    "MetricsLog",
    "OverfittingWatch",
    "ProgressBar",
    "ProgressVideo",
    "SampleGrids",
    "WandbLogger",
    "output_classes",
]
