"""Disentanglement measured against known factors of variation (disentanglement_lib's
definitions): MIG, DCI, SAP, the FactorVAE score and the BetaVAE score.

They run on datasets whose ``ImageData.factors`` says what made each image (``factors.py``:
``shapes2d``'s grid, MNIST's class and measured shape); the FactorVAE and BetaVAE scores
also need a dataset that draws images for given factor values, and are reported as
unavailable, with the reason, elsewhere. The representation is Q's estimate of every
regularised code. Each metric's math is a pure function on arrays, wrapped by its plugin.

Only configs are imported here; factories are ``"module:attr"`` strings imported on use.
"""

from __future__ import annotations

from ganzoo import MetricSpec, hookimpl
from ganzoo_plugins.disentanglement.configs import (
    BetaVaeConfig,
    DciConfig,
    FactorVaeConfig,
    MigConfig,
    SapConfig,
)

_HERE = __name__


@hookimpl
def ganzoo_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(
            name="mig",
            summary="mutual information gap of Q's codes and the dataset's known factors",
            config=MigConfig,
            summary_keys=("mig",),
            factory=f"{_HERE}.mig:MIG",
        ),
        MetricSpec(
            name="dci",
            summary="DCI disentanglement, completeness and informativeness of Q's codes "
            "(logistic-regression importances)",
            config=DciConfig,
            summary_keys=("dci_disentanglement", "dci_completeness", "dci_informativeness"),
            factory=f"{_HERE}.dci:DCI",
        ),
        MetricSpec(
            name="sap",
            summary="separated attribute predictability: gap between the two codes that best "
            "predict each factor",
            config=SapConfig,
            summary_keys=("sap",),
            factory=f"{_HERE}.sap:SAP",
        ),
        MetricSpec(
            name="factor_vae_score",
            summary="FactorVAE score: fix one factor, the least varying code must name it "
            "(datasets that render given factors)",
            config=FactorVaeConfig,
            summary_keys=("factor_vae_score",),
            factory=f"{_HERE}.factor_vae:FactorVAEScore",
        ),
        MetricSpec(
            name="beta_vae_score",
            summary="BetaVAE score: a linear classifier names the factor a pair of batches "
            "shares (datasets that render given factors)",
            config=BetaVaeConfig,
            summary_keys=("beta_vae_score",),
            factory=f"{_HERE}.beta_vae:BetaVAEScore",
        ),
    ]
