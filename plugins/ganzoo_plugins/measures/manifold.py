"""Sample quality as overlap of k-nearest-neighbour manifolds in a feature space.

Each point's ball has the radius of its k-th nearest neighbour within its own set.

* precision (Kynkäänniemi et al. 2019): the share of fake points inside some real ball;
* recall: the share of real points inside some fake ball;
* density (Naeem et al. 2020): how many real balls hold each fake point, over k, averaged —
  about 1 when fakes follow the real distribution, above 1 where they crowd dense regions;
* coverage (Naeem et al. 2020): the share of real balls that hold at least one fake point.

Distances are Euclidean, in float64, from ``torch.cdist`` (its matrix-product form) in row
chunks, so memory stays at ``chunk`` rows x the other set, never N x M (10k x 10k points fit
in a few tens of MB). A point on a ball's boundary counts as inside; "on" allows a relative
round-off of ``TOLERANCE`` so that d(a, b) and d(b, a), computed in different chunks, agree
(a duplicated point lies exactly on its neighbours' boundaries).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import torch
from torch import Tensor

__all__ = [
    "ManifoldOverlap",
    "density_coverage",
    "kth_neighbour_radii",
    "manifold_overlap",
    "precision_recall",
]

CHUNK = 1024
TOLERANCE = 1e-9


@attrs.frozen
class ManifoldOverlap:
    precision: float
    recall: float
    density: float
    coverage: float


def _points(x: Tensor, name: str) -> Tensor:
    x = torch.as_tensor(x)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{name} must be [N, D] with N >= 2, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.double()


def _distances(a: Tensor, b: Tensor) -> Tensor:  # [n, D], [M, D] -> [n, M]
    return torch.cdist(a, b, compute_mode="use_mm_for_euclid_dist")


def kth_neighbour_radii(points: Tensor, k: int | Sequence[int], chunk: int = CHUNK) -> Tensor:
    """Distance from each point to its k-th nearest *other* point of the same set: ``[N]``
    for one k, ``[N, len(k)]`` for several (one pass over the distances)."""
    x = _points(points, "points")
    ks = [k] if isinstance(k, int) else list(k)
    for each in ks:
        if not 1 <= each < len(x):
            raise ValueError(f"k must be in [1, {len(x) - 1}] for {len(x)} points, got {each}")
    radii = []
    for rows in x.split(chunk):
        d = _distances(rows, x)  # [c, N]; each row holds its own point at distance 0
        nearest = d.topk(max(ks) + 1, dim=1, largest=False).values  # [c, max k + 1]
        radii.append(nearest[:, ks])  # [c, len(ks)]
    out = torch.cat(radii)
    return out[:, 0] if isinstance(k, int) else out


def _inside_counts(queries: Tensor, centres: Tensor, radii: Tensor, chunk: int) -> Tensor:
    """For each query ``[Q, D]``: how many balls (``centres [C, D]``, ``radii [C]``) hold it."""
    counts = []
    for rows in queries.split(chunk):
        inside = _distances(rows, centres) <= radii.unsqueeze(0) * (1 + TOLERANCE)  # [c, C]
        counts.append(inside.sum(dim=1))  # [c]
    return torch.cat(counts)


def _nearest(queries: Tensor, others: Tensor, chunk: int) -> Tensor:
    """Distance ``[Q]`` from each query to its nearest point of ``others``."""
    return torch.cat([_distances(rows, others).min(dim=1).values for rows in queries.split(chunk)])


def precision_recall(
    real: Tensor, fake: Tensor, k: int = 3, chunk: int = CHUNK
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake [M, D]`` against
    ``real [N, D]`` with k-NN balls."""
    r, f = _points(real, "real"), _points(fake, "fake")
    return _precision_recall(r, f, kth_neighbour_radii(r, k, chunk), k, chunk)


def density_coverage(
    real: Tensor, fake: Tensor, k: int = 5, chunk: int = CHUNK
) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) of ``fake [M, D]`` against ``real [N, D]``:
    only real balls are used, so outlying real points cannot inflate them."""
    r, f = _points(real, "real"), _points(fake, "fake")
    return _density_coverage(r, f, kth_neighbour_radii(r, k, chunk), k, chunk)


def manifold_overlap(
    real: Tensor,
    fake: Tensor,
    k_precision_recall: int = 3,
    k_density_coverage: int = 5,
    chunk: int = CHUNK,
) -> ManifoldOverlap:
    """All four measures of ``fake`` against ``real`` (the real radii computed once)."""
    r, f = _points(real, "real"), _points(fake, "fake")
    radii = kth_neighbour_radii(r, [k_precision_recall, k_density_coverage], chunk)  # [N, 2]
    precision, recall = _precision_recall(r, f, radii[:, 0], k_precision_recall, chunk)
    density, coverage = _density_coverage(r, f, radii[:, 1], k_density_coverage, chunk)
    return ManifoldOverlap(precision, recall, density, coverage)


def _precision_recall(
    r: Tensor, f: Tensor, real_radii: Tensor, k: int, chunk: int
) -> tuple[float, float]:
    fake_radii = kth_neighbour_radii(f, k, chunk)  # [M]
    precision = (_inside_counts(f, r, real_radii, chunk) > 0).double().mean()
    recall = (_inside_counts(r, f, fake_radii, chunk) > 0).double().mean()
    return float(precision), float(recall)


def _density_coverage(
    r: Tensor, f: Tensor, real_radii: Tensor, k: int, chunk: int
) -> tuple[float, float]:
    density = _inside_counts(f, r, real_radii, chunk).double().sum() / (k * len(f))
    coverage = (_nearest(r, f, chunk) <= real_radii * (1 + TOLERANCE)).double().mean()
    return float(density), float(coverage)
