"""DCI disentanglement, completeness and informativeness (Eastwood & Williams 2018), with
disentanglement_lib's aggregation.

For each factor a classifier predicts it from all codes; ``importance[i, j]`` says how much
it relies on code i. Disentanglement weighs, for every code, 1 - entropy of its importance
over the factors (base F) by its share of the total importance; completeness is the same
per factor over the codes (base R); informativeness is the classifiers' mean held-out
accuracy.

The documented substitute for disentanglement_lib's gradient-boosted trees (scikit-learn
is not a dependency): a multinomial logistic regression (L2) on, per code, its standardised
value plus a one-hot of its 20 equal-width bins, so relations that are not monotone (an
orientation code of a symmetric shape, a categorical code's index) are learnable too. A
code's importance is its permutation importance: how much the classifier's training accuracy drops when that
code is shuffled (clipped at 0), normalised per factor to sum to 1 as the trees' impurity
importances are; like them it is 0 for a code the classifier does not use, and spread over
every code for a factor no code predicts (which lowers D, as in the library). D and C read
alike; absolute values can differ from the library's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import entropy as scipy_entropy

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.disentanglement.configs import DciConfig
from ganzoo_plugins.disentanglement.estimators import LogisticRegression
from ganzoo_plugins.disentanglement.factors import factor_names, observations, scaled


def code_features(codes: np.ndarray, edges: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """``[N, R]`` -> features ``[N, R * (1 + bins)]`` and the code each feature belongs to."""
    blocks, owner = [], []
    for i, e in enumerate(edges):
        onehot = np.eye(len(e) + 1)[np.digitize(codes[:, i], e)]  # [N, bins]
        blocks += [codes[:, i : i + 1], onehot]
        owner += [i] * (1 + onehot.shape[1])
    return np.concatenate(blocks, axis=1), owner


def importance_matrix(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
    bins: int = 20,
    l2: float = 1e-3,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> importance ``[R, F]``, train accuracy ``[F]``, test accuracy ``[F]``.

    ``importance[i, j]``: how much the training accuracy of factor j's classifier drops when
    code i is shuffled across the training images (permutation importance, clipped at 0),
    each factor's column normalised to sum to 1 as the trees' ``feature_importances_`` are."""
    r, f = train_codes.shape[1], train_factors.shape[1]
    edges = [np.histogram(train_codes[:, i], bins)[1][1:-1] for i in range(r)]
    x_train, _ = code_features(train_codes, edges)
    x_test, _ = code_features(test_codes, edges)
    rng = np.random.default_rng(seed)
    shuffled = []
    for i in range(r):
        codes = train_codes.copy()
        codes[:, i] = codes[rng.permutation(len(codes)), i]
        shuffled.append(code_features(codes, edges)[0])
    importance = np.zeros((r, f))
    train_acc, test_acc = np.zeros(f), np.zeros(f)
    for j in range(f):
        model = LogisticRegression(l2).fit(x_train, train_factors[:, j])
        train_acc[j] = model.accuracy(x_train, train_factors[:, j])
        test_acc[j] = model.accuracy(x_test, test_factors[:, j])
        for i in range(r):
            importance[i, j] = max(
                0.0, train_acc[j] - model.accuracy(shuffled[i], train_factors[:, j])
            )
        if importance[:, j].sum() > 0:
            importance[:, j] /= importance[:, j].sum()
    return importance, train_acc, test_acc


def _weighted_one_minus_entropy(importance: np.ndarray) -> float:
    """Rows are the units scored (codes for D); each row's 1 - H(row, base = its length),
    weighted by the row's share of the total importance."""
    if importance.shape[1] < 2:
        return 1.0
    total = importance.sum()
    if total <= 0:
        return 0.0
    scores = 1.0 - scipy_entropy(importance.T + 1e-11, base=importance.shape[1])  # [rows]
    return float((scores * importance.sum(axis=1) / total).sum())


def dci(
    train_codes: np.ndarray,
    train_factors: np.ndarray,
    test_codes: np.ndarray,
    test_factors: np.ndarray,
    bins: int = 20,
    l2: float = 1e-3,
) -> dict[str, Any]:
    """Codes ``[N, R]`` and factor classes ``[N, F]`` of a train and a test split ->
    ``{"disentanglement", "completeness", "informativeness", ...}``."""
    importance, train_acc, test_acc = importance_matrix(
        train_codes, train_factors, test_codes, test_factors, bins, l2
    )
    return {
        "disentanglement": _weighted_one_minus_entropy(importance),
        "completeness": _weighted_one_minus_entropy(importance.T),
        "informativeness": float(test_acc.mean()),
        "informativeness_train": float(train_acc.mean()),
        "importance": importance.tolist(),
    }


class DCI(Metric):
    def __init__(self, config: DciConfig = DciConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        n_train, n_test = scaled(ctx, self.config.num_train), scaled(ctx, self.config.num_test)
        codes, factors = observations(ctx, n_train + n_test)
        result = dci(
            codes[:n_train],
            factors[:n_train],
            codes[n_train:],
            factors[n_train:],
            self.config.bins,
            self.config.l2,
        )
        result["factors"] = factor_names(ctx)
        return {"disentanglement": {"dci": {**result, "num_train": n_train, "num_test": n_test}}}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        item = report.get("disentanglement", {}).get("dci")
        if not item:
            return {}
        return {
            f"dci_{k}": (item[k], "regularised codes")
            for k in ("disentanglement", "completeness", "informativeness")
        }
