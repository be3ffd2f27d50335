"""ganzoo-classic: the unconditional GANs that followed the original, as a plugin.

The DCGAN architecture (Radford et al., 2016) and the losses of LSGAN, WGAN, WGAN-GP,
DRAGAN and the hinge GAN (SNGAN's, with spectral norm as an architecture option); an
autoencoder discriminator with the EBGAN and BEGAN losses; and a
``time_budget`` callback for comparisons at equal compute. Shaped
exactly like a third-party package: nothing under ``ganzoo/`` knows about it.
"""

import ganzoo
from ganzoo_classic.budget import TimeBudget
from ganzoo_classic.dcgan import DCGAN
from ganzoo_classic.energy import Autoencoder, BEGANLoss, EBGANLoss, ELUAutoencoder
from ganzoo_classic.losses import DRAGANLoss, HingeLoss, LSGANLoss, WGANGPLoss, WGANLoss


@ganzoo.hookimpl
def register_architectures(register):
    register(DCGAN)
    register(Autoencoder)
    register(ELUAutoencoder)


@ganzoo.hookimpl
def register_callbacks(register):
    register(TimeBudget)


@ganzoo.hookimpl
def register_losses(register):
    for loss in (LSGANLoss, WGANLoss, WGANGPLoss, DRAGANLoss, HingeLoss, EBGANLoss, BEGANLoss):
        register(loss)
