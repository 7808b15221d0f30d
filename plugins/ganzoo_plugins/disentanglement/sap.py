"""Separated attribute predictability (Kumar et al. 2018), as disentanglement_lib computes
it for discrete factors.

``score[i, j]``: the held-out accuracy of a linear classifier that predicts factor j from
code i alone. SAP is the mean over factors of the gap between the two best codes. Where
disentanglement_lib fits ``LinearSVC(C=0.01, class_weight="balanced")``, ganzoo fits a
one-feature linear discriminant with a shared variance and equal priors (scikit-learn is
not a dependency); both are linear, balanced classifiers of one number. A perfect code of a
factor with K equally likely values scores about 1 - 1/K (the second code is at chance).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.disentanglement.configs import SapConfig
from ganzoo_plugins.disentanglement.estimators import fit_1d_lda, predict_1d_lda
from ganzoo_plugins.disentanglement.factors import factor_names, observations, scaled


def sap(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
) -> dict[str, Any]:
    """Codes ``[N, R]`` and factor classes ``[N, F]`` of a train and a test split ->
    ``{"score", "per_factor", "accuracy" [R, F]}``."""
    r, f = train_codes.shape[1], train_factors.shape[1]
    accuracy = np.zeros((r, f))
    for i in range(r):
        for j in range(f):
            model = fit_1d_lda(train_codes[:, i], train_factors[:, j])
            accuracy[i, j] = (predict_1d_lda(model, test_codes[:, i]) == test_factors[:, j]).mean()
    top = np.sort(accuracy, axis=0)[::-1]  # [R, F]
    gaps = top[0] - (top[1] if r > 1 else 0.0)  # [F]
    return {"score": float(gaps.mean()), "per_factor": gaps.tolist(), "accuracy": accuracy.tolist()}


class SAP(Metric):
    def __init__(self, config: SapConfig = SapConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        n_train, n_test = scaled(ctx, self.config.num_train), scaled(ctx, self.config.num_test)
        codes, factors = observations(ctx, n_train + n_test)
        result = sap(codes[:n_train], factors[:n_train], codes[n_train:], factors[n_train:])
        result["per_factor"] = dict(zip(factor_names(ctx), result["per_factor"], strict=True))
        return {"disentanglement": {"sap": {**result, "num_train": n_train, "num_test": n_test}}}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        item = report.get("disentanglement", {}).get("sap")
        return {"sap": (item["score"], "regularised codes")} if item else {}
