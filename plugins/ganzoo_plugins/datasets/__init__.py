"""First-party datasets: MNIST, Fashion-MNIST, CIFAR-10, a folder of images, and a
procedural shape set that needs no files, and a dSprites-style set with known factors.

Listing them is cheap: only the config classes are imported here; torch, torchvision and
PIL are imported when a dataset is built.
"""

from __future__ import annotations

from ganzoo import DatasetSpec, hookimpl
from ganzoo_plugins.datasets.cifar10 import Cifar10Config
from ganzoo_plugins.datasets.fashion_mnist import FashionMnistConfig
from ganzoo_plugins.datasets.image_folder import ImageFolderConfig
from ganzoo_plugins.datasets.mnist import MnistConfig
from ganzoo_plugins.datasets.shapes2d import Shapes2DConfig
from ganzoo_plugins.datasets.synthetic import SyntheticConfig

_HERE = __name__


@hookimpl
def ganzoo_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name="mnist",
            summary="MNIST handwritten digits, 1x28x28, 10 classes (60k train / 10k test)",
            config=MnistConfig,
            factory=f"{_HERE}.mnist:build",
        ),
        DatasetSpec(
            name="fashion_mnist",
            summary="Fashion-MNIST clothing images, 1x28x28, 10 classes (60k train / 10k test)",
            config=FashionMnistConfig,
            factory=f"{_HERE}.fashion_mnist:build",
        ),
        DatasetSpec(
            name="cifar10",
            summary="CIFAR-10 colour images, 3x32x32, 10 classes (50k train / 10k test)",
            config=Cifar10Config,
            factory=f"{_HERE}.cifar10:build",
        ),
        DatasetSpec(
            name="image_folder",
            summary="your own images from a folder, resized and centre-cropped to squares; "
            "subfolders are classes",
            config=ImageFolderConfig,
            factory=f"{_HERE}.image_folder:build",
        ),
        DatasetSpec(
            name="synthetic",
            summary="procedural stroke shapes, one per class; no files needed (tests, smoke runs)",
            config=SyntheticConfig,
            factory=f"{_HERE}.synthetic:build",
        ),
        DatasetSpec(
            name="shapes2d",
            summary="dSprites-style shapes with known factors (shape, scale, orientation, x, y), "
            "1x64x64 or 1x32x32, drawn by ganzoo; no files needed",
            config=Shapes2DConfig,
            factory=f"{_HERE}.shapes2d:build",
        ),
    ]
