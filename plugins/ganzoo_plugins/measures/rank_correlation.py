"""Rank correlation between continuous codes and measured image properties."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["average_ranks", "correlation_table", "spearman"]


def _as_vector(values: Any, name: str) -> np.ndarray:
    """Flat float64 array from a tensor / array / sequence; rejects NaN / inf."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().to(torch.float64).numpy()
    arr = np.asarray(values, dtype=np.float64).reshape(-1)  # [N]
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def average_ranks(values: Any) -> np.ndarray:
    """1-based ranks ``[N]`` (float64); tied values share their mean rank."""
    x = _as_vector(values, "values")  # [N]
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)  # [U] groups
    ends = np.cumsum(counts)  # [U] rank of each group's last member
    group_rank = ends - (counts - 1) / 2.0  # [U] mean of ranks ends-counts+1 .. ends
    return group_rank[inverse.reshape(-1)]  # [N]


def spearman(a: Any, b: Any) -> float:
    """Spearman's rank correlation of two equal-length vectors, in ``[-1, 1]``.

    Pearson correlation of the average ranks (so ties are handled as in
    ``scipy.stats.spearmanr``).  Returns 0.0 when either input is constant or
    has fewer than two entries, where the correlation is undefined.
    """
    ra = average_ranks(a)  # [N]
    rb = average_ranks(b)  # [N]
    if ra.shape != rb.shape:
        raise ValueError(f"length mismatch: {ra.size} vs {rb.size}")
    if ra.size < 2:
        return 0.0
    da = ra - ra.mean()  # [N]
    db = rb - rb.mean()  # [N]
    denom = float(np.sqrt((da * da).sum() * (db * db).sum()))
    if denom == 0.0:
        return 0.0
    return float(np.clip((da * db).sum() / denom, -1.0, 1.0))


def correlation_table(codes: Any, properties: Mapping[str, Any]) -> dict[str, list[float]]:
    """Spearman rho of every code column with every property.

    ``codes`` is ``[N, C]`` (a ``[N]`` vector counts as one column) and each
    property a length-``N`` vector.  Returns ``{property: [rho_code0, ...]}``.
    """
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().to(torch.float64).numpy()
    z = np.asarray(codes, dtype=np.float64)
    if z.ndim == 1:
        z = z[:, None]  # [N, 1]
    if z.ndim != 2:
        raise ValueError(f"codes must be [N, C], got shape {z.shape}")
    table: dict[str, list[float]] = {}
    for name, values in properties.items():
        prop = _as_vector(values, name)  # [N]
        if prop.size != z.shape[0]:
            raise ValueError(f"property {name!r} has {prop.size} entries, codes have {z.shape[0]}")
        table[name] = [spearman(z[:, j], prop) for j in range(z.shape[1])]
    return table
