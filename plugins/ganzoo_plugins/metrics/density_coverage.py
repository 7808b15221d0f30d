"""Density and coverage (Naeem et al. 2020) of generated images against the real test
split, in the dataset classifier's features, with the real images' k-nearest-neighbour
balls only (k = 5, the paper's choice), so real outliers cannot inflate them.

Density: how many real balls hold a generated image, over k (about 1 for a generator that
matches the data, above 1 when it crowds the dense modes); coverage: the share of real
balls that hold a generated image (a generator covering half the modes scores about 0.5).
The floor is real training images, as many as the samples, in place of the generated ones."""

from __future__ import annotations

from typing import Any

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.measures import density_coverage
from ganzoo_plugins.metrics.configs import DensityCoverageConfig
from ganzoo_plugins.metrics.feature_classifier import (
    classifier_for,
    classifier_report,
    floor_stand_in,
    generated_features,
    source,
    test_features,
)


class DensityCoverage(Metric):
    def __init__(self, config: DensityCoverageConfig = DensityCoverageConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        cfg, settings = self.config, self.config.classifier()
        _, info = classifier_for(ctx, settings)
        real, _ = test_features(ctx, settings, cfg.max_real)  # [M, F]
        fake = generated_features(ctx, settings)  # [N, F]
        density, coverage = density_coverage(real, fake, cfg.k)
        detail: dict[str, Any] = {
            "k": cfg.k,
            "real_images": len(real),
            "generated_images": len(fake),
        }
        out: dict[str, Any] = {
            "density_coverage": detail,
            "density": density,
            "coverage": coverage,
            "classifier": classifier_report(info),
        }
        stand_in = floor_stand_in(ctx, settings, len(fake)) if cfg.floor else None
        if stand_in is not None:
            train, _ = stand_in
            floor_density, floor_coverage = density_coverage(real, train, cfg.k)
            out["floor"] = {"density": floor_density, "coverage": floor_coverage}
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        where = source(report.get("classifier", {}))
        return {key: (report.get(key), where) for key in ("density", "coverage")}
