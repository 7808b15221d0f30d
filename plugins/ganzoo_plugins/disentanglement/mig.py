"""Mutual information gap (Chen et al. 2018), as disentanglement_lib computes it.

Each code dimension is discretised into 20 equal-width bins; ``m[i, j]`` is the mutual
information of code i with factor j (nats). MIG is the mean over factors of the gap
between the two most informative codes, divided by the factor's entropy: 1 when every
factor is captured by exactly one code, 0 when none or several capture it equally.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.disentanglement.configs import MigConfig
from ganzoo_plugins.disentanglement.estimators import (
    entropy,
    histogram_discretize,
    mutual_information_matrix,
)
from ganzoo_plugins.disentanglement.factors import factor_names, observations, scaled


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> dict[str, Any]:
    """``codes [N, R]`` floats, ``factors [N, F]`` integer classes -> ``{"score", "per_factor",
    "mutual_information" [R, F]}``; factors that never vary are left out (None)."""
    m = mutual_information_matrix(histogram_discretize(codes, bins), factors)  # [R, F]
    h = np.array([entropy(factors[:, j]) for j in range(factors.shape[1])])  # [F]
    top = np.sort(m, axis=0)[::-1]  # [R, F], most informative code first
    second = top[1] if len(top) > 1 else np.zeros_like(top[0])
    per_factor = [float(g / e) if e > 0 else None for g, e in zip(top[0] - second, h, strict=True)]
    kept = [v for v in per_factor if v is not None]
    return {
        "score": float(np.mean(kept)) if kept else None,
        "per_factor": per_factor,
        "mutual_information": m.tolist(),
    }


class MIG(Metric):
    def __init__(self, config: MigConfig = MigConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        n = scaled(ctx, self.config.num_train)
        codes, factors = observations(ctx, n)
        result = mig(codes, factors, self.config.bins)
        result["per_factor"] = dict(zip(factor_names(ctx), result["per_factor"], strict=True))
        return {"disentanglement": {"mig": {**result, "num_train": n}}}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        item = report.get("disentanglement", {}).get("mig")
        return {"mig": (item["score"], "regularised codes")} if item else {}
