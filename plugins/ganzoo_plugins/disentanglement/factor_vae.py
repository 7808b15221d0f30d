"""FactorVAE score (Kim & Mnih 2018), as disentanglement_lib computes it.

Codes are first divided by their global std (over ``num_variance_estimate`` images), and
codes whose std is below 0.05 are pruned. Each vote fixes one random factor k for a batch
of 64 images (the others are drawn at random), and votes for the code with the smallest
normalised variance in that batch: the pair (code, k). A majority-vote classifier maps each
code to the factor it votes for most; the score is its accuracy on separate votes. It needs
a dataset that can draw images for chosen factor values (``factors.can_render``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.disentanglement.configs import FactorVaeConfig
from ganzoo_plugins.disentanglement.factors import (
    interventional,
    numpy_rng,
    representation,
    scaled,
)

Represent = Callable[[np.ndarray], np.ndarray]  # factor classes [n, F] -> codes [n, R]
Sample = Callable[[int, np.random.Generator], np.ndarray]  # n -> factor classes [n, F]


VOTES_PER_CALL = 16
"""Votes whose batches are represented in one call (16 x 64 images): Q runs on big batches."""


def _votes(
    represent: Represent,
    sample: Sample,
    num_factors: int,
    variances: np.ndarray,
    active: np.ndarray,
    count: int,
    batch_size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    votes = np.zeros((len(variances), num_factors), dtype=np.int64)  # [R, F]
    for start in range(0, count, VOTES_PER_CALL):
        c = min(VOTES_PER_CALL, count - start)
        k = rng.integers(num_factors, size=c)  # [C] the factor each vote fixes
        factors = sample(c * batch_size, rng).reshape(c, batch_size, -1)  # [C, B, F]
        factors[np.arange(c), :, k] = factors[np.arange(c), 0, k][:, None]
        codes = represent(factors.reshape(c * batch_size, -1)).reshape(
            c, batch_size, -1
        )  # [C, B, R]
        local = codes.var(axis=1, ddof=1)  # [C, R]
        chosen = np.flatnonzero(active)[
            np.argmin(local[:, active] / variances[active], axis=1)
        ]  # [C]
        np.add.at(votes, (chosen, k), 1)
    return votes


def factor_vae_score(
    represent: Represent,
    sample: Sample,
    num_factors: int,
    rng: np.random.Generator,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    prune_threshold: float = 0.05,
) -> dict[str, Any]:
    """-> ``{"train_accuracy", "eval_accuracy", "active_codes", "votes" [R, F]}``."""
    variances = represent(sample(num_variance_estimate, rng)).var(axis=0, ddof=1)  # [R]
    active = np.sqrt(variances) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "active_codes": 0, "votes": None}
    train = _votes(represent, sample, num_factors, variances, active, num_train, batch_size, rng)
    held_out = _votes(represent, sample, num_factors, variances, active, num_eval, batch_size, rng)
    classifier = train.argmax(axis=1)  # [R]: each code's factor
    rows = np.arange(len(classifier))
    return {
        "train_accuracy": float(train[rows, classifier].sum() / train.sum()),
        "eval_accuracy": float(held_out[rows, classifier].sum() / held_out.sum()),
        "active_codes": int(active.sum()),
        "votes": train.tolist(),
    }


def renderer(ctx: EvalContext, factors: Any) -> Represent:
    """Factor classes -> the representation of the images the dataset draws for them."""
    return lambda values: representation(ctx, factors.render(values))


class FactorVAEScore(Metric):
    def __init__(self, config: FactorVaeConfig = FactorVaeConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        factors = interventional(ctx)
        cfg = self.config
        counts = {
            "num_train": scaled(ctx, cfg.num_train, 1),
            "num_eval": scaled(ctx, cfg.num_eval, 1),
            "num_variance_estimate": scaled(ctx, cfg.num_variance_estimate),
        }
        result = factor_vae_score(
            renderer(ctx, factors),
            factors.sample,
            len(factors.sizes),
            numpy_rng(ctx, "factor_vae"),
            batch_size=cfg.batch_size,
            prune_threshold=cfg.prune_threshold,
            **counts,
        )
        return {
            "disentanglement": {"factor_vae": {**result, **counts, "factors": list(factors.names)}}
        }

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        item = report.get("disentanglement", {}).get("factor_vae")
        return {"factor_vae_score": (item["eval_accuracy"], "regularised codes")} if item else {}
