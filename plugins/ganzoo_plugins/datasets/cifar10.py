"""CIFAR-10: 50000 train / 10000 test colour images, 3x32x32, 10 classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from ganzoo import param

FILES = (
    "data_batch_1",
    "data_batch_2",
    "data_batch_3",
    "data_batch_4",
    "data_batch_5",
    "test_batch",
    "batches.meta",
)


@attrs.frozen
class Cifar10Config:
    """CIFAR-10 (torchvision layout: ``<root>/cifar-10-batches-py/``)."""

    limit: int = param(0, "keep only the first N images (0: all); for smoke runs", ge=0, le=10**9)


def build(config: Cifar10Config, *, root: Path, split: str, download: bool) -> Any:
    import torch
    from torchvision.datasets import CIFAR10

    from ganzoo.data import ImageData
    from ganzoo_plugins.datasets._torchvision import apply_limit, load_torchvision

    ds = load_torchvision(
        CIFAR10,
        title="CIFAR-10",
        root=root,
        subfolder=CIFAR10.base_folder,
        files=FILES,
        split=split,
        download=download,
    )
    keep = apply_limit(len(ds.data), config.limit)
    hwc = torch.from_numpy(ds.data[:keep])  # [N, 32, 32, 3] uint8
    images = hwc.permute(0, 3, 1, 2).contiguous()  # [N, 3, 32, 32]
    labels = torch.as_tensor(ds.targets[:keep], dtype=torch.int64)
    return ImageData(images=images, labels=labels, classes=list(ds.classes))
