"""Runs: a recipe built into a trainer (:mod:`~ganzoo.run.build`), trained into a new run
folder with every output attached (:mod:`~ganzoo.run.training`, :mod:`~ganzoo.run.outputs`),
resumed (:mod:`~ganzoo.run.resume`) and stopped cleanly on a signal (:mod:`~ganzoo.run.signals`);
and many runs searched as a sweep on Optuna (:mod:`~ganzoo.run.sweep`, imported on its own)."""

from ganzoo.run.build import build_run, build_trainer
from ganzoo.run.resume import load_fitting_state, resume_run
from ganzoo.run.signals import RunInterrupted
from ganzoo.run.training import Run, new_run_folder, run_recipe

__all__ = [
    "Run",
    "RunInterrupted",
    "build_run",
    "build_trainer",
    "load_fitting_state",
    "new_run_folder",
    "resume_run",
    "run_recipe",
]
