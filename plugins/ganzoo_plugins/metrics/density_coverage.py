"""Density and coverage (Naeem et al. 2020) of generated images against the real test
split, in the dataset classifier's features, with the real images' k-nearest-neighbour
balls only (k = 5, the paper's choice), so real outliers cannot inflate them.

Density: how many real balls hold a generated image, over k (about 1 for a generator that
matches the data, above 1 when it crowds the dense modes); coverage: the share of real
balls that hold a generated image (a generator covering half the modes scores about 0.5).
The floor is real training images, as many as the samples, in place of the generated ones."""

from __future__ import annotations

from ganzoo_plugins.measures import density_coverage
from ganzoo_plugins.metrics.configs import DensityCoverageConfig
from ganzoo_plugins.metrics.neighbourhood import NeighbourhoodMetric, measured_by


class DensityCoverage(NeighbourhoodMetric):
    name = "density_coverage"
    keys = ('density', 'coverage')
    measure = measured_by(density_coverage)

    def __init__(self, config: DensityCoverageConfig = DensityCoverageConfig()):
        super().__init__(config)
