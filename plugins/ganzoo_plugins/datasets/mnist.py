"""MNIST handwritten digits: 60000 train / 10000 test images, 1x28x28, 10 classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from ganzoo import param

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@attrs.frozen
class MnistConfig:
    """MNIST (torchvision layout: ``<root>/MNIST/raw/*-ubyte``)."""

    limit: int = param(0, "keep only the first N images (0: all); for smoke runs", ge=0, le=10**9)


def load_idx_dataset(
    dataset_class: Any, title: str, config: Any, root: Path, split: str, download: bool
) -> Any:
    """MNIST-style datasets (``.data`` uint8 [N, 28, 28], ``.targets`` int64 [N])."""
    import torch

    from ganzoo.data import ImageData
    from ganzoo_plugins.datasets._torchvision import apply_limit, load_torchvision

    name = dataset_class.__name__
    ds = load_torchvision(
        dataset_class,
        title=title,
        root=root,
        subfolder=f"{name}/raw",
        files=FILES,
        split=split,
        download=download,
    )
    keep = apply_limit(len(ds.data), config.limit)
    images = ds.data[:keep].to(torch.uint8).unsqueeze(1).contiguous()  # [N, 1, 28, 28]
    labels = torch.as_tensor(ds.targets[:keep], dtype=torch.int64).clone()  # [N]
    return ImageData(images=images, labels=labels, classes=list(ds.classes))


def build(config: MnistConfig, *, root: Path, split: str, download: bool) -> Any:
    from torchvision.datasets import MNIST

    from ganzoo_plugins.disentanglement.factors import MeasuredFactors

    data = load_idx_dataset(MNIST, "MNIST", config, root, split, download)
    # class, slant, width, thickness, height: what MIG, DCI and SAP compare Q's codes with
    data.factors = MeasuredFactors(data.images, data.labels)
    return data
