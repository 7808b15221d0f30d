"""Conformance checks for components: a plugin author's tests call them in one line,
and ganzoo's own suite runs them over every registered component.

    from ganzoo.testing import check_latent_code
    def test_my_code():
        check_latent_code(MyCode(MyConfig()))
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ganzoo.data import ImageData
from ganzoo.latent import LatentCode
from ganzoo.step import AdversarialLoss
from ganzoo.system import Backbone


def check_latent_code(code: LatentCode, batch: int = 16) -> None:
    """Sampling, likelihood, entropy and traversals behave as the core expects."""
    device = torch.device("cpu")
    assert isinstance(code.width, int) and code.width >= 1, "width must be a positive int"
    assert isinstance(code.posterior_size, int) and code.posterior_size >= 1
    gen_a = torch.Generator().manual_seed(0)
    gen_b = torch.Generator().manual_seed(0)
    a = code.sample(batch, gen_a, device)
    b = code.sample(batch, gen_b, device)
    assert a.shape == (batch, code.width), f"sample shape {tuple(a.shape)}"
    assert a.dtype == torch.float32, "samples must be float32 (they are G's input)"
    assert torch.equal(a, b), "sampling must depend only on the given generator"
    assert not torch.equal(a, code.sample(batch, gen_a, device)), "generator must advance"

    posterior = torch.randn(batch, code.posterior_size, requires_grad=True)
    ll = code.log_likelihood(a, posterior)
    assert ll.shape == (batch,), f"log_likelihood must return [B], got {tuple(ll.shape)}"
    assert torch.isfinite(ll).all()
    ll.sum().backward()
    assert posterior.grad is not None and posterior.grad.abs().sum() > 0, (
        "log_likelihood must stay differentiable in the posterior (no detach, no new tensors)"
    )

    # A posterior centred on the true value must be more likely than a random one.
    best = code.confident_posterior(a)
    if best is not None:
        assert (code.log_likelihood(a, best) > code.log_likelihood(a, posterior.detach())).all()
        assert torch.allclose(code.point_estimate(best), a, atol=1e-4)

    entropy = code.entropy()
    assert entropy is None or math.isfinite(entropy)
    sweeps = code.traversals(5, (-2.0, 2.0))
    assert sweeps, "traversals must return at least one sweep"
    for label, sweep in sweeps:
        assert isinstance(label, str)
        assert sweep.dim() == 2 and sweep.shape[1] == code.width



def check_backbone(
    backbone: Backbone, image_shape: tuple[int, int, int], latent_dim: int, batch: int = 4
) -> None:
    """Shapes, output range and gradient flow to every parameter."""
    assert isinstance(backbone, Backbone)
    z = torch.rand(batch, latent_dim) * 2 - 1
    images = backbone.generator(z)
    assert images.shape == (batch, *image_shape), f"generator gave {tuple(images.shape)}"
    assert images.min() >= -1 - 1e-5 and images.max() <= 1 + 1e-5, "images must be in [-1, 1]"
    features = backbone.trunk(images)
    assert features.shape == (batch, backbone.feature_dim)
    features.pow(2).mean().backward()
    for name, p in [*backbone.generator.named_parameters(), *backbone.trunk.named_parameters()]:
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), f"no gradient reaches {name}"


def check_adversarial_loss(loss: AdversarialLoss) -> None:
    """Scalar losses that reward D for separating real from fake and G for fooling D."""
    # From a confused D (every logit 0.5) towards one that separates (real 0.9, fake 0.1).
    confused = torch.full((8,), 0.5)
    d = loss.discriminator_loss(confused, confused)
    g = loss.generator_loss(confused, confused)
    assert d.dim() == 0 and g.dim() == 0, "losses must be scalars"
    assert torch.isfinite(d) and torch.isfinite(g)
    better_d = loss.discriminator_loss(confused + 0.4, confused - 0.4)
    assert better_d < d, "D's loss must fall when real logits rise and fake logits fall"
    assert loss.generator_loss(confused + 0.4, confused) < g, (
        "G's loss must fall when D scores fakes higher"
    )
    logits = confused.clone().requires_grad_(True)
    loss.generator_loss(logits, confused if loss.needs_real_logits_for_generator else None).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def check_image_data(data: Any) -> None:
    assert isinstance(data, ImageData)
    assert data.images.dtype == torch.uint8 and data.images.dim() == 4
    assert data.images.shape[1] in (1, 3)
    if data.labels is not None:
        assert data.labels.dtype == torch.int64 and len(data.labels) == len(data.images)
