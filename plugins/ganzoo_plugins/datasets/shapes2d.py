"""``shapes2d``: a dSprites-style dataset with known factors, drawn by ganzoo's own code.

The factor grid is dSprites's (Matthey et al. 2017): shape (square, ellipse, heart) x
scale (6 values, linspace(0.5, 1)) x orientation (40 values, linspace(0, 2 pi), so the
first and last coincide, as in dSprites) x x-position (32, linspace(0, 1)) x y-position
(32), 737,280 binary images, white on black, in dSprites's order (y fastest). Factors are
integer classes in that grid; ``Shapes2DFactors.render`` draws any of them, which is what
the FactorVAE and BetaVAE scores need.

How an image is drawn: every pixel centre ``p`` (in units of the image side, [0, 1]) is
mapped into the shape's own frame, ``q = R(-orientation) (p - centre) / (0.18 scale)``,
with ``centre = 0.2 + 0.6 position`` on each axis, and the pixel is white when ``q`` lies in
the shape: the square ``max(|u|, |v|) <= 0.7``, the ellipse ``u^2 + (v / 0.5)^2 <= 1``, or the
heart ``(a^2 + b^2 - 1)^3 - a^2 b^3 <= 0`` with ``a = 1.2 u``, ``b = 0.1 - 1.2 v``. One test
per pixel centre, no antialiasing, vectorised over images in torch.

How it differs from dSprites (whose renderer is not public): the outlines are these implicit
forms, not dSprites's sprites, so shapes, areas and the placement margins differ; a shape
at scale 1 spans about 25 % of the side (a rotated square's corners can touch the border at
the extreme positions); ``size = 32`` renders the same grid directly at 32x32 for CPU
studies, where neighbouring positions lie 0.6 pixels apart and small shapes are coarse.
The images carry no labels (the factors say everything). There is one set of images: the "test" split is the same grid (dSprites has no split)
unless ``count`` draws a subset, when it draws another one.

The whole grid is rendered once (about a minute at 64x64) and cached under
``<data root>/shapes2d/`` in a file named by the hash of what determines it (renderer
version and settings); the file records the SHA-256 of its images, checked on load, and is
rendered again when the check fails. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Literal

import attrs

from ganzoo import param
from ganzoo.specs import SEED_MAX

RENDER_VERSION = 1  # part of the cache key: bump when the drawing changes
SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
GRID_SIZE = math.prod(FACTOR_SIZES)  # 737,280
_CHUNK_PIXELS = 1 << 20  # pixels per rendering pass: temporaries stay in cache (4 MiB)


@attrs.frozen
class Shapes2DConfig:
    """dSprites's factor grid, drawn procedurally; deterministic."""

    size: Literal[64, 32] = param(64, "image side: 64 (dSprites) or 32 (CPU studies)")
    count: int = param(
        0,
        "0: the whole grid of 737,280 images; N: N grid points drawn without replacement",
        ge=0,
        le=GRID_SIZE,
    )
    seed: int = param(0, "which subset ``count`` draws (the test split draws another)", ge=0, le=SEED_MAX)
    cache: bool = param(True, "keep the rendered whole grid under <data root>/shapes2d/")


def factor_values() -> dict[str, Any]:
    """The value of every class of every factor (scale, radians, position in [0, 1])."""
    import torch

    return {
        "shape": list(SHAPES),
        "scale": torch.linspace(0.5, 1.0, 6),
        "orientation": torch.linspace(0.0, 2 * math.pi, 40),
        "x": torch.linspace(0.0, 1.0, 32),
        "y": torch.linspace(0.0, 1.0, 32),
    }


def grid_index(factors: Any) -> Any:
    """Factor classes ``[N, 5]`` -> flat grid indices ``[N]`` (dSprites's order)."""
    index = factors[:, 0] * 0
    for f, size in enumerate(FACTOR_SIZES):
        index = index * size + factors[:, f]
    return index


def grid_factors(index: Any) -> Any:
    """Flat grid indices ``[N]`` -> factor classes ``[N, 5]`` int64."""
    import torch

    index = torch.as_tensor(index, dtype=torch.int64)
    columns = []
    for size in reversed(FACTOR_SIZES):
        columns.append(index % size)
        index = index // size
    return torch.stack(columns[::-1], dim=1)


