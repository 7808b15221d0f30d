"""The GAN objective: loss terms per phase. It never calls ``backward()``; the trainer does.

InfoGAN: V(D, G) − λ·L_I(G, Q), where L_I = E[log Q(c | G(z, c))] + H(c). Here the MI term
is the λ-weighted negative log-likelihood of each regularised code under Q's posterior. Which
optimiser learns from it is a recipe choice (``model.q_head.optimizer``):

- ``"discriminator"`` (the official code): the term is added to D's loss on the (detached)
  generated images, so Q's head — and, with ``trains_trunk``, D's shared trunk — learn it with
  D's optimiser; and to G's loss, so G learns to make codes recoverable.
- ``"generator"``: Q's head sits in G's optimiser and learns from G's MI term only; the
  shared trunk does not learn from the MI term.

Optional, beyond the paper: a code's ``real_data_weight`` adds, in D's phase, a term that
asks Q's posterior on the *real* batch to be confident and balanced (I(x; c) on real data,
as in RIM and CatGAN), so the code's categories follow gaps in the data; with
``model.q_head.real_data_augmentation = "affine"`` the same category is also asked of a
randomly slanted, stretched and shifted copy of each image (IIC), so categories cannot follow
style. A code's ``invariance_weight`` adds the same idea on the generator's side: the code's
MI term is also taken on an affine copy of each generated image, in both phases, so G cannot
make a category recoverable through slant, width or position alone.
"""

from __future__ import annotations

import abc

import torch
from torch import Tensor

from ganzoo.augmentation import random_affine
from ganzoo.latent import LatentSpace
from ganzoo.model import Discriminator


class AdversarialLoss(abc.ABC):
    """An adversarial loss on D's logits. Both methods return scalar means."""

    @abc.abstractmethod
    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """``[B]``, ``[B]`` -> scalar loss D minimises."""

    @abc.abstractmethod
    def generator_loss(self, fake_logits: Tensor) -> Tensor:
        """``[B]`` -> scalar loss G minimises."""


def gradient_penalty(discriminator: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP: (‖∇D(x̂)‖₂ − 1)² at x̂ between real and fake, one weight per *sample*."""
    batch = real.shape[0]
    alpha = torch.rand(batch, 1, 1, 1, device=real.device, dtype=real.dtype)  # [B, 1, 1, 1]
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    logits, _ = discriminator(mixed)  # [B]
    (grad,) = torch.autograd.grad(logits.sum(), mixed, create_graph=True)  # [B, C, H, W]
    return (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


class InfoGANObjective:
    """Named, weighted loss terms for the discriminator and generator phases."""

    def __init__(
        self,
        loss: AdversarialLoss,
        latent: LatentSpace,
        *,
        gradient_penalty: float = 0.0,
        q_optimizer: str = "discriminator",
        trains_trunk: bool = True,
        real_data_augmentation: str = "none",
        augmentation_strength: float = 1.0,
    ):
        self.loss = loss
        self.latent = latent
        self.gp_weight = gradient_penalty
        self.q_optimizer = q_optimizer
        self.trains_trunk = trains_trunk
        self.real_data_augmentation = real_data_augmentation
        self.augmentation_strength = augmentation_strength
        self.has_codes = bool(latent.regularized)
        # The real-data term lives in D's phase, so it needs Q in D's optimiser.
        self.clusters_real = bool(latent.clusters_real_data) and q_optimizer == "discriminator"

    def _mutual_information(
        self, z: Tensor, posterior: Tensor
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        nll = self.latent.negative_log_likelihoods(z, posterior)
        weights = {e.name: e.weight for e in self.latent.regularized}
        terms = {f"mutual_information/{n}": weights[n] * v for n, v in nll.items()}
        stats = {f"mi_lower_bound/{n}": v for n, v in self.latent.mutual_information_bounds(nll).items()}
        return terms, stats

    def _invariant_information(
        self, discriminator: Discriminator, fake: Tensor, z: Tensor, detach_q: bool
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Invariant codes' MI terms on affine copies of ``fake`` (differentiable in ``fake``,
        so in G's phase G learns to make the code survive the transform)."""
        entries = self.latent.invariant
        if not entries:
            return {}, {}
        copies = random_affine(fake, strength=self.augmentation_strength)  # [B, C, H, W]
        _, posterior = discriminator(copies, with_q=True, detach_q=detach_q)
        nll = self.latent.negative_log_likelihoods(z, posterior, entries)
        terms: dict[str, Tensor] = {}
        stats: dict[str, Tensor] = {}
        for e in entries:
            terms[f"invariant_information/{e.name}"] = e.invariance_weight * nll[e.name]
            ceiling = e.code.entropy()
            if ceiling is not None:
                stats[f"invariant_mi_lower_bound/{e.name}"] = ceiling - nll[e.name].detach()
        return terms, stats

    def discriminator_terms(
        self, discriminator: Discriminator, real: Tensor, fake: Tensor, z: Tensor
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """D's terms on a real batch and *detached* generated images made from ``z``."""
        fake = fake.detach()
        mi_here = self.has_codes and self.q_optimizer == "discriminator"
        real_logits, real_posterior = discriminator(
            real, with_q=self.clusters_real, detach_q=not self.trains_trunk
        )
        fake_logits, posterior = discriminator(
            fake, with_q=mi_here, detach_q=not self.trains_trunk
        )
        terms = {"adversarial": self.loss.discriminator_loss(real_logits, fake_logits)}
        stats = {
            "d_output/real": real_logits.detach().mean(),
            "d_output/fake": fake_logits.detach().mean(),
        }
        if self.gp_weight > 0:
            terms["gradient_penalty"] = self.gp_weight * gradient_penalty(discriminator, real, fake)
        if mi_here:
            mi_terms, _ = self._mutual_information(z, posterior)
            terms.update(mi_terms)
            terms.update(
                self._invariant_information(discriminator, fake, z, not self.trains_trunk)[0]
            )
        if self.clusters_real:
            # Loss H(c) − I ≥ 0 per code: Q splits real images confidently and evenly and,
            # with augmentation, the same way for a transformed copy of each image.
            paired = None
            if self.real_data_augmentation == "affine":
                copies = random_affine(real, strength=self.augmentation_strength)
                _, paired = discriminator(copies, with_q=True, detach_q=not self.trains_trunk)
            for name, info in self.latent.real_data_information(real_posterior, paired).items():
                entry = self.latent.entry(name)
                ceiling = entry.code.entropy() or 0.0
                terms[f"real_data_information/{name}"] = entry.real_data_weight * (ceiling - info)
                stats[f"real_data_information/{name}"] = info.detach()
        return terms, stats

    def generator_terms(
        self, discriminator: Discriminator, fake: Tensor, z: Tensor
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """G's terms on the step's generated images (the same forward D's phase used)."""
        fake_logits, posterior = discriminator(fake, with_q=self.has_codes)
        terms = {"adversarial": self.loss.generator_loss(fake_logits)}
        stats: dict[str, Tensor] = {}
        if self.has_codes:
            mi_terms, stats = self._mutual_information(z, posterior)
            terms.update(mi_terms)
            inv_terms, inv_stats = self._invariant_information(discriminator, fake, z, False)
            terms.update(inv_terms)
            stats.update(inv_stats)
        return terms, stats
