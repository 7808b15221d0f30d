"""Intra-class Fréchet distance of a class-conditional generator: for each label, the
images drawn for it against the real test images of that class, in the dataset
classifier's features; ``intra_class_frechet`` is the mean over classes, ``per_class`` has
each. A generator that draws good images of the wrong class scores badly here while its
overall Fréchet distance stays low.

The floor: for each class, as many real training images of that class as were drawn for
it, against the same test images. Unconditional systems: unavailable."""

from __future__ import annotations

from typing import Any

from ganzoo.evaluation import EvalContext, Metric, Unavailable
from ganzoo_plugins.measures import frechet_distance
from ganzoo_plugins.metrics.conditional_samples import check_classes, conditional_samples
from ganzoo_plugins.metrics.configs import IntraClassFrechetConfig
from ganzoo_plugins.metrics.feature_classifier import (
    classifier_for,
    classifier_report,
    floor_stand_in,
    run_batched,
    source,
    test_features,
)


class IntraClassFrechet(Metric):
    def __init__(self, config: IntraClassFrechetConfig = IntraClassFrechetConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        labels, images = conditional_samples(ctx)  # [N], [N, C, H, W]
        settings = self.config.classifier()
        model, info = classifier_for(ctx, settings)
        classes = int(ctx.system.num_classes)
        check_classes(classes, int(info.get("classes", classes)), info.get("name", "classifier"))
        fake = run_batched(model, images, "features", ctx.batch)  # [N, F]
        real, real_labels = test_features(ctx, settings)  # [M, F], [M]
        if real_labels is None:
            raise Unavailable(f"dataset '{ctx.dataset_name}' has no labels (test split)")
        # every training image, in a seeded order: each class's first n_c stand in for its samples
        stand_in = floor_stand_in(ctx, settings) if self.config.floor else None
        per_class: dict[str, Any] = {}
        floors = []
        for c in range(classes):
            drawn, held_out = fake[labels == c], real[real_labels == c]  # [n_c, F], [m_c, F]
            if len(drawn) < 2 or len(held_out) < 2:
                raise Unavailable(
                    f"class {c}: {len(drawn)} samples, {len(held_out)} test images (need 2 each)"
                )
            entry: dict[str, Any] = {
                "frechet_distance": frechet_distance(held_out, drawn),
                "samples": len(drawn),
            }
            same_class = (
                stand_in[0][stand_in[1] == c][: len(drawn)] if stand_in is not None else drawn[:0]
            )
            if len(same_class) >= 2:
                entry["floor"] = frechet_distance(held_out, same_class)
                floors.append(entry["floor"])
            per_class[str(c)] = entry
        value = sum(e["frechet_distance"] for e in per_class.values()) / classes
        out: dict[str, Any] = {
            "intra_class_frechet": value,
            "intra_class": {"per_class": per_class, "classes": classes},
            "classifier": classifier_report(info),
        }
        if len(floors) == classes:  # a mean over some classes would not compare
            out["floor"] = {"intra_class_frechet": sum(floors) / len(floors)}
        return out

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return {
            "intra_class_frechet": (
                report.get("intra_class_frechet"),
                source(report.get("classifier", {})),
            )
        }
