"""Improved precision and recall (Kynkäänniemi et al. 2019) of generated images against the
real test split, in the dataset classifier's features, with k-nearest-neighbour balls
(k = 3 as in the paper).

Precision: the share of generated images that look real (inside some real image's ball);
recall: the share of real images the generator can produce (inside some generated image's
ball) — a collapsed generator keeps its precision and loses its recall. The floor is real
training images, as many as the samples, in place of the generated ones."""

from __future__ import annotations

from ganzoo_plugins.measures import precision_recall
from ganzoo_plugins.metrics.configs import PrecisionRecallConfig
from ganzoo_plugins.metrics.neighbourhood import NeighbourhoodMetric, measured_by


class PrecisionRecall(NeighbourhoodMetric):
    name = "precision_recall"
    keys = ('precision', 'recall')
    measure = measured_by(precision_recall)

    def __init__(self, config: PrecisionRecallConfig = PrecisionRecallConfig()):
        super().__init__(config)
