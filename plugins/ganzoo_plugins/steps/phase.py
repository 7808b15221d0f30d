"""What a loss term sees of one phase of an adversarial step."""

from __future__ import annotations

from collections.abc import Callable

import attrs
from torch import Tensor

from ganzoo.latent import LatentSpace


@attrs.define
class Phase:
    """One phase of an adversarial step, as loss terms see it.

    ``fake`` is detached in D's phase and carries G's gradient in G's phase. ``real_logits``
    is always there in D's phase; in G's phase only when the adversarial loss needs it.
    ``discriminator`` scores other images (``[B, C, H, W] -> [B]``) with this batch's labels
    where the step is conditional, e.g. for a gradient penalty.
    """

    name: str  # "discriminator" or "generator"
    step: int  # the training step, from 1 (lazy terms use it)
    real: Tensor  # [B, C, H, W]
    fake: Tensor  # [B, C, H, W]
    z: Tensor  # [B, D] latents of ``fake``
    labels: Tensor | None  # [B], conditional steps only
    real_logits: Tensor | None  # [B]
    fake_logits: Tensor | None  # [B]; None (as real_logits) in a lazy regulariser's own phase
    discriminator: Callable[[Tensor], Tensor]
    latent: LatentSpace
