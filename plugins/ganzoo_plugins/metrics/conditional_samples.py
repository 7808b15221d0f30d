"""Images drawn for requested labels, shared by the conditional metrics of one evaluation."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo.evaluation import EvalContext, Unavailable
from ganzoo.system import GANSystem


def is_conditional(system: GANSystem) -> bool:
    """Does the generator draw requested classes? (``GANSystem.conditional``: ``num_classes``
    alone is the dataset's class count; the step must also use labels.)"""
    return system.conditional


def conditional_samples(ctx: EvalContext) -> tuple[Tensor, Tensor]:
    """Requested labels ``[N]`` (class i mod K for sample i, so every class gets N / K
    within one) and the images ``[N, C, H, W]`` drawn for them, from their own stream;
    ``Unavailable`` for an unconditional system."""
    if not is_conditional(ctx.system):
        raise Unavailable(
            f"unconditional system (step '{type(ctx.system.step).__name__}' draws no requested "
            "labels): conditional metrics apply to class-conditional families"
        )
    classes = int(ctx.system.num_classes)
    key = ("conditional_samples", ctx.samples)
    if key not in ctx.cache:
        labels = torch.arange(ctx.samples, device=ctx.device) % classes  # [N]
        z = ctx.system.latent.sample(ctx.samples, ctx.rng("conditional"), ctx.device)  # [N, D]
        ctx.cache[key] = (labels.cpu(), ctx.generate(z, labels))
    return ctx.cache[key]


def check_classes(system_classes: int, classifier_classes: int, name: str) -> None:
    if classifier_classes != system_classes:
        raise Unavailable(
            f"the {name} knows {classifier_classes} classes, the generator {system_classes}"
        )
