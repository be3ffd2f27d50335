"""ganzoo-conditional: class-conditional GANs, as a plugin.

CGAN (Mirza and Osindero, 2014): G and D both receive the label; trained with the ``bce``
loss of the vanilla plugin, which already passes the batch's labels to both networks.
ACGAN (Odena et al., 2017): G receives the label, D predicts it with a second head.
Both architectures declare ``conditional = True``, so ``ganzoo sample --class 7`` works.
infoGAN (Chen et al., 2016): G receives latent codes instead of labels and D's Q head
recovers them; ``ganzoo sample --vary c1`` walks along one code.
"""

import ganzoo
from ganzoo_conditional.infogan import InfoGAN, InfoGANLoss
from ganzoo_conditional.losses import ACGANLoss
from ganzoo_conditional.models import ACGAN, CGAN


@ganzoo.hookimpl
def register_architectures(register):
    register(CGAN)
    register(ACGAN)
    register(InfoGAN)


@ganzoo.hookimpl
def register_losses(register):
    register(ACGANLoss)
    register(InfoGANLoss)
