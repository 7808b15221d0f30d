"""BetaVAE score (Higgins et al. 2017), as disentanglement_lib computes it.

Each training point fixes one random factor k across ``batch_size`` pairs of images (the
other factors drawn independently for both images of a pair) and averages |r(x1) - r(x2)|
over the pairs; a linear classifier predicts k from that average. The score is its
held-out accuracy. disentanglement_lib fits scikit-learn's ``LogisticRegression``; ganzoo
fits the same model (multinomial, L2) by L-BFGS in torch (``estimators``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.disentanglement.configs import BetaVaeConfig
from ganzoo_plugins.disentanglement.estimators import LogisticRegression
from ganzoo_plugins.disentanglement.factor_vae import Represent, Sample, renderer
from ganzoo_plugins.disentanglement.factors import interventional, numpy_rng, scaled

POINTS_PER_CALL = 8
"""Training points whose pairs are represented in one call (8 x 2 x 64 images)."""


def _points(
    represent: Represent,
    sample: Sample,
    num_factors: int,
    count: int,
    batch_size: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    features, labels = [], []
    for start in range(0, count, POINTS_PER_CALL):
        c = min(POINTS_PER_CALL, count - start)
        k = rng.integers(num_factors, size=c)  # [C] the factor each point's pairs share
        first = sample(c * batch_size, rng).reshape(c, batch_size, -1)  # [C, B, F]
        second = sample(c * batch_size, rng).reshape(c, batch_size, -1)
        second[np.arange(c), :, k] = first[np.arange(c), :, k]
        both = represent(np.concatenate([first, second]).reshape(2 * c * batch_size, -1))
        both = both.reshape(2, c, batch_size, -1)  # [2, C, B, R]
        features.append(np.abs(both[0] - both[1]).mean(axis=1))  # [C, R]
        labels.append(k)
    return np.concatenate(features), np.concatenate(labels)


def beta_vae_score(
    represent: Represent,
    sample: Sample,
    num_factors: int,
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    l2: float = 1e-3,
) -> dict[str, Any]:
    """-> ``{"train_accuracy", "eval_accuracy"}``."""
    x_train, y_train = _points(represent, sample, num_factors, num_train, batch_size, rng)
    x_eval, y_eval = _points(represent, sample, num_factors, num_eval, batch_size, rng)
    model = LogisticRegression(l2).fit(x_train, y_train)
    return {
        "train_accuracy": model.accuracy(x_train, y_train),
        "eval_accuracy": model.accuracy(x_eval, y_eval),
    }


class BetaVAEScore(Metric):
    def __init__(self, config: BetaVaeConfig = BetaVaeConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        factors = interventional(ctx)
        cfg = self.config
        counts = {
            "num_train": scaled(ctx, cfg.num_train, 8),
            "num_eval": scaled(ctx, cfg.num_eval, 8),
        }
        result = beta_vae_score(
            renderer(ctx, factors),
            factors.sample,
            len(factors.sizes),
            numpy_rng(ctx, "beta_vae"),
            batch_size=cfg.batch_size,
            l2=cfg.l2,
            **counts,
        )
        return {
            "disentanglement": {"beta_vae": {**result, **counts, "factors": list(factors.names)}}
        }

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        item = report.get("disentanglement", {}).get("beta_vae")
        return {"beta_vae_score": (item["eval_accuracy"], "regularised codes")} if item else {}
