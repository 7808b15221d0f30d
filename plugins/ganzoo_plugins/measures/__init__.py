"""Evaluation measures: clustering quality, digit geometry, rank correlation, Fréchet distance,
k-NN manifold overlap (precision, recall, density, coverage) and kernel distance (KID)."""

from ganzoo_plugins.measures.clustering import (
    MatchResult,
    confusion_image,
    confusion_matrix,
    matched_accuracy,
    normalized_mutual_information,
    render_confusion_png,
)
from ganzoo_plugins.measures.digit_shape import ink_weights, slant, thickness, width
from ganzoo_plugins.measures.frechet import frechet_distance, frechet_from_stats, gaussian_stats
from ganzoo_plugins.measures.kernel_distance import kernel_distance, polynomial_mmd
from ganzoo_plugins.measures.manifold import (
    ManifoldOverlap,
    density_coverage,
    kth_neighbour_radii,
    manifold_overlap,
    precision_recall,
)
from ganzoo_plugins.measures.rank_correlation import average_ranks, correlation_table, spearman

__all__ = [
    "ManifoldOverlap",
    "MatchResult",
    "average_ranks",
    "confusion_image",
    "confusion_matrix",
    "correlation_table",
    "density_coverage",
    "frechet_distance",
    "frechet_from_stats",
    "gaussian_stats",
    "ink_weights",
    "kernel_distance",
    "kth_neighbour_radii",
    "manifold_overlap",
    "matched_accuracy",
    "normalized_mutual_information",
    "polynomial_mmd",
    "precision_recall",
    "render_confusion_png",
    "slant",
    "spearman",
    "thickness",
    "width",
]