def render(factors: Any, size: int = 64) -> Any:
    """Factor classes ``[N, 5]`` (array-like, int) -> binary images uint8 ``[N, 1, S, S]``
    (0 or 255)."""
    import torch

    factors = torch.as_tensor(factors, dtype=torch.int64).reshape(-1, 5)
    for f, n in enumerate(FACTOR_SIZES):
        if len(factors) and (factors[:, f].min() < 0 or factors[:, f].max() >= n):
            raise ValueError(f"factor '{FACTOR_NAMES[f]}' classes must lie in [0, {n - 1}]")
    values = factor_values()
    out = torch.empty(len(factors), 1, size, size, dtype=torch.uint8)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size  # [S] pixel centres
    py, px = coords.view(1, size, 1), coords.view(1, 1, size)  # rows are y, columns x
    chunk = max(1, _CHUNK_PIXELS // (size * size))
    for shape, inside in enumerate((_square, _ellipse, _heart)):
        index = (factors[:, 0] == shape).nonzero().squeeze(1)
        for start in range(0, len(index), chunk):
            rows = index[start : start + chunk]
            f = factors[rows]
            radius = (0.18 * values["scale"][f[:, 1]]).view(-1, 1, 1)  # [M, 1, 1]
            angle = values["orientation"][f[:, 2]].view(-1, 1, 1)
            cx = (0.2 + 0.6 * values["x"][f[:, 3]]).view(-1, 1, 1)
            cy = (0.2 + 0.6 * values["y"][f[:, 4]]).view(-1, 1, 1)
            cos, sin = torch.cos(angle) / radius, torch.sin(angle) / radius
            dx, dy = px - cx, py - cy  # [M, 1, S], [M, S, 1]
            u = cos * dx + sin * dy  # [M, S, S] in the shape's frame
            v = cos * dy - sin * dx
            out[rows, 0] = inside(u, v).to(torch.uint8).mul_(255)
    return out


def _square(u: Any, v: Any) -> Any:
    import torch

    return torch.maximum(u.abs(), v.abs()) <= 0.7


def _ellipse(u: Any, v: Any) -> Any:
    return u * u + 4.0 * v * v <= 1.0


def _heart(u: Any, v: Any) -> Any:
    a2, b = (1.2 * u) ** 2, 0.1 - 1.2 * v
    r = a2 + b * b - 1.0
    return r * r * r <= a2 * b * b * b


class Shapes2DFactors:
    """The factors of a ``shapes2d`` split (``ganzoo_plugins.disentanglement.factors``):
    each image's classes, and images drawn for any classes at this split's size."""

    names = FACTOR_NAMES
    sizes = FACTOR_SIZES

    def __init__(self, index: Any, size: int):
        self.index, self.size = index, size  # [N] grid indices of the split's images

    def values(self) -> Any:
        return grid_factors(self.index).numpy()  # [N, 5]

    def sample(self, n: int, rng: Any) -> Any:
        """``[n, 5]`` classes, each factor uniform and independent (numpy Generator)."""
        import numpy as np

        return np.stack([rng.integers(s, size=n) for s in FACTOR_SIZES], axis=1)

    def render(self, factors: Any) -> Any:
        return render(factors, self.size)


def _split_indices(config: Shapes2DConfig, split: str) -> Any:
    import torch

    if config.count == 0:
        return torch.arange(GRID_SIZE)
    gen = torch.Generator().manual_seed(config.seed * 2 + (1 if split == "test" else 0))
    return torch.randperm(GRID_SIZE, generator=gen)[: config.count].sort().values


def _cached_grid(config: Shapes2DConfig, root: Path) -> Any:
    """The whole grid's images, from the cache when it holds a verified copy."""
    import torch

    key = hashlib.sha256(f"shapes2d v{RENDER_VERSION} size={config.size}".encode()).hexdigest()[:16]
    path = Path(root) / "shapes2d" / f"shapes2d-{config.size}-{key}.pt"
    if config.cache and path.is_file():
        try:
            saved = torch.load(path, weights_only=True)
            images = saved["images"]
            if hashlib.sha256(images.numpy().tobytes()).hexdigest() == saved["sha256"]:
                return images
        except (OSError, RuntimeError, KeyError, EOFError):
            pass  # unreadable or corrupt: render again
    images = render(grid_factors(torch.arange(GRID_SIZE)), config.size)
    if config.cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256(images.numpy().tobytes()).hexdigest()
            partial = path.with_suffix(".tmp")
            torch.save({"images": images, "sha256": digest}, partial)
            partial.replace(path)  # atomic: never a truncated cache file
        except OSError:
            pass  # a read-only data root: use the images without caching them
    return images


def build(config: Shapes2DConfig, *, root: Path, split: str, download: bool) -> Any:
    from ganzoo.data import ImageData
    from ganzoo_plugins.datasets._torchvision import check_split

    check_split(split)
    index = _split_indices(config, split)
    if config.count == 0:
        images = _cached_grid(config, root)
    else:
        images = render(grid_factors(index), config.size)
    # no labels: the shape is one factor among five, and the classifier metrics would train
    # digit classifiers on 737,280 images
    return ImageData(images=images, factors=Shapes2DFactors(index, config.size))
