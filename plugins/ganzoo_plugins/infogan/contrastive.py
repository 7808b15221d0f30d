"""InfoGAN-CR's contrastive regulariser (Lin et al., ICML 2020), as a loss term.

Pairs of generated images share the noise and the value of one regularised code k and draw
the other regularised codes independently; a head on D's trunk reads both images' features
and predicts k (cross-entropy over the codes). D's phase trains the head (and, with
``trains_trunk``, the trunk) on detached pairs; G's phase trains G to make the shared code
recognisable, with a weight that follows the paper's progressive schedule: ``start_weight``,
raised by ``increase`` every ``increase_every`` steps, ``increase_times`` times (its dSprites
setting: 0 until step 288,000 of 322,560, then 2). The contrastive gap (other uniform codes of
a pair at least ``gap`` apart, ``gap`` lowered on its own schedule) is the paper's too; its
dSprites run used none.

How it differs from the public code (fjxmlzn/InfoGAN-CR): there the CR classifier is a
separate convolutional network on the two images stacked as channels, with its own Adam
(lr 2e-3), re-initialised with its optimiser state at each schedule change. Here it is a
head on D's trunk (``[F] + [F] -> hidden -> K``), trained by D's optimiser, and never
re-initialised (a term cannot reset an optimiser's state).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from ganzoo.step import LossTerm, NetworkParts, TermBuild
from ganzoo_plugins.infogan.configs import ContrastiveConfig

NETWORK = "contrastive_head"  # its name among the system's networks and in checkpoints


class ContrastiveHead(nn.Module):
    """``([B, F], [B, F]) -> [B, K]`` logits of which code a pair shares."""

    def __init__(self, feature_dim: int, hidden: int, codes: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * feature_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, codes)
        )

    def forward(self, first: Tensor, second: Tensor) -> Tensor:
        return self.net(torch.cat([first, second], dim=1))  # [B, 2F] -> [B, K]


def stepped(start: float, change: float, every: int, times: int, step: int) -> float:
    """``start + change * n`` after n = min(times, (step - 1) // every) changes (step from 1:
    the official loop changes before its batch ``global_id`` = step - 1 when divisible)."""
    return start + change * min(times, max(step - 1, 0) // every)


class Contrastive(LossTerm):
    networks_role = "discriminator"

    def __init__(self, config: ContrastiveConfig, build: TermBuild):
        self.config, self.weight = config, build.weight
        self.codes = build.latent.regularized  # one class per regularised code
        self.noise = [e for e in build.latent.entries if not e.regularized]
        if len(self.codes) < 2:
            raise ValueError("the contrastive term needs at least two regularised codes")
        self.head: ContrastiveHead | None = None

    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        with torch.random.fork_rng(devices=[]):  # a throwaway backbone, for its feature size
            feature_dim = parts.backbone().feature_dim  # only: the seed's draws stay as they were
        self.head = ContrastiveHead(feature_dim, self.config.hidden, len(self.codes))
        return {NETWORK: self.head}

    # -- the schedule ---------------------------------------------------------------------------
    def generator_weight(self, step: int) -> float:
        c = self.config
        return self.weight * stepped(
            c.start_weight, c.increase, c.increase_every, c.increase_times, step
        )

    def gap(self, step: int) -> float:
        c = self.config
        return max(
            0.0,
            stepped(c.gap_start, -c.gap_decrease, c.gap_decrease_every, c.gap_decrease_times, step),
        )

    # -- pairs ---------------------------------------------------------------------------------
    def pairs(self, phase) -> tuple[Tensor, Tensor, Tensor]:
        """Latents ``[B, D]`` of two images per pair and the shared code's index ``[B]``."""
        first = phase.sample_latent(phase.z.shape[0])  # [B, D]
        second = phase.sample_latent(phase.z.shape[0])
        shared = torch.randint(len(self.codes), (first.shape[0],), device=first.device)  # [B]
        for e in self.noise:  # the noise is the same in both images (as in the public code)
            second[:, e.columns] = first[:, e.columns]
        gap = self.gap(phase.step)
        for k, e in enumerate(self.codes):
            same = (shared == k).unsqueeze(1)  # [B, 1]
            a, b = first[:, e.columns], second[:, e.columns]
            if gap > 0:
                a, b = self._apart(e.code, a, b, gap)
            first[:, e.columns] = a
            second[:, e.columns] = torch.where(same, a, b)
        return first, second, shared

    @staticmethod
    def _apart(code, a: Tensor, b: Tensor, gap: float) -> tuple[Tensor, Tensor]:
        """Two uniform draws squeezed into [low + gap/2, high - gap/2] and pushed gap/2 apart
        (the public code's ``sample_different``), so they differ by at least ``gap``."""
        low, high = code.low, code.high
        squeeze = 1.0 - gap / (high - low)
        a, b = low + gap / 2 + (a - low) * squeeze, low + gap / 2 + (b - low) * squeeze
        sign = torch.where(a > b, 1.0, -1.0)
        return a + sign * gap / 2, b - sign * gap / 2

    def _logits(
        self, phase, first: Tensor, second: Tensor, detach_features: bool, head_grad: bool
    ) -> Tensor:
        images = phase.generate(torch.cat([first, second]))  # [2B, C, H, W]
        _, features = phase.discriminator(images, return_features=True)  # [2B, F]
        if detach_features:
            features = features.detach()
        f1, f2 = features.chunk(2)
        if head_grad:
            return self.head(f1, f2)  # [B, K]
        frozen = {n: p.detach() for n, p in self.head.named_parameters()}
        return functional_call(self.head, frozen, (f1, f2))  # G's phase: the head only reads

    def discriminator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        weight = self.weight * self.config.discriminator_weight
        if weight == 0:
            return {}, {}
        first, second, shared = self.pairs(phase)
        logits = self._logits(phase, first, second, not self.config.trains_trunk, True)
        loss = F.cross_entropy(logits.float(), shared)
        accuracy = (logits.argmax(dim=1) == shared).float().mean()
        return {"contrastive": weight * loss}, {"contrastive/accuracy": accuracy.detach()}

    def generator_terms(self, phase) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        weight = self.generator_weight(phase.step)
        stats = {
            "contrastive/generator_weight": torch.tensor(weight),
            "contrastive/gap": torch.tensor(self.gap(phase.step)),
        }
        if weight == 0:  # the paper's first phase: G does not see the regulariser yet
            return {}, stats
        first, second, shared = self.pairs(phase)
        loss = F.cross_entropy(self._logits(phase, first, second, False, False).float(), shared)
        return {"contrastive": weight * loss}, stats
