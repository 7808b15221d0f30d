"""Parameters of the ``acgan`` step (kept apart from torch code, for listing)."""

from __future__ import annotations

import attrs

from ganzoo import param


@attrs.frozen
class AcGANConfig:
    discriminator_steps: int = param(1, "discriminator updates per generator update", ge=1, le=10**9)
    class_weight: float = param(
        1.0, "weight of the class cross-entropy in both phases (the paper: 1)", ge=0, le=1e6
    )
    fake_class_loss: bool = param(
        True,
        "D's classifier also learns the requested classes of generated images, as in the "
        "paper (L_C on real and fake); false: real images only",
    )
