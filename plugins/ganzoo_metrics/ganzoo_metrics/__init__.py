"""ganzoo-metrics: how good are the samples? Shaped like a third-party plugin package.

Metrics come from torch-fidelity, the library papers use, applied to features from one of
two extractors: the standard InceptionV3 (weights downloaded once, or pointed at locally)
and a small classifier that ganzoo trains on the run's own labelled dataset, which works
with no network at all.
"""

import ganzoo
from ganzoo_metrics.extractors import DatasetClassifier, InceptionV3
from ganzoo_metrics.memorization import Memorization
from ganzoo_metrics.metrics import FID, KID, ClassCoverage, InceptionScore, ModeCoverage, PrecisionRecall
from ganzoo_metrics.stacked import MnistChannels, StackedModes


@ganzoo.hookimpl
def register_metrics(register):
    for metric in (FID, KID, InceptionScore, PrecisionRecall, ClassCoverage, ModeCoverage, StackedModes, Memorization):
        register(metric)


@ganzoo.hookimpl
def register_feature_extractors(register):
    register(DatasetClassifier)
    register(InceptionV3)
    register(MnistChannels)
