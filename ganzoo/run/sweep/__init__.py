"""Hyperparameter sweeps on Optuna: a search space over recipe keys (:mod:`~ganzoo.run.sweep.space`),
one trial trained as ordinary runs and measured by ``ganzoo eval`` (:mod:`~ganzoo.run.sweep.trial`),
and the study that stores every trial in a database, shared by as many workers as point at
it (:mod:`~ganzoo.run.sweep.study`). Optuna is imported only when a sweep runs."""

from ganzoo.run.sweep.space import SweepSettings, load_settings
from ganzoo.run.sweep.study import run_sweep
from ganzoo.runfolder.layout import SweepFolder

__all__ = ["SweepFolder", "SweepSettings", "load_settings", "run_sweep"]
