"""Fashion-MNIST: Zalando clothing images, 60000 train / 10000 test, 1x28x28, 10 classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from ganzoo import param


@attrs.frozen
class FashionMnistConfig:
    """Fashion-MNIST (torchvision layout: ``<root>/FashionMNIST/raw/*-ubyte``)."""

    limit: int = param(0, "keep only the first N images (0: all); for smoke runs", ge=0, le=10**9)


def build(config: FashionMnistConfig, *, root: Path, split: str, download: bool) -> Any:
    from torchvision.datasets import FashionMNIST

    from ganzoo_plugins.datasets.mnist import load_idx_dataset

    return load_idx_dataset(FashionMNIST, "Fashion-MNIST", config, root, split, download)
