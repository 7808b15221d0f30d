"""Does a class-conditional generator draw the class it is asked for? The dataset's own
classifier reads images drawn for each label (every class equally often).

``conditional_accuracy``: the share of images classified as their requested label; per
class in ``per_class``, with the requested x predicted confusion matrix. Its floor (what
real images score) is the classifier's accuracy on the real test split, and
``relative_to_classifier`` is the ratio of the two. Unconditional systems: unavailable."""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.evaluation import EvalContext, Metric
from ganzoo_plugins.metrics.conditional_samples import check_classes, conditional_samples
from ganzoo_plugins.metrics.configs import ConditionalAccuracyConfig
from ganzoo_plugins.metrics.feature_classifier import classifier_for, classifier_report, run_batched


class ConditionalAccuracy(Metric):
    def __init__(self, config: ConditionalAccuracyConfig = ConditionalAccuracyConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        labels, images = conditional_samples(ctx)  # [N], [N, C, H, W]
        model, info = classifier_for(ctx, self.config.classifier())
        classes = int(ctx.system.num_classes)
        check_classes(classes, int(info.get("classes", classes)), info.get("name", "classifier"))
        predicted = run_batched(model, images, batch=ctx.batch).argmax(dim=1)  # [N]
        confusion = torch.bincount(labels * classes + predicted, minlength=classes * classes).view(
            classes, classes
        )
        hits = confusion.diagonal()  # [K]
        accuracy = float(hits.sum() / confusion.sum())
        real = info.get("test_accuracy")
        out: dict[str, Any] = {
            "conditional_accuracy": accuracy,
            "conditional": {
                "per_class": {
                    str(c): float(hits[c] / confusion[c].sum().clamp_min(1)) for c in range(classes)
                },
                "confusion": confusion.tolist(),
                "images_per_class": int(confusion[0].sum()),
                "relative_to_classifier": accuracy / real if real else None,
            },
            "classifier": classifier_report(info),
        }
        if real is not None:
            out["floor"] = {"conditional_accuracy": real}
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        name = report.get("classifier", {}).get("name") or "classifier"
        return {"conditional_accuracy": (report.get("conditional_accuracy"), name)}
