"""ganzoo: a plugin-based GAN zoo for PyTorch.

The public API for plugin authors is what this module exports (the contract of
:mod:`ganzoo.api`, where :mod:`ganzoo.api.hookspecs` is the place to start), plus
``ganzoo.testing`` (the helpers for a plugin's tests); plugins import nothing else.

The package, by sub-package: ``api`` (the plugin contract), ``plugins`` (the plugin manager,
the registry, the core's own optimisers and schedules), ``recipe`` (YAML to a validated
recipe), ``files`` (safe reads and writes, images, downloads), ``runfolder`` (what a run
leaves on disk), ``train`` (the loop and its step), ``viz`` (curves, grids, video, reports),
``inference`` (using a trained generator: sampling, translating, evaluating), ``run`` (a
recipe trained into a run folder, resumed) and ``commands`` (one module per subcommand of
``ganzoo``, which ``cli`` dispatches to).
"""

from ganzoo import _compat
from ganzoo.api import *  # noqa: F403 - the contract is the public API
from ganzoo.api import __all__ as _contract
from ganzoo.files.downloads import network_timeout
from ganzoo.files.images import ImageError, read_image
from ganzoo.runfolder.step_log import StepLog

__version__ = "0.1.0"

_compat.install()

__all__ = [*_contract, "ImageError", "StepLog", "network_timeout", "read_image"]
