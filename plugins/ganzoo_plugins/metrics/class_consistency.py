"""Do the categorical code's values each generate their own class? The dataset's own
classifier (``feature_classifier``) decides.

For each categorical regularised code, on the shared fresh samples: the classifier's label
of every generated image against the code value that made it. Values are matched to
classes one to one (Hungarian matching on these images), so two values cannot both claim
the same class:

* ``class_consistency``: the mean over values of the share of a value's images in *its
  matched* class — 1 only when every value draws one class and no two values draw the same;
  when every value draws the same digit it is about 1/K, not 1;
* ``generated_accuracy``: the share of all generated images in their value's matched class
  (the same, weighted by how often each value is drawn);
* ``purity``: the mean share of each value's *most common* class, matched or not (high for a
  code that ignores the class, as long as each value is consistent), beside
  ``distinct_classes``: how many classes are some value's most common one.
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
from ganzoo_plugins.metrics.feature_classifier import classifier_for, classifier_report, run_batched


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
            matched = torch.tensor(  # [K] images of each value in its matched class (0 if unmatched)
                [int(counts[i, match.mapping[i]]) if i in match.mapping else 0 for i in range(k)]
            )
            matched_shares = matched / totals.clamp_min(1)  # [K]
            out[e.name] = {
                "class_consistency": float(matched_shares[present].mean()) if present.any() else None,
                "generated_accuracy": match.accuracy,
                "purity": float(shares[present].mean()) if present.any() else None,
                "distinct_classes": len(set(majority[present].tolist())),
                "per_value": {
                    str(i): {
                        "majority_class": int(majority[i]),
                        "share": float(shares[i]),
                        "matched_share": float(matched_shares[i]),
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
