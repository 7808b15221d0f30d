"""Gradient penalties on the discriminator, added to D's phase of an adversarial step."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo.step import LossTerm, TermBuild
from ganzoo_plugins.steps.phase import Phase
from ganzoo_plugins.terms.configs import GradientPenaltyConfig, R1Config  # noqa: F401  (re-exported)


def gradient_penalty(discriminator, real: Tensor, fake: Tensor, target: float = 1.0) -> Tensor:
    """WGAN-GP: (‖∇D(x̂)‖₂ − target)² at x̂ between real and fake, one mix per *sample*."""
    batch = real.shape[0]
    alpha = torch.rand(batch, 1, 1, 1, device=real.device, dtype=real.dtype)  # [B, 1, 1, 1]
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    logits = discriminator(mixed)  # [B]
    (grad,) = torch.autograd.grad(logits.sum(), mixed, create_graph=True)  # [B, C, H, W]
    return (grad.flatten(1).norm(2, dim=1) - target).pow(2).mean()


class GradientPenalty(LossTerm):
    def __init__(self, config: GradientPenaltyConfig, build: TermBuild):
        self.weight = build.weight
        self.target = config.target

    def discriminator_terms(self, phase: Phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        penalty = gradient_penalty(phase.discriminator, phase.real, phase.fake, self.target)
        return {"gradient_penalty": self.weight * penalty}, {}


class R1Penalty(LossTerm):
    """γ/2 · E‖∇ₓD(x)‖² on real images (``weight`` is γ). Lazy (``every`` = k > 1): on steps
    divisible by k it is a separate optimiser step of D, multiplied by k so its average
    strength is unchanged, and the loop corrects D's optimiser (``ganzoo.step.lazy_ratio``)."""

    def __init__(self, config: R1Config, build: TermBuild):
        self.weight = build.weight
        self.every = config.every

    def lazy_intervals(self) -> dict[str, int]:
        return {"discriminator": self.every} if self.every > 1 else {}

    def discriminator_terms(self, phase: Phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        real = phase.real.detach().requires_grad_(True)
        logits = phase.discriminator(real)  # [B]
        (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)  # [B, C, H, W]
        penalty = grad.flatten(1).pow(2).sum(dim=1).mean()
        gradient_norm = grad.detach().flatten(1).norm(dim=1).mean()
        return {"r1": (0.5 * self.weight * self.every) * penalty}, {"r1/gradient_norm": gradient_norm}
