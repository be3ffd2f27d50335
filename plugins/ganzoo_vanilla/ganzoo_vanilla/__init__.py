"""ganzoo-vanilla: the reference plugin, the original GAN of Goodfellow et al. (2014).

Shaped exactly like a third-party package: it imports only ganzoo's public API and
registers its components through the ``ganzoo`` entry-point group.
"""

import ganzoo
from ganzoo_vanilla.losses import BCELoss
from ganzoo_vanilla.models import VanillaMLP


@ganzoo.hookimpl
def register_architectures(register):
    register(VanillaMLP)


@ganzoo.hookimpl
def register_losses(register):
    register(BCELoss)
