"""Kernel distance (KID, Bińkowski et al. 2018): the unbiased squared MMD of two feature sets
with the cubic polynomial kernel ``k(x, y) = (x . y / D + 1)^3``, averaged over random
subsets (as the paper's and torch-fidelity's implementations do). Unlike the Fréchet
distance it is unbiased, so values from different sample sizes compare; it can be slightly
negative when the sets match."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["kernel_distance", "polynomial_mmd"]


def polynomial_mmd(a: Tensor, b: Tensor) -> float:
    """Unbiased MMD^2 of ``a [N, D]`` and ``b [M, D]`` (float64) with the cubic kernel."""
    a, b = a.double(), b.double()
    d = a.shape[1]
    k_aa = (a @ a.T / d + 1) ** 3  # [N, N]
    k_bb = (b @ b.T / d + 1) ** 3  # [M, M]
    k_ab = (a @ b.T / d + 1) ** 3  # [N, M]
    n, m = len(a), len(b)
    within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (n * (n - 1))
    within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (m * (m - 1))
    return float(within_a + within_b - 2 * k_ab.mean())


def kernel_distance(
    a: Tensor,
    b: Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Mean and standard deviation of :func:`polynomial_mmd` over ``subsets`` random subsets
    of ``min(subset_size, N, M)`` points of each set."""
    a, b = torch.as_tensor(a).cpu(), torch.as_tensor(b).cpu()
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features must be [N, D] and [M, D], got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"need at least 2 points in each set, got {len(a)} and {len(b)}")
    device = generator.device if generator is not None else None

    def subset(n: int) -> Tensor:  # [size] random indices, drawn on the generator's device
        return torch.randperm(n, generator=generator, device=device)[:size].cpu()

    values = torch.tensor(
        [polynomial_mmd(a[subset(len(a))], b[subset(len(b))]) for _ in range(subsets)],
        dtype=torch.float64,
    )
    std = float(values.std()) if subsets > 1 else 0.0
    return float(values.mean()), std
