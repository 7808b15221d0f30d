"""Parameters of the first-party augmentations (kept apart from torch code, for listing)."""

from __future__ import annotations

from typing import Literal

import attrs

from ganzoo import param

Operation = Literal["color", "translation", "cutout"]


@attrs.frozen
class DiffAugmentConfig:
    """DiffAugment (Zhao et al. 2020). The paper's choice is ``["translation", "cutout"]`` for
    grey-scale images and ``["color", "translation", "cutout"]`` for RGB."""

    policy: tuple[Operation, ...] = param(
        ("translation", "cutout"),
        "operations, applied in this order: 'color' (brightness, saturation, contrast), "
        "'translation', 'cutout'; [] turns augmentation off",
    )
    translation: float = param(
        0.125, "largest shift, as a fraction of the image side (the paper: 1/8)", ge=0, le=0.5
    )
    cutout: float = param(
        0.5,
        "side of the cut-out square, as a fraction of the image side (the paper: 1/2)",
        ge=0,
        le=1,
    )
    fill: float = param(
        0.0,
        "value of pixels shifted in or cut out, on the [-1, 1] scale (0: the paper's grey; "
        "-1: the black background of MNIST-like digits)",
        ge=-1,
        le=1,
    )
