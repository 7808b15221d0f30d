"""Fréchet distance between Gaussian fits of two feature sets (as in FID).

``d^2 = ||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^{1/2})``.

Everything is computed in float64.  The trace of the matrix square root uses
``tr((S_a S_b)^{1/2}) = sum sqrt(eig(R S_b R))`` with ``R = S_a^{1/2}``: the
matrix ``R S_b R`` is symmetric positive semi-definite, so a symmetric
eigendecomposition gives real, non-negative eigenvalues without the complex
round-off that a general ``sqrtm`` of ``S_a S_b`` produces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["frechet_distance", "frechet_from_stats", "gaussian_stats"]


def _as_float64(values: Any, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().to(torch.float64).numpy()
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def gaussian_stats(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64) of ``features [N, D]``."""
    x = _as_float64(features, "features")
    if x.ndim == 1:
        x = x[:, None]  # [N, 1]
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must be [N, D] with N >= 2, got shape {x.shape}")
    mu = x.mean(axis=0)  # [D]
    centred = x - mu  # [N, D]
    sigma = centred.T @ centred / (x.shape[0] - 1)  # [D, D]
    return mu, sigma


def _psd_sqrt(sym: np.ndarray) -> np.ndarray:
    """Symmetric square root ``[D, D]`` of a symmetric PSD matrix (negative round-off clipped)."""
    vals, vecs = np.linalg.eigh(0.5 * (sym + sym.T))  # [D], [D, D]
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T  # [D, D]


def frechet_from_stats(mu_a: Any, sigma_a: Any, mu_b: Any, sigma_b: Any) -> float:
    """Fréchet distance (squared, as FID reports it) between N(mu_a, sigma_a) and N(mu_b, sigma_b)."""
    ma = _as_float64(mu_a, "mu_a").reshape(-1)  # [D]
    mb = _as_float64(mu_b, "mu_b").reshape(-1)  # [D]
    d = ma.size
    sa = _as_float64(sigma_a, "sigma_a").reshape(d, d)  # [D, D]
    sb = _as_float64(sigma_b, "sigma_b").reshape(d, d)  # [D, D]
    if mb.size != d:
        raise ValueError(f"mean sizes differ: {d} vs {mb.size}")
    root_a = _psd_sqrt(sa)  # [D, D]
    middle = root_a @ sb @ root_a  # [D, D], symmetric PSD
    eig = np.linalg.eigvalsh(0.5 * (middle + middle.T))  # [D]
    tr_cross = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = ma - mb  # [D]
    value = float(diff @ diff) + float(np.trace(sa)) + float(np.trace(sb)) - 2.0 * tr_cross
    return max(value, 0.0)


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Fréchet distance between Gaussian fits of ``features_a [N, D]`` and ``features_b [M, D]``."""
    mu_a, sigma_a = gaussian_stats(features_a)
    mu_b, sigma_b = gaussian_stats(features_b)
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"feature dimensions differ: {mu_a.size} vs {mu_b.size}")
    return frechet_from_stats(mu_a, sigma_a, mu_b, sigma_b)
