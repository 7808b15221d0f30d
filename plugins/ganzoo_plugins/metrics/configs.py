"""Parameters of the first-party metrics (imported when metrics are listed: attrs only)."""

from __future__ import annotations

import attrs

from ganzoo import param
from ganzoo.specs import SEED_MAX


@attrs.frozen
class ClassifierSettings:
    """How the digit classifier is trained (part of its cache key)."""

    epochs: int = param(3, "training epochs over the training split", ge=1, le=100)
    max_images: int = param(0, "train on at most this many images; 0: the whole split", ge=0, le=10**9)
    batch_size: int = param(128, "training batch size", ge=1, le=65536)
    lr: float = param(2e-3, "Adam learning rate (decays linearly to 0)", gt=0, le=10)
    seed: int = param(0, "random seed of initialisation and shuffling", ge=0, le=SEED_MAX)


@attrs.frozen
class CategoricalAccuracyConfig:
    """Clustering quality of each categorical code on the real test split."""

    max_images: int = param(0, "use at most this many test images; 0: all", ge=0, le=10**9)


@attrs.frozen
class MutualInformationConfig:
    """Variational MI lower bound of every regularised code on fresh samples."""


@attrs.frozen
class ContinuousFactorsConfig:
    """Sweeps of each continuous code dimension, read with digit-shape measures."""

    low: float = param(-2.0, "lowest swept code value", ge=-1e6, le=1e6)
    high: float = param(2.0, "highest swept code value", ge=-1e6, le=1e6)
    steps: int = param(9, "code values per sweep", ge=2, le=1000)
    base_draws: int = param(0, "latent draws each sweep starts from; 0: samples / steps", ge=0, le=100_000)

    def __attrs_post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")


@attrs.frozen
class ClassConsistencyConfig:
    """A digit classifier reads generated images: does each code value give one class?"""

    classifier_epochs: int = param(3, "digit classifier: training epochs", ge=1, le=100)
    classifier_max_images: int = param(0, "digit classifier: training images; 0: all", ge=0, le=10**9)

    def classifier(self) -> ClassifierSettings:
        return ClassifierSettings(epochs=self.classifier_epochs, max_images=self.classifier_max_images)


@attrs.frozen
class FrechetDistanceConfig:
    """Fréchet distance in the digit classifier's penultimate feature space."""

    max_real: int = param(10000, "real test images to compare with; 0: all", ge=0, le=10**9)
    classifier_epochs: int = param(3, "digit classifier: training epochs", ge=1, le=100)
    classifier_max_images: int = param(0, "digit classifier: training images; 0: all", ge=0, le=10**9)

    def classifier(self) -> ClassifierSettings:
        return ClassifierSettings(epochs=self.classifier_epochs, max_images=self.classifier_max_images)
