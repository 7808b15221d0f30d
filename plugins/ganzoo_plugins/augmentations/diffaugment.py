"""``diffaugment``: Differentiable Augmentation (Zhao et al. 2020, "Differentiable Augmentation
for Data-Efficient GAN Training").

The same random transforms are applied to every image D sees, real and generated, and they
are differentiable in the images, so G learns through them; D cannot tell real from fake
by the augmentation, and it overfits the real set less. Per image, as in the paper:

* ``color``: brightness + U(-0.5, 0.5); saturation (x - mean over channels) · U(0, 2) + mean;
  contrast (x - mean over the image) · U(0.5, 1.5) + mean (on the [-1, 1] scale);
* ``translation``: an integer shift of up to ``translation`` · side pixels along each axis,
  pixels shifted in are ``fill``;
* ``cutout``: a square of side ``cutout`` · side, centred uniformly over the image (it may
  stick out), set to ``fill``.

Random numbers come from the global torch generator of the images' device, which the
training loop seeds and checkpoints, so resume stays exact.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganzoo_plugins.augmentations.configs import DiffAugmentConfig


def _uniform(x: Tensor, low: float, high: float) -> Tensor:
    """One draw per image, ``[B, 1, 1, 1]``, from U(low, high)."""
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device) * (high - low) + low


def color(x: Tensor) -> Tensor:
    """Random brightness, saturation and contrast: ``[B, C, H, W] -> [B, C, H, W]``."""
    x = x + _uniform(x, -0.5, 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)  # [B, 1, H, W]: grey-scale has no saturation to change
    x = (x - mean) * _uniform(x, 0.0, 2.0) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # [B, 1, 1, 1]
    return (x - mean) * _uniform(x, 0.5, 1.5) + mean  # contrast


def translation(x: Tensor, ratio: float, fill: float) -> Tensor:
    """Shift each image by its own integer (dy, dx) in [-s, s], s = round(ratio · side)."""
    batch, _, height, width = x.shape
    sy, sx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (batch, 1), device=x.device)  # [B, 1]
    dx = torch.randint(-sx, sx + 1, (batch, 1), device=x.device)  # [B, 1]
    # output pixel (i, j) reads input pixel (i + dy, j + dx), or fill outside the image
    rows = torch.arange(height, device=x.device) + dy  # [B, H]
    cols = torch.arange(width, device=x.device) + dx  # [B, W]
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    b = torch.arange(batch, device=x.device)[:, None, None]  # [B, 1, 1]
    shifted = x[b, :, rows.clamp(0, height - 1)[:, :, None], cols.clamp(0, width - 1)[:, None, :]]
    shifted = shifted.permute(0, 3, 1, 2)  # [B, H, W, C] -> [B, C, H, W]
    return torch.where(inside[:, None], shifted, torch.full_like(shifted, fill))


def cutout(x: Tensor, ratio: float, fill: float) -> Tensor:
    """Set a square of side round(ratio · side) per image to ``fill``; its centre is uniform
    over the image, so near the border only part of it falls inside."""
    batch, _, height, width = x.shape
    ch, cw = int(height * ratio + 0.5), int(width * ratio + 0.5)
    # centres as in the reference code: 0..side (an even square), 0..side-1 (an odd one)
    cy = torch.randint(0, height + (1 - ch % 2), (batch, 1), device=x.device)  # [B, 1]
    cx = torch.randint(0, width + (1 - cw % 2), (batch, 1), device=x.device)  # [B, 1]
    rows = torch.arange(height, device=x.device) - (cy - ch // 2)  # [B, H]: offset in the square
    cols = torch.arange(width, device=x.device) - (cx - cw // 2)  # [B, W]
    cut = ((rows >= 0) & (rows < ch))[:, :, None] & ((cols >= 0) & (cols < cw))[:, None, :]
    return torch.where(cut[:, None], torch.full_like(x, fill), x)  # [B, C, H, W]


class DiffAugment(nn.Module):
    """``[B, C, H, W] -> [B, C, H, W]``: the policy's operations in order; no parameters."""

    def __init__(self, config: DiffAugmentConfig):
        super().__init__()
        self.policy = tuple(config.policy)
        self.translation_ratio = config.translation
        self.cutout_ratio = config.cutout
        self.fill = config.fill

    def forward(self, images: Tensor) -> Tensor:
        x = images
        for operation in self.policy:
            if operation == "color":
                x = color(x)
            elif operation == "translation":
                x = translation(x, self.translation_ratio, self.fill)
            elif operation == "cutout":
                x = cutout(x, self.cutout_ratio, self.fill)
            else:  # the recipe validator only lets the three names through
                raise ValueError(f"unknown DiffAugment operation {operation!r}")
        return x

    def extra_repr(self) -> str:
        return f"policy={list(self.policy)}, translation={self.translation_ratio}, cutout={self.cutout_ratio}"
