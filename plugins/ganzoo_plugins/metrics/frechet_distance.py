"""Fréchet distance between real test images and generated images, in the penultimate
(128-d) feature space of ganzoo's own digit classifier (an FID for the run's dataset,
without downloading an Inception network). Lower is better; compare runs on one dataset."""

from __future__ import annotations

from typing import Any

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.measures import frechet_distance
from ganzoo_plugins.metrics.configs import FrechetDistanceConfig
from ganzoo_plugins.metrics.digit_classifier import classifier_for, classifier_report, run_batched


class FrechetDistance(Metric):
    def __init__(self, config: FrechetDistanceConfig = FrechetDistanceConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        model, info = classifier_for(ctx, self.config.classifier())
        real = ctx.test_data.images
        if self.config.max_real:
            real = real[: self.config.max_real]
        _, images = ctx.generated()
        real_features = run_batched(model, real, "features", ctx.batch)  # [M, F]
        fake_features = run_batched(model, images, "features", ctx.batch)  # [N, F]
        value = frechet_distance(real_features, fake_features)
        return {
            "frechet_distance": value,
            "frechet": {"real_images": len(real), "generated_images": len(images), "features": real_features.shape[1]},
            "classifier": classifier_report(info),
        }

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return {"frechet_distance": (report.get("frechet_distance"), "classifier features")}
