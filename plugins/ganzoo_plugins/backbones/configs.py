"""Parameters of the first-party backbones.

Kept apart from the network modules so that listing components (which reads these classes
for defaults and help) never imports the torch models.
"""

from __future__ import annotations

from typing import Literal

import attrs

from ganzoo import param

SUPPORTED_SIZES: tuple[int, ...] = (28, 32, 64)
"""Image sides (square images) both backbones build for."""

SUPPORTED_CHANNELS: tuple[int, ...] = (1, 3)
"""Image channel counts both backbones build for (grey-scale or RGB)."""


@attrs.frozen
class DCGANConfig:
    """The InfoGAN paper's MNIST network at 28×28; the standard DCGAN at 32×32 and 64×64."""

    base_channels: int = param(
        64,
        "channels of D's first conv and G's last hidden upconv; the others double per "
        "stride-2 step (28×28: base and 2·base, the paper's 64/128)",
        ge=1,
        le=4096,
    )
    hidden: int = param(
        1024,
        "width of the fully connected layers (D's last FC; at 28×28 also G's first FC)",
        ge=1,
        le=65536,
    )
    leaky_slope: float = param(0.1, "negative slope of D's leaky ReLUs", ge=0, le=1)
    init_std: float = param(
        0.02,
        "DCGAN init: conv/linear weights N(0, std), BN weights N(1, std), biases 0; "
        "0 keeps PyTorch's default init",
        ge=0,
        le=10,
    )
    spectral_norm: bool = param(
        False,
        "SNGAN (Miyato et al. 2018): spectral normalisation on every conv and linear layer of "
        "D's trunk and heads (pair with discriminator_batch_norm = false, as SNGAN)",
    )
    discriminator_batch_norm: bool = param(
        True,
        "batch norm in D's trunk; false for WGAN-GP (its penalty is per sample) and SNGAN "
        "(spectral norm replaces it)",
    )
    class_conditioning: Literal["embedding", "batch_norm"] = param(
        "embedding",
        "how a conditional G sees the label: 'embedding' joins a learned class embedding to "
        "z; 'batch_norm': conditional batch norm, a per-class gain and bias in every batch "
        "norm of G (de Vries et al. 2017; Miyato & Koyama 2018)",
    )


@attrs.frozen
class ResNetConfig:
    """SNGAN-style residual generator and discriminator trunk."""

    channels: int = param(
        128, "channels of every residual block (and D's feature width)", ge=8, le=4096
    )
    spectral_norm: bool = param(
        True, "spectral normalisation on every conv and linear layer of D's trunk"
    )


def check_shape(backbone: str, image_shape: tuple[int, int, int], latent_dim: int) -> int:
    """The image side of a supported ``(C, H, W)``; ``ValueError`` naming what is supported."""
    try:
        channels, height, width = (int(n) for n in image_shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"{backbone} expects an image shape (C, H, W), got {image_shape!r}"
        ) from None
    sizes = ", ".join(f"{s}×{s}" for s in SUPPORTED_SIZES)
    if height != width or height not in SUPPORTED_SIZES or channels not in SUPPORTED_CHANNELS:
        raise ValueError(
            f"{backbone} does not support {channels}×{height}×{width} images; supported "
            f"sizes are {sizes} with 1 or 3 channels"
        )
    if int(latent_dim) < 1:
        raise ValueError(f"{backbone} needs a latent width of at least 1, got {latent_dim}")
    return height
