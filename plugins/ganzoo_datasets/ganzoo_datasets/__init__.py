"""ganzoo-datasets: the bundled datasets, registered like any third-party plugin's."""

import ganzoo
from ganzoo_datasets.image_folder import ImageFolder
from ganzoo_datasets.stacked import StackedMNIST
from ganzoo_datasets.torchvision_sets import MNIST, FashionMNIST
from ganzoo_datasets.toy import Grid, Ring


@ganzoo.hookimpl
def register_datasets(register):
    for dataset in (MNIST, FashionMNIST, StackedMNIST, ImageFolder, Ring, Grid):
        register(dataset)
