"""Parameters of the disentanglement metrics (imported when metrics are listed: attrs only).

Defaults are google-research/disentanglement_lib's; every count is scaled by
``ganzoo eval --samples`` / 5000 (``factors.scaled``)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class MigConfig:
    """Mutual information gap (Chen et al. 2018)."""

    num_train: int = param(10000, "test images whose codes are compared with their factors", ge=2, le=10**9)
    bins: int = param(20, "equal-width bins each code dimension is discretised into", ge=2, le=1000)


@attrs.frozen
class DciConfig:
    """DCI disentanglement, completeness, informativeness (Eastwood & Williams 2018)."""

    num_train: int = param(10000, "images the factor classifiers are fitted on", ge=2, le=10**9)
    num_test: int = param(5000, "held-out images informativeness is measured on", ge=1, le=10**9)
    bins: int = param(
        20, "bins per code dimension in the classifiers' one-hot features", ge=2, le=1000
    )
    l2: float = param(1e-3, "L2 penalty of the logistic regressions", ge=0, le=1e6)


@attrs.frozen
class SapConfig:
    """Separated attribute predictability (Kumar et al. 2018)."""

    num_train: int = param(10000, "images the one-code classifiers are fitted on", ge=2, le=10**9)
    num_test: int = param(5000, "held-out images they are scored on", ge=1, le=10**9)


@attrs.frozen
class FactorVaeConfig:
    """FactorVAE score (Kim & Mnih 2018): which code varies least when one factor is fixed?"""

    batch_size: int = param(64, "images per vote, all sharing the fixed factor", ge=2, le=10**9)
    num_train: int = param(10000, "votes the majority-vote classifier is built from", ge=1, le=10**9)
    num_eval: int = param(5000, "votes it is scored on", ge=1, le=10**9)
    num_variance_estimate: int = param(10000, "images the codes' global variances come from", ge=2, le=10**9)
    prune_threshold: float = param(0.05, "codes whose global std is below this are inactive", ge=0, le=1)


@attrs.frozen
class BetaVaeConfig:
    """BetaVAE score (Higgins et al. 2017): which factor did a pair of batches share?"""

    batch_size: int = param(64, "pairs averaged into one training point", ge=1, le=10**9)
    num_train: int = param(10000, "training points of the linear classifier", ge=1, le=10**9)
    num_eval: int = param(5000, "points it is scored on", ge=1, le=10**9)
    l2: float = param(1e-3, "L2 penalty of the logistic regression", ge=0, le=1e6)
