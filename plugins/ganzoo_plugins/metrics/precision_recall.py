"""Improved precision and recall (Kynkäänniemi et al. 2019) of generated images against the
real test split, in the dataset classifier's features, with k-nearest-neighbour balls
(k = 3 as in the paper).

Precision: the share of generated images that look real (inside some real image's ball);
recall: the share of real images the generator can produce (inside some generated image's
ball) — a collapsed generator keeps its precision and loses its recall. The floor is real
training images, as many as the samples, in place of the generated ones."""

from __future__ import annotations

from typing import Any

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.measures import precision_recall
from ganzoo_plugins.metrics.configs import PrecisionRecallConfig
from ganzoo_plugins.metrics.feature_classifier import (
    classifier_for,
    classifier_report,
    floor_stand_in,
    generated_features,
    source,
    test_features,
)


class PrecisionRecall(Metric):
    def __init__(self, config: PrecisionRecallConfig = PrecisionRecallConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        cfg, settings = self.config, self.config.classifier()
        _, info = classifier_for(ctx, settings)
        real, _ = test_features(ctx, settings, cfg.max_real)  # [M, F]
        fake = generated_features(ctx, settings)  # [N, F]
        precision, recall = precision_recall(real, fake, cfg.k)
        detail: dict[str, Any] = {
            "k": cfg.k,
            "real_images": len(real),
            "generated_images": len(fake),
        }
        out: dict[str, Any] = {
            "precision_recall": detail,
            "precision": precision,
            "recall": recall,
            "classifier": classifier_report(info),
        }
        stand_in = floor_stand_in(ctx, settings, len(fake)) if cfg.floor else None
        if stand_in is not None:
            train, _ = stand_in
            floor_precision, floor_recall = precision_recall(real, train, cfg.k)
            out["floor"] = {"precision": floor_precision, "recall": floor_recall}
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        where = source(report.get("classifier", {}))
        return {key: (report.get(key), where) for key in ("precision", "recall")}
