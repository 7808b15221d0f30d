"""Each categorical code as an unsupervised clusterer of the real test split.

Q's argmax on every test image is a cluster id; the Hungarian matching of clusters to
classes gives the accuracy, NMI is matching-free, and the confusion matrix (code value x
class) is saved as a PNG and, with a writer, logged as a TensorBoard image.
"""

from __future__ import annotations

from typing import Any

from ganzoo.evaluation import (
    EvalContext,
    Metric,
    Unavailable,
    categorical_codes,
    cluster_ids,
    first_categorical_values,
)
from ganzoo_plugins.measures import (
    confusion_image,
    matched_accuracy,
    normalized_mutual_information,
    render_confusion_png,
)
from ganzoo_plugins.metrics.configs import CategoricalAccuracyConfig


class CategoricalAccuracy(Metric):
    def __init__(self, config: CategoricalAccuracyConfig = CategoricalAccuracyConfig()):
        self.config = config

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        codes = categorical_codes(ctx.system)
        if not codes:
            raise Unavailable("no regularised categorical code")
        data = ctx.labelled(ctx.test_data, "test")
        images, labels = data.images, data.labels
        if self.config.max_images:
            images, labels = images[: self.config.max_images], labels[: self.config.max_images]
        classes = int(labels.max()) + 1
        if data.classes:
            classes = max(classes, len(data.classes))
        posterior = ctx.posteriors(images)  # [N, P]
        out: dict[str, Any] = {}
        for e in codes:
            predicted = cluster_ids(e, posterior).cpu()  # [N]
            match = matched_accuracy(predicted, labels, num_clusters=e.code.categories, num_classes=classes)
            result: dict[str, Any] = {
                "accuracy": match.accuracy,
                "nmi": normalized_mutual_information(predicted, labels),
                "mapping": {str(k): v for k, v in sorted(match.mapping.items())},
                "confusion": match.confusion.tolist(),
                "test_images": len(labels),
            }
            if data.classes:
                result["class_names"] = list(data.classes)
            path = ctx.output_path(f"confusion_{e.name}.png")
            if path is not None:
                render_confusion_png(match.confusion, path, row_label=f"{e.name} = Q argmax", col_label="true class")
                result["confusion_png"] = str(path)
            if ctx.writer is not None:
                image = confusion_image(match.confusion, row_label=f"{e.name} = Q argmax", col_label="true class")
                ctx.writer.add_image(f"eval/confusion/{e.name}", image, ctx.step, dataformats="HWC")
            out[e.name] = result
        return {"codes": out}

    def summarize(self, report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        return first_categorical_values(report, ("accuracy", "nmi"))

