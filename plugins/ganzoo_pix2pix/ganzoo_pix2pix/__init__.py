"""ganzoo-pix2pix: image-to-image translation (Isola et al., 2017), as a plugin.

The ``unet`` architecture (a U-Net G whose noise is dropout, a PatchGAN D on (condition,
image) pairs), the ``pix2pix`` loss (cGAN + lambda * L1), the paired datasets
``paired_folder`` and ``mnist_pairs``, and the metrics ``paired`` (L1, PSNR, SSIM to the
target) and ``target_class`` (the share of outputs a classifier reads as the target's class). It uses
ganzoo's image conditions: a dataset's ``Data.condition`` holds the input images, and the
trainer hands them to G and D as it hands labels to a CGAN.
"""

import ganzoo
from ganzoo_pix2pix.architecture import UNet
from ganzoo_pix2pix.losses import Pix2PixLoss
from ganzoo_pix2pix.metrics import Paired, TargetClass
from ganzoo_pix2pix.mnist_pairs import MNISTPairs
from ganzoo_pix2pix.paired_folder import PairedFolder


@ganzoo.hookimpl
def register_architectures(register):
    register(UNet)


@ganzoo.hookimpl
def register_losses(register):
    register(Pix2PixLoss)


@ganzoo.hookimpl
def register_datasets(register):
    register(MNISTPairs)
    register(PairedFolder)


@ganzoo.hookimpl
def register_metrics(register):
    register(Paired)
    register(TargetClass)
