"""First-party evaluation metrics: what did InfoGAN's codes learn?

* ``categorical_accuracy``: each categorical code as a clusterer of the real test split
  (Hungarian-matched accuracy, NMI, confusion matrix PNG);
* ``mutual_information``: the variational MI lower bound of every code on fresh samples;
* ``continuous_factors``: Spearman ρ of each continuous code dimension with the slant, width
  and thickness of the images it generates, sweeping it with everything else fixed;
* ``class_consistency``: a digit classifier (trained by ganzoo on the training split and
  cached) reads generated images: one class per code value?
* ``frechet_distance``: Fréchet distance between real and generated images in that
  classifier's feature space.

Only configs are imported here; factories are ``"module:attr"`` strings imported on use.
"""

from __future__ import annotations

from ganzoo import MetricSpec, hookimpl
from ganzoo_plugins.metrics.configs import (
    CategoricalAccuracyConfig,
    ClassConsistencyConfig,
    ContinuousFactorsConfig,
    FrechetDistanceConfig,
    MutualInformationConfig,
)

_HERE = __name__


@hookimpl
def ganzoo_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(
            name="categorical_accuracy",
            summary="categorical codes as clusterers of the real test split: matched accuracy, "
            "NMI, confusion matrix",
            config=CategoricalAccuracyConfig,
            summary_keys=("accuracy", "nmi"),
            factory=f"{_HERE}.categorical_accuracy:CategoricalAccuracy",
        ),
        MetricSpec(
            name="mutual_information",
            summary="variational MI lower bound of every regularised code on fresh samples, "
            "beside its entropy",
            config=MutualInformationConfig,
            summary_keys=("mi_lower_bound", "entropy"),
            factory=f"{_HERE}.mutual_information:MutualInformation",
        ),
        MetricSpec(
            name="continuous_factors",
            summary="Spearman rho of each continuous code dimension with slant, width and "
            "thickness of the generated images",
            config=ContinuousFactorsConfig,
            summary_keys=("slant_abs_rho", "width_abs_rho", "thickness_abs_rho"),
            factory=f"{_HERE}.continuous_factors:ContinuousFactors",
        ),
        MetricSpec(
            name="class_consistency",
            summary="a digit classifier reads generated images: majority-class share per "
            "code value and matched accuracy",
            config=ClassConsistencyConfig,
            summary_keys=("class_consistency", "generated_accuracy"),
            factory=f"{_HERE}.class_consistency:ClassConsistency",
        ),
        MetricSpec(
            name="frechet_distance",
            summary="Fréchet distance of real and generated images in the digit classifier's "
            "feature space",
            config=FrechetDistanceConfig,
            summary_keys=("frechet_distance",),
            factory=f"{_HERE}.frechet_distance:FrechetDistance",
        ),
    ]
