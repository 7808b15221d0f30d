"""Parameters of the adversarial losses, apart from the losses (no torch)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class WassersteinConfig:
    drift: float = param(
        0.0, "weight of the drift term mean(D(x)^2) that keeps critic outputs near 0", ge=0, le=1e3
    )
