"""Parameters of the adversarial losses, apart from the losses (no torch)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class WassersteinConfig:
    drift: float = param(
        0.0, "weight of the drift term mean(D(x)^2) that keeps critic outputs near 0", ge=0, le=1e3
    )


@attrs.frozen
class LeastSquaresConfig:
    """Mao et al. 2017's a-b-c coding: D regresses fakes to ``a`` and reals to ``b``, G pulls
    its fakes to ``c``. The default 0-1-1 is the paper's choice in practice; -1-1-0 (with
    b - c = 1 and b - a = 2) is the coding its theorem ties to the Pearson chi-squared
    divergence."""

    fake_target: float = param(0.0, "a: D's target for generated images", ge=-1e3, le=1e3)
    real_target: float = param(1.0, "b: D's target for real images", ge=-1e3, le=1e3)
    generator_target: float = param(
        1.0, "c: the value G wants D to give its images", ge=-1e3, le=1e3
    )
