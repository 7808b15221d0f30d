"""What precision/recall and density/coverage share: two numbers from k-nearest-neighbour
balls of the real test split's features against the generated images' features, each with
its floor (real training images, as many as the samples, in the generated ones' place)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from torch import Tensor

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.metrics.feature_classifier import (
    classifier_for,
    classifier_report,
    floor_stand_in,
    generated_features,
    source,
    test_features,
)


class NeighbourhoodMetric(Metric):
    """A subclass names its report key, its two values and the measure that gives them."""

    name: ClassVar[str]  # the report's detail key, e.g. "precision_recall"
    keys: ClassVar[tuple[str, str]]  # e.g. ("precision", "recall")

    def __init__(self, config: Any):
        self.config = config

    def measure(self, real: Tensor, fake: Tensor, k: int) -> tuple[float, float]:
        raise NotImplementedError

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        cfg, settings = self.config, self.config.classifier()
        _, info = classifier_for(ctx, settings)
        real, _ = test_features(ctx, settings, cfg.max_real)  # [M, F]
        fake = generated_features(ctx, settings)  # [N, F]
        values = self.measure(real, fake, cfg.k)
        detail = {"k": cfg.k, "real_images": len(real), "generated_images": len(fake)}
        out: dict[str, Any] = {
            self.name: detail,
            **dict(zip(self.keys, values, strict=True)),
            "classifier": classifier_report(info),
        }
        stand_in = floor_stand_in(ctx, settings, len(fake)) if cfg.floor else None
        if stand_in is not None:
            train, _ = stand_in
            out["floor"] = dict(zip(self.keys, self.measure(real, train, cfg.k), strict=True))
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        where = source(report.get("classifier", {}))
        return {key: (report.get(key), where) for key in self.keys}


def measured_by(function: Callable[[Tensor, Tensor, int], tuple[float, float]]) -> Callable[..., Any]:
    """``measure`` of a subclass, from a function of ``ganzoo_plugins.measures``."""
    return lambda self, real, fake, k: function(real, fake, k)
