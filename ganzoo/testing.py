"""Conformance checks for components: a plugin author's tests call them in one line,
and ganzoo's own suite runs them over every registered component.

    from ganzoo.testing import check_latent_code
    def test_my_code():
        check_latent_code(MyCode(MyConfig()))
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs
import torch
from torch import Tensor, nn

from ganzoo.data import ImageData
from ganzoo.latent import LatentCode
from ganzoo.step import AdversarialLoss, LossTerm, TrainingStep
from ganzoo.system import Backbone

if TYPE_CHECKING:
    from ganzoo.training import Trainer


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


def _phase_tensors(phase: Any) -> dict[str, Tensor]:
    """The tensor fields of a phase (attrs classes, or any object with a ``__dict__``)."""
    if attrs.has(type(phase)):
        items = {f.name: getattr(phase, f.name) for f in attrs.fields(type(phase))}
    else:
        items = dict(vars(phase))
    return {name: value for name, value in items.items() if isinstance(value, Tensor)}


def check_loss_term(
    term: LossTerm,
    phase: Any,
    parameters: Iterable[nn.Parameter] | None = None,
    which: str | None = None,
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """One phase's share of a loss term behaves as the steps expect; returns ``(terms, stats)``.

    ``phase`` is what a step hands its terms (``ganzoo_plugins.steps.Phase`` and subclasses);
    ``which`` ("discriminator" or "generator") defaults to ``phase.name``. Checked: the method
    returns two dicts keyed by name; every term is a finite floating-point scalar that stays
    in the graph (with ``parameters``: its gradient reaches at least one of them, finite);
    every statistic is a finite, detached scalar; the term neither calls ``backward()`` (no
    gradient appears on ``parameters``) nor modifies the phase's tensors in place.
    """
    assert isinstance(term, LossTerm), f"{type(term).__name__} is not a ganzoo.step.LossTerm"
    which = which or getattr(phase, "name", None)
    assert which in ("discriminator", "generator"), (
        f"phase name {which!r}: pass which='discriminator' or which='generator'"
    )
    params = [p for p in (parameters or ()) if p.requires_grad]
    grads_before = [None if p.grad is None else p.grad.clone() for p in params]
    versions = {name: t._version for name, t in _phase_tensors(phase).items()}

    method = term.discriminator_terms if which == "discriminator" else term.generator_terms
    result = method(phase)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{which}_terms must return (terms, stats), got {type(result).__name__}"
    )
    terms, stats = result
    assert isinstance(terms, dict) and isinstance(stats, dict), "terms and stats must be dicts"

    for p, before in zip(params, grads_before, strict=True):
        same = p.grad is None if before is None else p.grad is not None and torch.equal(p.grad, before)
        assert same, "a loss term must not call backward(): the step's optimiser does"
    for name, tensor in _phase_tensors(phase).items():
        assert tensor._version == versions[name], f"the term modified phase.{name} in place"

    for name, value in terms.items():
        assert isinstance(name, str) and name, f"term names must be non-empty strings: {name!r}"
        assert isinstance(value, Tensor) and value.dim() == 0, f"term '{name}' must be a scalar tensor"
        assert value.is_floating_point(), f"term '{name}' must be floating point"
        assert torch.isfinite(value), f"term '{name}' is not finite: {value.item()}"
        assert value.requires_grad and value.grad_fn is not None, (
            f"term '{name}' is not differentiable (detached, or built from new tensors)"
        )
        if params:
            grads = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
            reached = [g for g in grads if g is not None]
            assert reached, f"term '{name}' has no gradient for any of the given parameters"
            assert all(torch.isfinite(g).all() for g in reached), f"term '{name}': non-finite gradient"
    for tag, value in stats.items():
        assert isinstance(tag, str) and tag, f"stat tags must be non-empty strings: {tag!r}"
        assert isinstance(value, Tensor) and value.dim() == 0, f"stat '{tag}' must be a scalar tensor"
        assert not value.requires_grad, f"stat '{tag}' must be detached: stats are only logged"
        assert torch.isfinite(value), f"stat '{tag}' is not finite"
    return terms, stats


def check_training_step(trainer: Trainer, steps: int = 2) -> dict[str, Tensor]:
    """A training step plugin run by a ``ganzoo.training.Trainer`` for ``steps`` steps.

    Checked: the step is a ``TrainingStep`` with a ``"generator"`` network; every optimiser
    role owns parameters, no parameter belongs to two roles and every trainable parameter
    to one; each step moves every role's parameters, logs ``loss/<role>/total`` per role and
    only finite, detached scalars, and leaves no parameter frozen; each optimiser update
    (``backward_step``) puts gradients only on its own role's parameters and changes no other
    role's (G's phase never trains D, D's phase never G); ``images_per_step`` is a
    positive int; the sampler maps latents ``[N, D]`` to images in [-1, 1] of the data's
    shape and ``posterior`` is None or ``[N, posterior_size]``. Returns the last step's
    scalars. Advances ``trainer.step`` as ``fit`` would.
    """
    step, system = trainer.step_impl, trainer.system
    assert isinstance(step, TrainingStep), f"{type(step).__name__} is not a ganzoo.step.TrainingStep"
    networks = system.networks
    assert "generator" in networks, f"networks {sorted(networks)} have no 'generator'"
    roles = trainer.role_parameters
    owner: dict[int, str] = {}
    for role, params in roles.items():
        assert params, f"optimiser role '{role}' owns no parameters"
        for p in params:
            assert id(p) not in owner or owner[id(p)] == role, (
                f"a parameter belongs to roles '{owner.get(id(p))}' and '{role}'"
            )
            owner[id(p)] = role
    trainable = {
        f"{net}.{name}": p for net, module in networks.items()
        for name, p in module.named_parameters() if p.requires_grad
    }
    orphans = [name for name, p in trainable.items() if id(p) not in owner]
    assert not orphans, f"trainable parameters no optimiser role owns: {orphans[:5]}"
    per_step = step.images_per_step(trainer.recipe.data.settings.batch_size)
    assert isinstance(per_step, int) and per_step > 0, f"images_per_step gave {per_step!r}"

    stats: dict[str, Tensor] = {}
    context = trainer.context
    backward_step = context.backward_step
    updates: list[str] = []

    def isolated_backward_step(role: str, terms: dict[str, Tensor]) -> Tensor:
        """The context's update, checked: gradients and changes stay within ``role``."""
        others = [(r, p) for r, params in roles.items() if r != role for p in params]
        for _, p in others:
            p.grad = None
        values = [p.detach().clone() for _, p in others]
        total = backward_step(role, terms)
        for (other, p), value in zip(others, values, strict=True):
            assert p.grad is None or not p.grad.any(), (
                f"step {trainer.step + 1}: the '{role}' update put gradients on parameters of "
                f"role '{other}' (detach what it should not train, or freeze it with ctx.frozen)"
            )
            assert torch.equal(p, value), f"the '{role}' update changed parameters of '{other}'"
        updates.append(role)
        return total

    context.backward_step = isolated_backward_step  # type: ignore[method-assign]
    try:
        stats = _train_checked(trainer, roles, trainable, steps)
    finally:
        del context.backward_step  # the instance attribute; the method is back
    missing = set(roles) - set(updates)
    assert not missing, f"roles {sorted(missing)} were never updated through backward_step"
    _check_sampler_and_posterior(trainer)
    return stats


