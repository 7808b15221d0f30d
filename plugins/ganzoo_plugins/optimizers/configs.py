"""Parameters of the optimisers, apart from torch.optim (imported only to build one)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class AdamConfig:
    lr: float = param(2e-4, "learning rate", gt=0, le=10)
    betas: tuple[float, float] = param((0.5, 0.999), "(β1, β2); GANs usually take β1 = 0.5", ge=0, lt=1)
    eps: float = param(1e-8, "numerical stabiliser", gt=0, le=1)
    weight_decay: float = param(0.0, "L2 penalty", ge=0, le=10)


@attrs.frozen
class AdamWConfig(AdamConfig):
    weight_decay: float = param(0.01, "decoupled weight decay", ge=0, le=10)


@attrs.frozen
class RMSpropConfig:
    lr: float = param(5e-5, "learning rate", gt=0, le=10)
    alpha: float = param(0.99, "smoothing constant", gt=0, lt=1)
    momentum: float = param(0.0, "momentum", ge=0, lt=1)
    eps: float = param(1e-8, "numerical stabiliser", gt=0, le=1)


@attrs.frozen
class SGDConfig:
    lr: float = param(1e-2, "learning rate", gt=0, le=10)
    momentum: float = param(0.9, "momentum", ge=0, lt=1)
    nesterov: bool = param(False, "Nesterov momentum")

    def __attrs_post_init__(self) -> None:
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")
