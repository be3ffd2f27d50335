"""ganzoo-stabilizers: stabilisers that compose with any architecture and loss.

Both are callbacks, so a recipe switches them on under ``callbacks:`` next to each other:
``ema`` keeps an exponential moving average of G's weights and offers it for sampling;
``instance_noise`` adds annealed Gaussian noise to every input of D. The loss-side
stabilisers (one-sided label smoothing, the R1 penalty) are options of the ``bce`` loss, and
TTUR is two learning rates under ``optim``.
"""

import ganzoo
from ganzoo_stabilizers.ema import EMA
from ganzoo_stabilizers.instance_noise import InstanceNoise


@ganzoo.hookimpl
def register_callbacks(register):
    register(EMA)
    register(InstanceNoise)
