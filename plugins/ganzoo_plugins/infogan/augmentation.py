"""Random affine transforms of image batches, for the real-data term of a categorical code.

Slant, width, size and position are *style*: a digit stays the same digit under them. When
Q's category on a real image must agree with its category on a randomly slanted, stretched
and shifted copy, Q's categories can only follow what the transforms leave alone — the class
— instead of splitting a class by style (InfoGAN's usual 4/9 failure on MNIST).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

# Ranges of the "affine" augmentation at strength 1, per sample, uniform in ±range.
ROTATION_DEGREES = 15.0
SHEAR = 0.3  # horizontal shear factor: the slant of a digit
LOG_SCALE = math.log(1.2)  # per axis, so width and height change independently
TRANSLATE = 0.1  # fraction of the image side


def random_affine(images: Tensor, background: float = -1.0, strength: float = 1.0) -> Tensor:
    """``[B, C, H, W] -> [B, C, H, W]``: each image rotated, sheared, scaled and shifted,
    every range multiplied by ``strength``.

    Uses the global torch RNG (captured in checkpoints, so resumed runs replay it); pixels
    that come from outside the image take the ``background`` value.
    """
    batch = images.shape[0]
    device, dtype = images.device, torch.float32

    def uniform(half_range: float) -> Tensor:
        half_range *= strength
        return (torch.rand(batch, device=device, dtype=dtype) * 2 - 1) * half_range  # [B]

    angle = uniform(math.radians(ROTATION_DEGREES))
    shear = uniform(SHEAR)
    scale_x, scale_y = uniform(LOG_SCALE).exp(), uniform(LOG_SCALE).exp()
    shift_x, shift_y = uniform(2 * TRANSLATE), uniform(2 * TRANSLATE)  # grid spans [-1, 1]
    cos, sin = angle.cos(), angle.sin()
    # Output-to-input map (what affine_grid expects): rotation · shear · scale, then shift.
    a = torch.stack(
        [
            torch.stack([cos * scale_x, (cos * shear - sin) * scale_y, shift_x], dim=1),
            torch.stack([sin * scale_x, (sin * shear + cos) * scale_y, shift_y], dim=1),
        ],
        dim=1,
    )  # [B, 2, 3]
    grid = F.affine_grid(a, list(images.shape), align_corners=False)  # [B, H, W, 2]
    shifted = images.float() - background  # zero padding then means "background"
    out = F.grid_sample(shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (out + background).to(images.dtype)
