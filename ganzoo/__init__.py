"""ganzoo: a plugin-based GAN zoo for PyTorch.

The public API for plugin authors is what this module exports; plugins import nothing else.
"""

from ganzoo.components import (
    Architecture,
    Callback,
    Component,
    Data,
    DataInfo,
    Dataset,
    Loss,
    LossOutput,
    Optimizer,
    Options,
    ScalarInfo,
    Schedule,
    StepContext,
)
from ganzoo.errors import DatasetError, GanzooError
from ganzoo.hookspecs import hookimpl
from ganzoo.layers import Float32Sigmoid
from ganzoo.metrics import EvalData, EvaluationError, FeatureExtractor, Features, Metric, MetricContext
from ganzoo.training_run import LatentSource, TrainingRun

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "Callback",
    "Component",
    "Data",
    "DataInfo",
    "Dataset",
    "DatasetError",
    "EvalData",
    "EvaluationError",
    "FeatureExtractor",
    "Features",
    "Float32Sigmoid",
    "GanzooError",
    "LatentSource",
    "Loss",
    "LossOutput",
    "Metric",
    "MetricContext",
    "Optimizer",
    "Options",
    "ScalarInfo",
    "Schedule",
    "StepContext",
    "TrainingRun",
    "hookimpl",
]

