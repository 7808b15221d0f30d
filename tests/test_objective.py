"""The InfoGAN objective: gradients flow where they must, and only there."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import ganzoo.objective
from conftest import SMOKE_RECIPE
from ganzoo.objective import gradient_penalty
from ganzoo.recipe import read_toml, resolve
from ganzoo.training import Trainer


def _trainer(registry, tmp_path, latent=None, **q_head):
    raw = read_toml(SMOKE_RECIPE)
    raw["model"].setdefault("q_head", {}).update(q_head)
    for name, keys in (latent or {}).items():
        raw["model"]["latent"][name].update(keys)
    recipe = resolve(raw, registry)
    return Trainer(recipe, registry, tmp_path, torch.device("cpu"))


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module) -> set[str]:
    after = module.state_dict()
    return {k for k, v in before.items() if v.dtype.is_floating_point and not torch.equal(v, after[k])}


def _fake_batch(trainer):
    z = trainer.latent.sample(8, trainer.latent_generator, trainer.device)
    return z, trainer.generator(z)


def test_mutual_information_term_reaches_generator_and_q_head(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    z, fake = _fake_batch(trainer)
    terms, _ = trainer.objective.generator_terms(trainer.discriminator, fake, z)
    mi = terms["mutual_information/digit"]
    assert mi.requires_grad, "the MI term must stay in the graph"
    mi.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.generator.parameters()
               if p.dim() > 1)
    q_last = trainer.discriminator.q_head.net[-1].weight
    assert q_last.grad is not None and q_last.grad.abs().sum() > 0


@pytest.mark.parametrize("trains_trunk", [True, False])
def test_discriminator_mode_trains_q_and_optionally_the_trunk(registry, tmp_path, trains_trunk):
    trainer = _trainer(registry, tmp_path, optimizer="discriminator", trains_trunk=trains_trunk)
    z, fake = _fake_batch(trainer)
    real = trainer.batches.next()
    terms, _ = trainer.objective.discriminator_terms(trainer.discriminator, real, fake, z)
    assert "mutual_information/digit" in terms
    terms["mutual_information/digit"].backward()
    trunk_grads = [p.grad for p in trainer.discriminator.trunk.parameters()]
    q_grad = trainer.discriminator.q_head.net[0].weight.grad
    assert q_grad is not None and q_grad.abs().sum() > 0
    reached = any(g is not None and g.abs().sum() > 0 for g in trunk_grads)
    assert reached == trains_trunk
    # The D phase works on detached fakes: no gradient may reach G.
    assert all(p.grad is None for p in trainer.generator.parameters())


def test_discriminator_step_does_not_update_generator(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    g_before = _snapshot(trainer.generator)
    d_before = _snapshot(trainer.discriminator)
    z, fake = _fake_batch(trainer)
    real = trainer.batches.next()
    terms, _ = trainer.objective.discriminator_terms(trainer.discriminator, real, fake, z)
    trainer._backward_step(sum(terms.values()), trainer.optimizers["discriminator"])
    changed_g = {k for k in _changed(g_before, trainer.generator) if "running" not in k}
    assert changed_g == set()
    assert _changed(d_before, trainer.discriminator)


def test_full_step_in_generator_mode_moves_q_with_g_and_not_the_trunk(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, optimizer="generator")
    q_ids = {id(p) for p in trainer.discriminator.q_head.parameters()}
    assert q_ids <= {id(p) for g in trainer.optimizers["generator"].param_groups for p in g["params"]}
    assert not q_ids & {id(p) for g in trainer.optimizers["discriminator"].param_groups for p in g["params"]}
    q_before = _snapshot(trainer.discriminator.q_head)
    trainer.train_step(1)
    assert {k for k in _changed(q_before, trainer.discriminator.q_head) if "running" not in k}


def test_generator_phase_computes_no_discriminator_gradients(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    accumulated = []
    handles = [
        p.register_post_accumulate_grad_hook(lambda p: accumulated.append(id(p)))
        for p in trainer.discriminator.parameters()
    ]
    trainer.train_step(1)
    for handle in handles:
        handle.remove()
    # Each D parameter gets gradients once, in D's phase; the G phase (D frozen) adds none.
    assert sorted(accumulated) == sorted(id(p) for p in trainer.discriminator.parameters())
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # unfrozen again


def test_categorical_likelihood_uses_logits_not_probabilities(registry):
    spec = registry.get("latent_code", "categorical")
    code = spec.build(spec.config(categories=4))
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.0]])
    value = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    expected = torch.log_softmax(logits, dim=1)[0, 0]
    assert code.log_likelihood(value, logits).item() == pytest.approx(expected.item(), abs=1e-6)
    assert code.entropy() == pytest.approx(math.log(4))


def test_mi_lower_bound_approaches_log_k_for_a_perfect_q(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    z = trainer.latent.sample(64, trainer.latent_generator, trainer.device)
    entry = trainer.latent.entry("digit")
    posterior = torch.zeros(64, trainer.latent.posterior_size)
    posterior[:, entry.posterior] = z[:, entry.columns] * 30
    nll = trainer.latent.negative_log_likelihoods(z, posterior)
    bound = trainer.latent.mutual_information_bounds(nll)["digit"]
    assert bound.item() == pytest.approx(math.log(4), abs=1e-3)


def test_real_data_information_is_high_only_for_confident_balanced_splits(registry):
    spec = registry.get("latent_code", "categorical")
    code = spec.build(spec.config(categories=4))
    confident_balanced = torch.eye(4).repeat(8, 1) * 40  # [32, 4]: each category 8 times
    assert code.real_data_information(confident_balanced).item() == pytest.approx(math.log(4), abs=1e-3)
    unsure = torch.zeros(32, 4)  # every image spread evenly: no information
    assert code.real_data_information(unsure).item() == pytest.approx(0.0, abs=1e-6)
    collapsed = torch.zeros(32, 4)
    collapsed[:, 2] = 40.0  # confident but always the same category: no information either
    assert code.real_data_information(collapsed).item() == pytest.approx(0.0, abs=1e-3)
    half = torch.eye(4)[:2].repeat(16, 1) * 40  # two categories used evenly: ln 2
    assert code.real_data_information(half).item() == pytest.approx(math.log(2), abs=1e-3)


@pytest.mark.parametrize("augmentation", ["none", "affine"])
@pytest.mark.parametrize("trains_trunk", [True, False])
def test_real_data_term_trains_q_on_real_images_only_in_d_phase(
    registry, tmp_path, trains_trunk, augmentation, monkeypatch
):
    trainer = _trainer(
        registry,
        tmp_path,
        latent={"digit": {"real_data_weight": 0.5}},
        trains_trunk=trains_trunk,
        real_data_augmentation=augmentation,
    )
    transformed = []
    original = ganzoo.objective.random_affine
    monkeypatch.setattr(
        ganzoo.objective, "random_affine", lambda x, **kw: transformed.append(x) or original(x, **kw)
    )
    z, fake = _fake_batch(trainer)
    real = trainer.batches.next()
    terms, stats = trainer.objective.discriminator_terms(trainer.discriminator, real, fake, z)
    assert len(transformed) == (augmentation == "affine")
    if transformed:
        assert transformed[0] is real  # the copies are of the real batch, never of fakes
    term = terms["real_data_information/digit"]
    info = stats["real_data_information/digit"]
    assert term.item() == pytest.approx(0.5 * (math.log(4) - info.item()), rel=1e-5)
    term.backward()
    q_grad = trainer.discriminator.q_head.net[0].weight.grad
    assert q_grad is not None and q_grad.abs().sum() > 0
    trunk_grads = [p.grad for p in trainer.discriminator.trunk.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in trunk_grads) == trains_trunk
    assert all(p.grad is None for p in trainer.generator.parameters())
    g_terms, _ = trainer.objective.generator_terms(trainer.discriminator, fake, z)
    assert "real_data_information/digit" not in g_terms  # G never sees real images


def test_real_data_term_off_by_default(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    z, fake = _fake_batch(trainer)
    terms, _ = trainer.objective.discriminator_terms(
        trainer.discriminator, trainer.batches.next(), fake, z
    )
    assert not any(name.startswith("real_data_information") for name in terms)


@pytest.mark.parametrize("trains_trunk", [True, False])
def test_invariant_term_is_the_codes_likelihood_on_affine_copies_of_fakes(
    registry, tmp_path, trains_trunk, monkeypatch
):
    trainer = _trainer(
        registry, tmp_path, latent={"digit": {"invariance_weight": 0.5}}, trains_trunk=trains_trunk
    )
    copies = []
    original = ganzoo.objective.random_affine

    def recording(x, **kw):
        out = original(x, **kw)
        copies.append((x, out))
        return out

    monkeypatch.setattr(ganzoo.objective, "random_affine", recording)
    z, fake = _fake_batch(trainer)
    real = trainer.batches.next()

    # G's phase: the copies are of this step's fakes, and G learns through them.
    g_terms, g_stats = trainer.objective.generator_terms(trainer.discriminator, fake, z)
    (source, copy), = copies
    assert source is fake and not torch.equal(copy, fake)
    term = g_terms["invariant_information/digit"]
    assert "invariant_information/style" not in g_terms  # only the codes that ask for it
    with torch.no_grad():
        _, posterior = trainer.discriminator(copy, with_q=True)
    digit = trainer.latent.entry("digit")
    nll = -digit.code.log_likelihood(z[:, digit.columns], posterior[:, digit.posterior]).mean()
    assert term.item() == pytest.approx(0.5 * nll.item(), rel=1e-4)
    assert g_stats["invariant_mi_lower_bound/digit"].item() == pytest.approx(
        math.log(4) - nll.item(), rel=1e-4
    )
    term.backward(retain_graph=True)
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in trainer.generator.parameters() if p.dim() > 1)
    trainer.generator.zero_grad(set_to_none=True)
    trainer.discriminator.zero_grad(set_to_none=True)

    # D's phase: copies of the *detached* fakes; Q (and the trunk only if it learns the MI term).
    d_terms, _ = trainer.objective.discriminator_terms(trainer.discriminator, real, fake, z)
    assert len(copies) == 2 and not copies[1][0].requires_grad
    d_terms["invariant_information/digit"].backward()
    assert all(p.grad is None for p in trainer.generator.parameters())
    q_grad = trainer.discriminator.q_head.net[0].weight.grad
    assert q_grad is not None and q_grad.abs().sum() > 0
    trunk_grads = [p.grad for p in trainer.discriminator.trunk.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in trunk_grads) == trains_trunk


def test_invariant_term_off_by_default(registry, tmp_path, monkeypatch):
    trainer = _trainer(registry, tmp_path)
    monkeypatch.setattr(ganzoo.objective, "random_affine", lambda *a, **k: pytest.fail("copied"))
    z, fake = _fake_batch(trainer)
    g_terms, _ = trainer.objective.generator_terms(trainer.discriminator, fake, z)
    d_terms, _ = trainer.objective.discriminator_terms(
        trainer.discriminator, trainer.batches.next(), fake, z
    )
    assert not any(name.startswith("invariant") for name in [*g_terms, *d_terms])


def test_gradient_penalty_mixes_real_and_fake_per_sample():
    seen = {}

    class Recorder(nn.Module):
        def forward(self, x, with_q=False, detach_q=False):
            seen["mixed"] = x.detach().clone()
            return x.flatten(1).sum(1) * 0.5, None

    real = torch.randn(6, 1, 4, 4)
    fake = torch.randn(6, 1, 4, 4)
    penalty = gradient_penalty(Recorder(), real, fake)
    alpha = (seen["mixed"] - fake) / (real - fake)  # [B, 1, 4, 4]
    per_sample = alpha.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-4)
    assert per_sample[:, 0].unique().numel() > 1  # different samples, different weights
    # d/dx of 0.5*sum(x) has norm 0.5*sqrt(16) = 2, so the penalty is (2 - 1)^2 = 1.
    assert penalty.item() == pytest.approx(1.0)


def test_one_generator_forward_per_step(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    calls = []
    handle = trainer.generator.register_forward_hook(lambda *a: calls.append(1))
    trainer.train_step(1)
    handle.remove()
    assert len(calls) == 1
