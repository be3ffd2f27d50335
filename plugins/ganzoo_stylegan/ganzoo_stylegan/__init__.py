"""ganzoo-stylegan: StyleGAN2 (Karras et al., CVPR 2020) as a plugin, in pure PyTorch.

The ``stylegan2`` architecture (the mapping network, modulated convolutions, the skip
generator and the residual discriminator, sized from the data and the options) and the
``stylegan2`` loss (non-saturating logistic, lazy R1, lazy path length). Pair them with the
``ema`` callback of ganzoo-stabilizers and its ``rampup``. Everything the paper needs beyond
an architecture and a loss comes through ganzoo's public contract: the mapping network's
learning rate is a ``ganzoo.ParameterGroup``, the lazy penalties are ``ganzoo.ExtraPass`` es,
truncation is a sampling option (``SamplingOptions``); nothing under ``ganzoo/`` knows it.
"""

import ganzoo
from ganzoo_stylegan.architecture import StyleGAN2
from ganzoo_stylegan.loss import StyleGAN2Loss

__all__ = ["StyleGAN2", "StyleGAN2Loss"]


@ganzoo.hookimpl
def register_architectures(register):
    register(StyleGAN2)


@ganzoo.hookimpl
def register_losses(register):
    register(StyleGAN2Loss)
