"""Sample and traversal grids from a generator (used by the trainer and ``ganzoo sample``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torchvision.utils import make_grid

from ganzoo.latent import LatentEntry, LatentSpace, traversal_latents


def to_display(images: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1] for saving and TensorBoard."""
    return images.float().add(1).div(2).clamp(0, 1)


@torch.no_grad()
def generate(
    generator: nn.Module, z: Tensor, batch: int = 256, labels: Tensor | None = None
) -> Tensor:
    """Images for ``z [N, D]`` (and, for a conditional sampler, ``labels [N]``) in eval mode
    (batch-norm running statistics), in chunks."""
    was_training = generator.training
    generator.eval()
    try:
        if labels is None:
            return torch.cat([generator(chunk).float() for chunk in z.split(batch)])
        pairs = zip(z.split(batch), labels.split(batch), strict=True)
        return torch.cat([generator(chunk, y).float() for chunk, y in pairs])
    finally:
        generator.train(was_training)


def traversal_grids(
    generator: nn.Module,
    latent: LatentSpace,
    base: Tensor,
    steps: int,
    span: tuple[float, float],
    codes: list[LatentEntry] | None = None,
) -> dict[str, Tensor]:
    """One grid per regularised code (per dimension for continuous codes): each row keeps one
    noise draw, each column sets the code to the next swept value. Returns [3, H, W] in [0, 1]."""
    grids = {}
    for entry in codes if codes is not None else latent.regularized:
        for label, sweep in entry.code.traversals(steps, span):
            z = traversal_latents(base, entry.columns, sweep).flatten(0, 1)  # [R * S, D]
            images = to_display(generate(generator, z))
            tag = f"{entry.name}_{label}" if label else entry.name
            grids[tag] = make_grid(images, nrow=sweep.shape[0], padding=2, pad_value=0.5)
    return grids


def sample_grid(generator: nn.Module, z: Tensor) -> Tensor:
    images = to_display(generate(generator, z))
    return make_grid(images, nrow=int(max(1, round(len(images) ** 0.5))), padding=2, pad_value=0.5)


def class_grid(generator: nn.Module, z: Tensor, num_classes: int) -> Tensor:
    """One row per class of a conditional sampler, the same noise ``z [C, D]`` down each
    column, so a column shows what one draw becomes for every class. ``[3, H, W]``."""
    columns = z.shape[0]
    labels = torch.arange(num_classes, device=z.device).repeat_interleave(columns)  # [K * C]
    images = to_display(generate(generator, z.repeat(num_classes, 1), labels=labels))
    return make_grid(images, nrow=columns, padding=2, pad_value=0.5)
