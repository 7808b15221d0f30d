"""Do the categorical code's values each generate one class? A digit classifier decides.

For each categorical regularised code, on the shared fresh samples: the classifier's label
of every generated image against the code value that made it. Per value, the share of its
images in their most common class; ``class_consistency`` is the mean share over values.
``generated_accuracy`` is the fraction of generated images whose label is the class matched
to their code value (Hungarian matching of values to classes on these images).
"""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.evaluation import (
    EvalContext,
    Metric,
    Unavailable,
    categorical_codes,
    first_categorical_values,
)
from ganzoo_plugins.measures import matched_accuracy
from ganzoo_plugins.metrics.configs import ClassConsistencyConfig
from ganzoo_plugins.metrics.digit_classifier import classifier_for, classifier_report, run_batched


class ClassConsistency(Metric):
    def __init__(self, config: ClassConsistencyConfig = ClassConsistencyConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        codes = categorical_codes(ctx.system)
        if not codes:
            raise Unavailable("no regularised categorical code")
        model, info = classifier_for(ctx, self.config.classifier())
        z, images = ctx.generated()
        logits = run_batched(model, images, batch=ctx.batch)  # [N, classes]
        predicted = logits.argmax(dim=1)  # [N]
        classes = logits.shape[1]
        out: dict[str, Any] = {}
        for e in codes:
            k = int(e.code.categories)
            value = z[:, e.columns].argmax(dim=1).cpu()  # [N]
            counts = torch.bincount(value * classes + predicted, minlength=k * classes).view(k, classes)
            totals = counts.sum(dim=1)  # [K]
            top, majority = counts.max(dim=1)  # [K]
            present = totals > 0
            shares = torch.where(present, top / totals.clamp_min(1), torch.zeros_like(top, dtype=torch.float))
            match = matched_accuracy(value, predicted, num_clusters=k, num_classes=classes)
            out[e.name] = {
                "class_consistency": float(shares[present].mean()) if present.any() else None,
                "generated_accuracy": match.accuracy,
                "per_value": {
                    str(i): {
                        "majority_class": int(majority[i]),
                        "share": float(shares[i]),
                        "count": int(totals[i]),
                        "matched_class": match.mapping.get(i),
                    }
                    for i in range(k)
                },
                "generated_confusion": counts.tolist(),
            }
        return {"codes": out, "classifier": classifier_report(info)}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return first_categorical_values(report, ("class_consistency", "generated_accuracy"))
