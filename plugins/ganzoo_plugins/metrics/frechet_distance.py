"""Fréchet distance between real test images and generated images, in the penultimate
(128-d) feature space of the run's dataset's own classifier (an FID for that dataset,
without downloading an Inception network). Lower is better; compare runs on one dataset.

The floor is the same distance for real training images, as many as the generated
samples, against the same test images: what a perfect generator would score at this
sample size (the Fréchet distance is biased upwards for finite samples)."""

from __future__ import annotations

from typing import Any

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.measures import frechet_distance
from ganzoo_plugins.metrics.configs import FrechetDistanceConfig
from ganzoo_plugins.metrics.feature_classifier import (
    classifier_for,
    classifier_report,
    floor_stand_in,
    generated_features,
    source,
    test_features,
)


class FrechetDistance(Metric):
    def __init__(self, config: FrechetDistanceConfig = FrechetDistanceConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        settings = self.config.classifier()
        _, info = classifier_for(ctx, settings)
        real, _ = test_features(ctx, settings, self.config.max_real)  # [M, F]
        fake = generated_features(ctx, settings)  # [N, F]
        out: dict[str, Any] = {
            "frechet_distance": frechet_distance(real, fake),
            "frechet": {"real_images": len(real), "generated_images": len(fake), "features": real.shape[1]},
            "classifier": classifier_report(info),
        }
        stand_in = floor_stand_in(ctx, settings, len(fake)) if self.config.floor else None
        if stand_in is not None:
            train, _ = stand_in
            out["floor"] = {"frechet_distance": frechet_distance(real, train)}
            out["frechet"]["floor_train_images"] = len(train)
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return {"frechet_distance": (report.get("frechet_distance"), source(report.get("classifier", {})))}
