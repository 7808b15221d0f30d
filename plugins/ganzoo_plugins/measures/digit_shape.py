"""Geometric properties of grey digit images, for reading continuous codes.

All functions take images ``[B, 1, H, W]`` (or ``[B, H, W]``) with values in
``[-1, 1]``, where ink is high.  Pixel values are turned into ink weights
``w = clamp((x + 1) / 2, 0, 1)`` so that the background weighs 0.

Coordinate convention: ``x`` is the column index (growing to the right) and
``y`` the row index (growing *downward*), both in pixels.  Central moments are
``mu_pq = sum w * (x - cx)^p * (y - cy)^q`` with ``(cx, cy)`` the ink centroid
and ``m00 = sum w`` the ink mass.

Every function is batched and vectorised, returns a float tensor ``[B]`` on
the images' device, and returns 0 (never NaN) for blank images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ink_weights", "slant", "thickness", "width"]

# Ink mass / variance below this counts as "nothing there".
_EPS = 1e-6


def ink_weights(images: Tensor) -> Tensor:
    """Ink weights ``[B, H, W]`` in ``[0, 1]`` from images in ``[-1, 1]``."""
    if images.dim() == 4:
        if images.shape[1] != 1:
            raise ValueError(f"expected one channel, got shape {tuple(images.shape)}")
        images = images[:, 0]  # [B, H, W]
    elif images.dim() != 3:
        raise ValueError(f"expected [B, 1, H, W] or [B, H, W], got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        images = images.float()
    return ((images + 1.0) * 0.5).clamp(0.0, 1.0)  # [B, H, W]


def _second_moments(w: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(m00, mu20, mu11, mu02)``, each ``[B]``, of ink weights ``w [B, H, W]``."""
    _, h, wd = w.shape
    ys = torch.arange(h, device=w.device, dtype=w.dtype).view(1, h, 1)  # [1, H, 1]
    xs = torch.arange(wd, device=w.device, dtype=w.dtype).view(1, 1, wd)  # [1, 1, W]
    m00 = w.sum(dim=(1, 2))  # [B]
    safe = m00.clamp_min(_EPS)  # [B]
    cx = (w * xs).sum(dim=(1, 2)) / safe  # [B]
    cy = (w * ys).sum(dim=(1, 2)) / safe  # [B]
    dx = xs - cx.view(-1, 1, 1)  # [B, 1, W]
    dy = ys - cy.view(-1, 1, 1)  # [B, H, 1]
    mu20 = (w * dx * dx).sum(dim=(1, 2))  # [B]
    mu11 = (w * dx * dy).sum(dim=(1, 2))  # [B]
    mu02 = (w * dy * dy).sum(dim=(1, 2))  # [B]
    return m00, mu20, mu11, mu02


def _has_height(m00: Tensor, mu02: Tensor) -> Tensor:
    """Mask ``[B]``: ink present with non-zero vertical spread (shear defined)."""
    return (m00 > _EPS) & (mu02 > _EPS * m00.clamp_min(_EPS))


def slant(images: Tensor) -> Tensor:
    """Shear of the ink, ``-mu11 / mu02``, ``[B]`` (dimensionless).

    It is the least-squares slope of horizontal ink position against *upward*
    height: ink at height ``h`` pixels above the centroid sits on average
    ``slant * h`` pixels to the right of it.  So a digit leaning right (top to
    the right, like ``/``) has a positive slant, an upright one 0, and one
    leaning left a negative slant.  (The minus sign undoes ``y`` growing
    downward.)  Blank images and ink confined to a single row give 0.
    """
    w = ink_weights(images)  # [B, H, W]
    m00, _, mu11, mu02 = _second_moments(w)
    ok = _has_height(m00, mu02)  # [B]
    return torch.where(ok, -mu11 / mu02.clamp_min(_EPS), torch.zeros_like(mu11))  # [B]


def width(images: Tensor) -> Tensor:
    """Horizontal extent of the ink after removing slant, in pixels, ``[B]``.

    The image is deskewed by its measured shear, ``x' = x + slant * (y - cy)``
    (done exactly on the moments, without resampling), which leaves the
    horizontal variance ``var' = (mu20 - mu11^2 / mu02) / m00``: the spread of
    ``x`` not explained by height.  Shearing a shape therefore leaves its width
    (nearly) unchanged, so slant and width are separated.  The width is
    ``sqrt(12 * var')``, which equals the width of a uniformly inked band
    (``sqrt(n^2 - 1)`` for ``n`` whole pixels).  Blank images give 0.
    """
    w = ink_weights(images)  # [B, H, W]
    m00, mu20, mu11, mu02 = _second_moments(w)
    ok = _has_height(m00, mu02)  # [B]
    sheared_out = torch.where(ok, mu11 * mu11 / mu02.clamp_min(_EPS), torch.zeros_like(mu11))  # [B]
    var = (mu20 - sheared_out).clamp_min(0.0) / m00.clamp_min(_EPS)  # [B]
    return torch.where(m00 > _EPS, torch.sqrt(12.0 * var), torch.zeros_like(var))  # [B]


def _perimeter(w: Tensor) -> Tensor:
    """Length of the ink outline ``[B]`` from ink weights ``w [B, H, W]``.

    Sums the gradient magnitude of ``w`` over every 2x2 pixel window (the image
    is zero-padded so borders count).  Each window's gradient is
    ``gx = (right column - left column) / 2``, ``gy = (bottom row - top row) / 2``;
    a sharp edge then contributes its true length for horizontal, vertical and
    45-degree edges alike, and one-pixel-wide strokes get both sides counted.
    """
    p = F.pad(w, (1, 1, 1, 1))  # [B, H+2, W+2]
    a, b = p[:, :-1, :-1], p[:, :-1, 1:]  # top-left, top-right, each [B, H+1, W+1]
    c, d = p[:, 1:, :-1], p[:, 1:, 1:]  # bottom-left, bottom-right
    gx = 0.5 * (b + d - a - c)  # [B, H+1, W+1]
    gy = 0.5 * (c + d - a - b)  # [B, H+1, W+1]
    return torch.sqrt(gx * gx + gy * gy).sum(dim=(1, 2))  # [B]


def thickness(images: Tensor) -> Tensor:
    """Mean stroke thickness in pixels, ``ink mass / (perimeter / 2)``, ``[B]``.

    A stroke of thickness ``t`` and length ``L`` has area ``t * L`` and outline
    ``2 * (t + L)``, so the ratio is ``t * L / (t + L)``: close to ``t`` for
    long strokes, exactly ``t`` for closed loops such as a ``0``, and
    increasing in ``t`` for a fixed shape.  Uses the soft ink weights (no
    threshold), so anti-aliased strokes are handled.  Blank images give 0.
    """
    w = ink_weights(images)  # [B, H, W]
    mass = w.sum(dim=(1, 2))  # [B]
    perim = _perimeter(w)  # [B]
    ok = (mass > _EPS) & (perim > _EPS)  # [B]
    return torch.where(ok, 2.0 * mass / perim.clamp_min(_EPS), torch.zeros_like(mass))  # [B]
