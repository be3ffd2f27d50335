"""ganzoo: a plugin-based GAN zoo for PyTorch.

The public API for plugin authors is what this module exports, plus ``ganzoo.testing`` (the
helpers for a plugin's tests); plugins import nothing else.
"""

from ganzoo.callback import Callback, LatentSource, TrainingRun
from ganzoo.components import (
    Accepts,
    Architecture,
    Component,
    Data,
    DataInfo,
    Dataset,
    DataSpec,
    Loss,
    LossOutput,
    Needs,
    Optimizer,
    Options,
    ScalarInfo,
    Schedule,
    StepContext,
)
from ganzoo.divergence import DivergenceError
from ganzoo.errors import DatasetError, GanzooError, Problem, RecipeError
from ganzoo.hookspecs import hookimpl
from ganzoo.layers import Float32Sigmoid
from ganzoo.metrics import EvalData, EvaluationError, FeatureExtractor, Features, Metric, MetricContext
from ganzoo.network import network_timeout
from ganzoo.step_log import StepLog

__version__ = "0.1.0"

__all__ = [
    "Accepts",
    "Architecture",
    "Callback",
    "Component",
    "Data",
    "DataInfo",
    "Dataset",
    "DatasetError",
    "DataSpec",
    "DivergenceError",
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
    "Needs",
    "Optimizer",
    "Options",
    "Problem",
    "RecipeError",
    "ScalarInfo",
    "Schedule",
    "StepContext",
    "StepLog",
    "TrainingRun",
    "hookimpl",
    "network_timeout",
]
