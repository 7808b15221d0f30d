"""Evaluation measures: clustering quality, digit geometry, rank correlation, Fréchet distance."""

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
from ganzoo_plugins.measures.rank_correlation import average_ranks, correlation_table, spearman

__all__ = [
    "MatchResult",
    "average_ranks",
    "confusion_image",
    "confusion_matrix",
    "correlation_table",
    "frechet_distance",
    "frechet_from_stats",
    "gaussian_stats",
    "ink_weights",
    "matched_accuracy",
    "normalized_mutual_information",
    "render_confusion_png",
    "slant",
    "spearman",
    "thickness",
    "width",
]
