"""ganzoo-augment: differentiable augmentation of everything D sees, for training on little
data. ``diffaugment`` (Zhao et al., 2020): colour, translation and cutout; ``ada`` (Karras
et al., 2020): the geometric and colour pipeline of StyleGAN2-ADA, each transform applied
with a probability p that adapts to how sure D is of the real images.

Shaped like a third-party plugin: it imports only ganzoo's public API. The core applies the
recipe's augmentation (``augment:``) to D's input; this package only transforms images.
"""

import ganzoo
from ganzoo_augment.ada import ADA
from ganzoo_augment.diffaugment import DiffAugment

__all__ = ["ADA", "DiffAugment"]


@ganzoo.hookimpl
def register_augmentations(register):
    register(DiffAugment)
    register(ADA)
