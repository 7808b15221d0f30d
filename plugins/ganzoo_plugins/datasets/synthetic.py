"""Procedural white-on-black shapes: a labelled dataset that needs no files.

Class ``k`` is one of ten shapes drawn as strokes (ring, vertical bar, horizontal bar,
plus, cross, triangle, square, figure eight, zigzag, chevron); ``classes`` keeps the first
few. Each image jitters the shape's scale, aspect, slant, rotation, position and stroke
thickness, like handwriting, so a GAN has something to learn and an InfoGAN categorical
code has classes to find. Everything is vectorised: every pixel's distance to the shape's
segments, then an antialiased stroke edge. Images depend only on (seed, split, settings);
the "test" split draws from a different random stream than "train".
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import attrs

from ganzoo import param
from ganzoo.specs import SEED_MAX

SHAPES = (
    "ring",
    "vertical bar",
    "horizontal bar",
    "plus",
    "cross",
    "triangle",
    "square",
    "eight",
    "zigzag",
    "chevron",
)

_CHUNK_ELEMENTS = 1 << 21  # images x pixels x segments per distance pass (8 MiB per temp)
_SERIAL_ELEMENTS = 1 << 26
"""Below this much work (images x pixels x 24 segments) generate on one thread: the many
small tensor ops gain nothing from threads, and on a busy machine thread hand-offs can
make them twenty times slower."""


@attrs.frozen
class SyntheticConfig:
    """Procedural stroke shapes, one shape per class; deterministic from the seed."""

    size: int = param(28, "side of the square images", ge=8, le=128)
    channels: Literal[1, 3] = param(1, "1: greyscale, 3: RGB (white strokes either way)")
    count: int = param(2048, "images per split", ge=16, le=1_000_000)
    classes: int = param(10, "number of shape classes (the first N of the ten shapes)", ge=1, le=10)
    seed: int = param(0, "random seed; the test split uses a different stream", ge=0, le=SEED_MAX)


def _ring(cx: float, cy: float, r: float, sides: int = 16) -> list[tuple[float, float]]:
    return [
        (cx + r * math.cos(2 * math.pi * i / sides), cy + r * math.sin(2 * math.pi * i / sides))
        for i in range(sides + 1)
    ]


def _polylines() -> list[list[list[tuple[float, float]]]]:
    """Each shape as polylines in [-0.7, 0.7]^2 (x right, y down)."""
    a = 0.7
    return [
        [_ring(0.0, 0.0, 0.6)],  # ring
        [[(0.0, -a), (0.0, a)]],  # vertical bar
        [[(-a, 0.0), (a, 0.0)]],  # horizontal bar
        [[(0.0, -a), (0.0, a)], [(-a, 0.0), (a, 0.0)]],  # plus
        [[(-0.55, -0.55), (0.55, 0.55)], [(-0.55, 0.55), (0.55, -0.55)]],  # cross
        [[(0.0, -0.65), (0.65, 0.5), (-0.65, 0.5), (0.0, -0.65)]],  # triangle
        [[(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)]],  # square
        [_ring(0.0, -0.35, 0.33, 12), _ring(0.0, 0.35, 0.33, 12)],  # eight
        [[(-0.5, -0.6), (0.5, -0.6), (-0.5, 0.6), (0.5, 0.6)]],  # zigzag
        [[(0.45, -0.65), (-0.45, 0.0), (0.45, 0.65)]],  # chevron
    ]


def shape_segments(k: int) -> Any:
    """Shape ``k`` as a float tensor of segments [S, 2 (start, end), 2 (x, y)]."""
    import torch

    segments = [
        (line[i], line[i + 1]) for line in _polylines()[k] for i in range(len(line) - 1)
    ]
    return torch.tensor(segments, dtype=torch.float32)


def _distance_to_segments(grid: Any, start: Any, end: Any) -> Any:
    """Distance from each pixel to its nearest segment.

    ``grid`` [P, 2] pixel centres; ``start``, ``end`` [M, S, 2] segment ends -> [M, P].
    """
    import torch

    gx, gy = grid[None, :, None, 0], grid[None, :, None, 1]  # [1, P, 1]
    ax, ay = start[:, None, :, 0], start[:, None, :, 1]  # [M, 1, S]
    abx, aby = end[:, None, :, 0] - ax, end[:, None, :, 1] - ay
    inv_len2 = 1.0 / (abx * abx + aby * aby).clamp_min(1e-12)
    apx, apy = gx - ax, gy - ay  # [M, P, S]
    t = ((apx * abx + apy * aby) * inv_len2).clamp_(0.0, 1.0)
    dx, dy = apx - t * abx, apy - t * aby
    return torch.sqrt((dx * dx + dy * dy).amin(dim=2))


def generate(config: SyntheticConfig, split: str) -> tuple[Any, Any]:
    """``(images uint8 [N, C, H, W], labels int64 [N])`` for ``split``."""
    import torch

    n, size = config.count, config.size
    gen = torch.Generator().manual_seed(config.seed * 2 + (1 if split == "test" else 0))
    labels = (torch.arange(n) % config.classes)[torch.randperm(n, generator=gen)]
    u = torch.rand(n, 7, generator=gen)  # every random draw, independent of the class loop

    pixel = 2.0 / size  # image coordinates span [-1, 1]
    scale = 0.7 + 0.3 * u[:, 0]  # overall size
    aspect = 0.85 + 0.3 * u[:, 1]  # width / height
    slant = 0.6 * u[:, 2] - 0.3  # shear: x += slant * y
    angle = math.radians(12.0) * (2 * u[:, 3] - 1)
    half_width = (0.05 + 0.07 * u[:, 4]).clamp_min(0.55 * pixel)  # half the stroke width
    cos, sin = torch.cos(angle), torch.sin(angle)
    # x' = R (shear (scale * (aspect x, y)))
    m00, m01 = scale * aspect, scale * slant
    m10, m11 = torch.zeros_like(scale), scale
    affine = torch.stack(
        [
            torch.stack([cos * m00 - sin * m10, cos * m01 - sin * m11], dim=1),
            torch.stack([sin * m00 + cos * m10, sin * m01 + cos * m11], dim=1),
        ],
        dim=1,
    )  # [N, 2, 2]

    coords = (torch.arange(size, dtype=torch.float32) + 0.5) * pixel - 1.0
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # [P, 2]

    ink = torch.empty(n, size * size)
    for k in range(config.classes):
        index = (labels == k).nonzero().squeeze(1)
        if len(index) == 0:
            continue
        seg = shape_segments(k)  # [S, 2, 2]
        pts = torch.einsum("nij,sej->nsei", affine[index], seg)  # [M, S, 2, 2]
        # shift inside the frame: uniform within the margin left by the shape, at most 0.15
        margin = (half_width[index] + pixel)[:, None]
        low = pts.amin(dim=(1, 2)) - (-1.0 + margin)  # [M, 2] room to move left/up
        high = (1.0 - margin) - pts.amax(dim=(1, 2))  # room to move right/down
        lo, hi = (-low).clamp(min=-0.15), high.clamp(max=0.15)
        centre = (pts.amin(dim=(1, 2)) + pts.amax(dim=(1, 2))) / 2
        shift = torch.where(lo <= hi, lo + u[index][:, 5:7] * (hi - lo), -centre)  # else centre
        pts = pts + shift[:, None, None, :]
        start, end = pts[:, :, 0], pts[:, :, 1]
        chunk = max(1, _CHUNK_ELEMENTS // (size * size * seg.shape[0]))
        for c in range(0, len(index), chunk):
            dist = _distance_to_segments(grid, start[c : c + chunk], end[c : c + chunk])
            edge = half_width[index[c : c + chunk], None]
            ink[index[c : c + chunk]] = ((edge - dist) / pixel + 0.5).clamp_(0.0, 1.0)

    images = ink.mul_(255.0).round_().to(torch.uint8).view(n, 1, size, size)
    if config.channels == 3:
        images = images.expand(n, 3, size, size).contiguous()
    return images, labels.to(torch.int64)


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    if count >= previous:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def build(config: SyntheticConfig, *, root: Path, split: str, download: bool) -> Any:
    from ganzoo.data import ImageData
    from ganzoo_plugins.datasets._torchvision import check_split

    check_split(split)
    small = config.count * config.size * config.size * 24 < _SERIAL_ELEMENTS
    with _threads(1) if small else contextlib.nullcontext():
        images, labels = generate(config, split)
    return ImageData(images=images, labels=labels, classes=list(SHAPES[: config.classes]))
