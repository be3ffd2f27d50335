"""What every run leaves behind, written by built-in callbacks.

``ProgressBar`` shows the run; ``MetricsLog`` appends scalars to ``metrics.jsonl``;
``Curves`` redraws the loss and score plots from them; ``SampleGrids`` draws the
fixed-noise samples; ``FinalWeights`` saves the networks when training finishes;
``ProgressVideo`` turns the grids into a clip at the end; ``WandbLogger`` mirrors all of it
to Weights & Biases.

Each lives in a module of its own (``progress``, ``logs``, ``grids``, ``final``,
``wandb_logger``); every name stays importable from ``ganzoo.outputs``.
"""

from ganzoo.jsonl import append_row, keep_rows, read_metrics
from ganzoo.outputs.final import FinalWeights, ProgressVideo
from ganzoo.outputs.grids import SampleGrids
from ganzoo.outputs.logs import Curves, MetricsLog
from ganzoo.outputs.progress import ProgressBar
from ganzoo.outputs.wandb_logger import WandbLogger

__all__ = [
    "Curves",
    "FinalWeights",
    "MetricsLog",
    "ProgressBar",
    "ProgressVideo",
    "SampleGrids",
    "WandbLogger",
    "append_row",
    "keep_rows",
    "read_metrics",
]
