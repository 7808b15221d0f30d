"""Datasets as in-memory uint8 tensors and the batch stream the trainer draws from.

MNIST-sized data lives on the training device as one ``uint8`` tensor; a batch is an index
gather plus one conversion to [-1, 1]. There is no per-sample Python or PIL work on the hot
path, and no host-to-device copy per step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import Tensor

from ganzoo.building import build_component
from ganzoo.errors import UserError

DATA_ROOT_ENV = "GANZOO_DATA_ROOT"


class DataUnavailable(UserError):
    """The dataset's files are missing and could not be downloaded."""


@attrs.define
class ImageData:
    """``images``: ``[N, C, H, W]`` uint8 (0 = black); ``labels``: ``[N]`` int64 or None;
    ``factors``: what made each image, for datasets that know it (an object with ``names``
    and ``values() -> [N, F]`` classes, and optionally ``sizes``, ``sample`` and ``render``;
    see ``ganzoo_plugins.disentanglement.factors``), else None."""

    images: Tensor
    labels: Tensor | None = None
    classes: list[str] | None = None
    factors: Any = None

    @property
    def num_classes(self) -> int:
        """Label classes (0 without labels): the class names, else the largest label + 1."""
        if self.labels is None or not len(self.labels):
            return 0
        return len(self.classes) if self.classes else int(self.labels.max()) + 1

    def __attrs_post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(
                f"ImageData.images must be a uint8 [N, C, H, W] tensor, got "
                f"{self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError("ImageData.labels must have one label per image")

    @property
    def shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def __len__(self) -> int:
        return len(self.images)


def to_unit_range(images_u8: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """uint8 ``[B, C, H, W]`` -> ``dtype`` in [-1, 1]."""
    return images_u8.to(dtype).div_(127.5).sub_(1.0)


def resolve_data_root(recipe_root: str) -> Path:
    """The recipe's ``data.root``, else ``$GANZOO_DATA_ROOT``, else ``./data``."""
    where, text = ("data.root", recipe_root) if recipe_root else (
        f"${DATA_ROOT_ENV}", os.environ.get(DATA_ROOT_ENV, "")
    )
    if not text:
        return Path("data")
    try:
        return Path(text).expanduser()
    except RuntimeError as exc:  # "~someone" for a user this machine does not know
        raise UserError(f"{where} = {text!r}: cannot expand '~' ({exc})") from None


def load_dataset(recipe: Any, registry: Any, split: str = "train") -> ImageData:
    """Build the recipe's dataset for ``split`` (``"train"`` or ``"test"``)."""
    table = recipe.data
    spec = registry.get("dataset", table.type)
    root = resolve_data_root(table.settings.root)
    try:
        data = build_component(
            spec, "data", table.config, root=root, split=split, download=table.settings.download,
            expected=ImageData, expected_name="ganzoo.data.ImageData", passthrough=(OSError,),
        )
    except (FileNotFoundError, OSError) as exc:
        raise DataUnavailable(f"data ({table.type}) under {root}: {exc}") from None
    return data


class InMemoryBatches:
    """Shuffled batches from an in-memory uint8 tensor, exactly resumable.

    Each epoch's order is a permutation drawn from a generator seeded by (seed, epoch), so the
    whole state is two integers. In multi-process runs each rank takes every
    ``world_size``-th index of the same permutation (a distributed sampler without copies).
    """

    def __init__(
        self,
        images: Tensor,
        batch_size: int,
        seed: int,
        *,
        labels: Tensor | None = None,
        rank: int = 0,
        world_size: int = 1,
        dtype: torch.dtype = torch.float32,
    ):
        self.images = images  # [N, C, H, W] uint8, already on the training device
        self.labels = labels  # [N] int64 on the same device, or None: not gathered at all
        self.batch_size = batch_size
        self.seed = seed
        self.rank, self.world_size = rank, world_size
        self.dtype = dtype
        per_rank = len(images) // world_size
        if per_rank < batch_size:
            raise UserError(
                f"data.batch_size: {batch_size} is larger than the {per_rank} images "
                f"available to each of {world_size} process(es)"
            )
        self.batches_per_epoch = per_rank // batch_size  # the remainder is dropped
        self.epoch = 0
        self.position = 0
        self._order: Tensor | None = None

    def _epoch_order(self) -> Tensor:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        perm = torch.randperm(len(self.images), generator=gen)
        return perm[self.rank :: self.world_size].to(self.images.device, non_blocking=True)

    def next(self) -> tuple[Tensor, Tensor | None]:
        """The next batch: images ``[B, C, H, W]`` in [-1, 1] and labels ``[B]`` (or None)."""
        if self.position >= self.batches_per_epoch:
            self.epoch, self.position, self._order = self.epoch + 1, 0, None
        if self._order is None:
            self._order = self._epoch_order()
        start = self.position * self.batch_size
        index = self._order[start : start + self.batch_size]  # [B]
        self.position += 1
        images = to_unit_range(self.images.index_select(0, index), self.dtype)
        return images, (None if self.labels is None else self.labels.index_select(0, index))

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position, self._order = int(state["epoch"]), int(state["position"]), None
