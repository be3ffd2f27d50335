"""The plugin contract: the base class of every kind of component, what each receives and
returns, the hook specifications (:mod:`ganzoo.api.hookspecs`, where a reader starts) and
the errors a plugin raises. ``ganzoo`` re-exports all of it; a plugin imports ``ganzoo``.

One module per kind: :mod:`~ganzoo.api.architecture`, :mod:`~ganzoo.api.loss`,
:mod:`~ganzoo.api.data`, :mod:`~ganzoo.api.callback`, :mod:`~ganzoo.api.metrics`,
:mod:`~ganzoo.api.optim`, :mod:`~ganzoo.api.augment`; what every component is made of (:mod:`~ganzoo.api.component`);
the capture contract (:mod:`~ganzoo.api.capture`) and the population's
(:mod:`~ganzoo.api.population`), both read by :mod:`~ganzoo.api.declarations`; how logged scalars are named
(:mod:`~ganzoo.api.scalars`); layers the bundled models share (:mod:`~ganzoo.api.layers`).
"""

from ganzoo.api.architecture import Accepts, Architecture, DOutput, LatentSource, ParameterGroup
from ganzoo.api.augment import Augment
from ganzoo.api.callback import BatchSource, Callback, TrainingRun
from ganzoo.api.capture import CAPTURE_UNDECLARED, capture_refusal
from ganzoo.api.component import Component, Options
from ganzoo.api.data import ConditionKind, Data, DataInfo, DataKind, Dataset, DataSpec, to_model_range, to_uint8
from ganzoo.api.errors import DatasetError, DivergenceError, GanzooError, Problem, RecipeError
from ganzoo.api.hookspecs import Register, hookimpl
from ganzoo.api.layers import Float32Sigmoid
from ganzoo.api.loss import ExtraPass, Loss, LossOutput, Needs, StepContext
from ganzoo.api.metrics import EvalData, EvaluationError, FeatureExtractor, Features, Metric, MetricContext
from ganzoo.api.optim import Optimizer, Schedule
from ganzoo.api.population import STACK_UNDECLARED, stack_refusal
from ganzoo.api.scalars import ScalarInfo

__all__ = [
    "CAPTURE_UNDECLARED",
    "STACK_UNDECLARED",
    "Accepts",
    "Architecture",
    "Augment",
    "BatchSource",
    "Callback",
    "Component",
    "ConditionKind",
    "DOutput",
    "Data",
    "DataInfo",
    "DataKind",
    "DataSpec",
    "Dataset",
    "DatasetError",
    "DivergenceError",
    "EvalData",
    "EvaluationError",
    "ExtraPass",
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
    "ParameterGroup",
    "Problem",
    "RecipeError",
    "Register",
    "ScalarInfo",
    "Schedule",
    "StepContext",
    "TrainingRun",
    "capture_refusal",
    "hookimpl",
    "stack_refusal",
    "to_model_range",
    "to_uint8",
]
