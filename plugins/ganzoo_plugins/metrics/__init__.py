"""First-party evaluation metrics: what did the codes learn, and how good are the samples?

What the codes learned (InfoGAN and other families with regularised codes):

* ``categorical_accuracy``: each categorical code as a clusterer of the real test split
  (Hungarian-matched accuracy, NMI, confusion matrix PNG);
* ``mutual_information``: the variational MI lower bound of every code on fresh samples;
* ``continuous_factors``: Spearman ρ of each continuous code dimension with the slant, width
  and thickness of the images it generates (stroke datasets only);
* ``class_consistency``: the dataset's own classifier (``feature_classifier``: trained by
  ganzoo on the training split, cached) reads generated images: one class per code value?

Sample quality, in that classifier's features, each with its floor (real train vs test):

* ``frechet_distance``; ``precision_recall`` (Kynkäänniemi et al. 2019, k = 3);
  ``density_coverage`` (Naeem et al. 2020, k = 5);
* class-conditional families: ``conditional_accuracy`` and ``intra_class_frechet``;
* ``fid_inception``: FID and KID in TF-Inception features (optional extra ``[fid]``).

Only configs are imported here; factories are ``"module:attr"`` strings imported on use.
"""

from __future__ import annotations

from ganzoo import MetricSpec, hookimpl
from ganzoo_plugins.metrics.configs import (
    CategoricalAccuracyConfig,
    ClassConsistencyConfig,
    ConditionalAccuracyConfig,
    ContinuousFactorsConfig,
    DensityCoverageConfig,
    FidInceptionConfig,
    FrechetDistanceConfig,
    IntraClassFrechetConfig,
    MutualInformationConfig,
    PrecisionRecallConfig,
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
            summary="the dataset's own classifier reads generated images: does each code value "
            "draw its own class (values matched to classes one to one)",
            config=ClassConsistencyConfig,
            summary_keys=("class_consistency", "generated_accuracy"),
            factory=f"{_HERE}.class_consistency:ClassConsistency",
        ),
        MetricSpec(
            name="frechet_distance",
            summary="Fréchet distance of real test and generated images in the dataset "
            "classifier's features, with the real train vs test floor",
            config=FrechetDistanceConfig,
            summary_keys=("frechet_distance",),
            factory=f"{_HERE}.frechet_distance:FrechetDistance",
        ),
        MetricSpec(
            name="precision_recall",
            summary="improved precision and recall (Kynkäänniemi et al. 2019, k = 3) in the "
            "dataset classifier's features, with the real train vs test floor",
            config=PrecisionRecallConfig,
            summary_keys=("precision", "recall"),
            factory=f"{_HERE}.precision_recall:PrecisionRecall",
        ),
        MetricSpec(
            name="density_coverage",
            summary="density and coverage (Naeem et al. 2020, k = 5) in the dataset "
            "classifier's features, with the real train vs test floor",
            config=DensityCoverageConfig,
            summary_keys=("density", "coverage"),
            factory=f"{_HERE}.density_coverage:DensityCoverage",
        ),
        MetricSpec(
            name="conditional_accuracy",
            summary="conditional families: the dataset classifier's accuracy on images drawn "
            "for each requested label, beside its own test accuracy",
            config=ConditionalAccuracyConfig,
            summary_keys=("conditional_accuracy",),
            factory=f"{_HERE}.conditional_accuracy:ConditionalAccuracy",
        ),
        MetricSpec(
            name="intra_class_frechet",
            summary="conditional families: per-class Fréchet distance in the dataset "
            "classifier's features (mean over classes, and each)",
            config=IntraClassFrechetConfig,
            summary_keys=("intra_class_frechet",),
            factory=f"{_HERE}.intra_class_frechet:IntraClassFrechet",
        ),
        MetricSpec(
            name="fid_inception",
            summary="FID and KID in TF-Inception features (extra torch-ganzoo[fid]; on a CPU "
            "only when asked for by name)",
            config=FidInceptionConfig,
            summary_keys=("fid_inception", "kid_inception"),
            factory=f"{_HERE}.fid_inception:FidInception",
        ),
    ]
