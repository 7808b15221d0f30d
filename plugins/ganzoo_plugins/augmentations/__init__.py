"""Differentiable augmentations of every image the discriminator sees: ``diffaugment``."""

from ganzoo import AugmentationSpec, hookimpl
from ganzoo_plugins.augmentations.configs import DiffAugmentConfig


@hookimpl
def ganzoo_augmentations():
    return [
        AugmentationSpec(
            name="diffaugment",
            summary="DiffAugment: random translation, cutout and colour on real and generated "
            "images alike, differentiable for G (Zhao et al. 2020)",
            config=DiffAugmentConfig,
            factory="ganzoo_plugins.augmentations.diffaugment:DiffAugment",
        ),
    ]
