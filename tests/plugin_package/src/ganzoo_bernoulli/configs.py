"""Parameters of the example plugin's codes: imported when components are listed, so nothing
here imports torch (the codes themselves load only when a recipe uses them)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class BernoulliConfig:
    dim: int = param(1, "number of independent bits", ge=1, le=1024)
    p: float = param(0.5, "probability of a 1", gt=0, lt=1)


@attrs.frozen
class FairBitsConfig:
    dim: int = param(1, "number of independent fair bits", ge=1, le=1024)