def _train_checked(
    trainer: Trainer, roles: dict[str, list[nn.Parameter]], trainable: dict[str, nn.Parameter], steps: int
) -> dict[str, Tensor]:
    stats: dict[str, Tensor] = {}
    for _ in range(steps):
        before = {role: [p.detach().clone() for p in params] for role, params in roles.items()}
        number = trainer.step + 1
        stats = trainer.train_step(number)
        trainer.step = number
        for role, params in roles.items():
            moved = any(not torch.equal(a, p) for a, p in zip(before[role], params, strict=True))
            assert moved, f"step {number}: role '{role}' did not update its parameters"
            assert f"loss/{role}/total" in stats, f"step {number}: no loss/{role}/total logged"
        for tag, value in stats.items():
            assert isinstance(value, Tensor) and value.numel() == 1, f"scalar '{tag}' is not a scalar"
            assert not value.requires_grad, f"scalar '{tag}' is not detached"
            assert torch.isfinite(value).all(), f"step {number}: scalar '{tag}' is not finite"
        frozen = [name for name, p in trainable.items() if not p.requires_grad]
        assert not frozen, f"step {number} left parameters frozen: {frozen[:5]}"
    return stats


def _check_sampler_and_posterior(trainer: Trainer) -> None:
    system, networks = trainer.system, trainer.system.networks
    modes = {name: module.training for name, module in networks.items()}
    try:
        for module in networks.values():
            module.eval()
        with torch.no_grad():
            z = system.latent.sample(4, torch.Generator(device=trainer.device).manual_seed(0), trainer.device)
            images = system.generator(z)
            assert images.shape == (4, *system.image_shape), f"sampler gave {tuple(images.shape)}"
            assert images.min() >= -1 - 1e-5 and images.max() <= 1 + 1e-5, "images must be in [-1, 1]"
            posterior = system.posterior(images)
            assert posterior is None or posterior.shape == (4, system.latent.posterior_size), (
                f"posterior gave {tuple(posterior.shape)}, expected (4, {system.latent.posterior_size})"
            )
    finally:
        for name, module in networks.items():
            module.train(modes[name])


def check_terms_in_training(trainer: Trainer, steps: int = 2) -> dict[str, set[str]]:
    """Every loss term of a trainer's step, checked where the step calls it, for ``steps``
    steps: each call passes ``check_loss_term`` with the parameters of the phase's optimiser
    role, so every loss a term adds to a phase reaches the networks that phase trains (a
    term in D's phase trains D, in G's phase G). Returns, per term table, the phases it added
    losses to; a term that never added one fails. The step must keep its terms as
    ``self.terms`` (as ``StepBuild.terms``, by table name), as ganzoo's steps do.
    """
    step = trainer.step_impl
    terms = getattr(step, "terms", None)
    assert isinstance(terms, dict), (
        f"{type(step).__name__} keeps no 'terms' dict: keep StepBuild.terms as self.terms"
    )
    roles = trainer.role_parameters
    phases: dict[str, set[str]] = {name: set() for name in terms}

    class Checked(LossTerm):
        def __init__(self, name: str, inner: LossTerm):
            self.name, self.inner = name, inner

        def __getattr__(self, attr: str) -> Any:  # what steps read of their terms
            return getattr(self.inner, attr)

        def _check(self, which: str, phase: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
            params = roles.get(which) or [p for ps in roles.values() for p in ps]
            out = check_loss_term(self.inner, phase, parameters=params, which=which)
            if out[0]:
                phases[self.name].add(which)
            return out

        def discriminator_terms(self, phase: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
            return self._check("discriminator", phase)

        def generator_terms(self, phase: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
            return self._check("generator", phase)

    originals = dict(terms)
    for name, term in originals.items():
        terms[name] = Checked(name, term)
    try:
        for _ in range(steps):
            trainer.step += 1
            trainer.train_step(trainer.step)
    finally:
        terms.update(originals)
    silent = [name for name, used in phases.items() if not used]
    assert not silent, f"terms {silent} added no loss to any phase in {steps} steps"
    return phases

