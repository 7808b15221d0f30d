"""Parameters of the latent codes, apart from the code (no torch), so that listing and
checking recipes imports no networks."""

from __future__ import annotations

from typing import Literal

import attrs

from ganzoo import param


@attrs.frozen
class CategoricalConfig:
    categories: int = param(10, "number of categories K", ge=2, le=100_000)


PosteriorStd = Literal["learned", "fixed"]


@attrs.frozen
class UniformConfig:
    dim: int = param(1, "number of dimensions", ge=1, le=100_000)
    low: float = param(-1.0, "lower end of the range", ge=-1e6, le=1e6)
    high: float = param(1.0, "upper end of the range", ge=-1e6, le=1e6)
    posterior_std: PosteriorStd = param("fixed", "Q's std: 'learned' (paper) or 'fixed' at 1")

    def __attrs_post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")


@attrs.frozen
class GaussianConfig:
    dim: int = param(1, "number of dimensions", ge=1, le=100_000)
    std: float = param(1.0, "standard deviation of the prior", gt=0, le=1e6)
    posterior_std: PosteriorStd = param("fixed", "Q's std: 'learned' (paper) or 'fixed' at 1")
