"""InfoGAN as plugins: the step's phases and the MI / real-data / invariance terms route
gradients where they must, and only there. Also the generic terms (gradient penalty, R1)
and the relativistic loss, through the adversarial steps."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import ganzoo_plugins.infogan.invariance
import ganzoo_plugins.infogan.real_data
from conftest import SMOKE_RECIPE
from ganzoo.errors import UserError
from ganzoo.recipe import read_toml, resolve
from ganzoo.training import Trainer
from ganzoo_plugins.terms.penalties import gradient_penalty

REAL_DATA = "real_data_information"
INVARIANT = "invariant_information"


def _trainer(registry, tmp_path, terms=None, raw_edit=None, **q_head):
    raw = read_toml(SMOKE_RECIPE)
    raw["train"]["step"].setdefault("q_head", {}).update(q_head)
    raw["train"]["terms"].update(terms or {})
    if raw_edit is not None:
        raw_edit(raw)
    recipe = resolve(raw, registry)
    return Trainer(recipe, registry, tmp_path, torch.device("cpu"))


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module) -> set[str]:
    after = module.state_dict()
    return {k for k, v in before.items() if v.dtype.is_floating_point and not torch.equal(v, after[k])}


def _net(trainer, name):
    return trainer.system.networks[name]


def _fake_batch(trainer):
    z = trainer.latent.sample(8, trainer.latent_generator, trainer.device)
    return z, _net(trainer, "generator")(z)


def _real(trainer):
    return trainer.context.next_batch()


def _phase_terms(trainer, phase_name, batch, fake, z):
    """Every term's share of one phase, as the step adds them."""
    step = trainer.step_impl
    if phase_name == "discriminator":
        phase = step.discriminator_phase(trainer.context, batch, fake.detach(), z)
    else:
        phase = step.generator_phase(trainer.context, batch, fake, z)
    terms, stats = {}, {}
    step.add_terms(phase, terms, stats)
    return terms, stats, phase


def test_mutual_information_term_reaches_generator_and_q_head(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    z, fake = _fake_batch(trainer)
    terms, _, _ = _phase_terms(trainer, "generator", _real(trainer), fake, z)
    mi = terms["mutual_information/digit"]
    assert mi.requires_grad, "the MI term must stay in the graph"
    mi.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in _net(trainer, "generator").parameters() if p.dim() > 1)
    q_last = _net(trainer, "q_head").net[-1].weight
    assert q_last.grad is not None and q_last.grad.abs().sum() > 0


@pytest.mark.parametrize("trains_trunk", [True, False])
def test_discriminator_mode_trains_q_and_optionally_the_trunk(registry, tmp_path, trains_trunk):
    trainer = _trainer(registry, tmp_path, optimizer="discriminator", trains_trunk=trains_trunk)
    z, fake = _fake_batch(trainer)
    terms, _, _ = _phase_terms(trainer, "discriminator", _real(trainer), fake, z)
    assert "mutual_information/digit" in terms
    terms["mutual_information/digit"].backward()
    trunk_grads = [p.grad for p in _net(trainer, "discriminator").trunk.parameters()]
    q_grad = _net(trainer, "q_head").net[0].weight.grad
    assert q_grad is not None and q_grad.abs().sum() > 0
    reached = any(g is not None and g.abs().sum() > 0 for g in trunk_grads)
    assert reached == trains_trunk
    # The D phase works on detached fakes: no gradient may reach G.
    assert all(p.grad is None for p in _net(trainer, "generator").parameters())


def test_discriminator_step_does_not_update_generator(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    g_before = _snapshot(_net(trainer, "generator"))
    d_before = _snapshot(_net(trainer, "discriminator"))
    z, fake = _fake_batch(trainer)
    terms, _, _ = _phase_terms(trainer, "discriminator", _real(trainer), fake, z)
    trainer.context.backward_step("discriminator", terms)
    changed_g = {k for k in _changed(g_before, _net(trainer, "generator")) if "running" not in k}
    assert changed_g == set()
    assert _changed(d_before, _net(trainer, "discriminator"))


def test_full_step_in_generator_mode_moves_q_with_g_and_not_the_trunk(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, optimizer="generator")
    q_ids = {id(p) for p in _net(trainer, "q_head").parameters()}
    assert q_ids <= {id(p) for g in trainer.optimizers["generator"].param_groups for p in g["params"]}
    assert not q_ids & {id(p) for g in trainer.optimizers["discriminator"].param_groups for p in g["params"]}
    q_before = _snapshot(_net(trainer, "q_head"))
    trunk_before = _snapshot(_net(trainer, "discriminator"))
    trainer.train_step(1)
    assert {k for k in _changed(q_before, _net(trainer, "q_head")) if "running" not in k}
    assert _changed(trunk_before, _net(trainer, "discriminator"))  # D still learns its own loss


def test_generator_phase_computes_no_discriminator_gradients(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    d_params = [*_net(trainer, "discriminator").parameters(), *_net(trainer, "q_head").parameters()]
    accumulated = []
    handles = [p.register_post_accumulate_grad_hook(lambda p: accumulated.append(id(p))) for p in d_params]
    trainer.train_step(1)
    for handle in handles:
        handle.remove()
    # Each D (and Q) parameter gets gradients once, in D's phase; the G phase (frozen) adds none.
    assert sorted(accumulated) == sorted(id(p) for p in d_params)
    assert all(p.requires_grad for p in d_params)  # unfrozen again


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
    from ganzoo_plugins.infogan.step import InfoGANPhase

    phase = InfoGANPhase("generator", 1, z, z, z, None, None, torch.zeros(64), None, trainer.latent,
                         posterior)
    _, stats = trainer.step_impl.terms["mutual_information"].generator_terms(phase)
    assert stats["mi_lower_bound/digit"].item() == pytest.approx(math.log(4), abs=1e-3)


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
        registry, tmp_path, terms={REAL_DATA: {"weight": 0.5, "augmentation": augmentation}},
        trains_trunk=trains_trunk,
    )
    transformed = []
    original = ganzoo_plugins.infogan.real_data.random_affine
    monkeypatch.setattr(
        ganzoo_plugins.infogan.real_data, "random_affine",
        lambda x, **kw: transformed.append(x) or original(x, **kw),
    )
    z, fake = _fake_batch(trainer)
    real = _real(trainer)
    terms, stats, _ = _phase_terms(trainer, "discriminator", real, fake, z)
    assert len(transformed) == (augmentation == "affine")
    if transformed:
        assert transformed[0] is real.images  # the copies are of the real batch, never of fakes
    term = terms["real_data_information/digit"]
    info = stats["real_data_information/digit"]
    assert term.item() == pytest.approx(0.5 * (math.log(4) - info.item()), rel=1e-5)
    term.backward()
    q_grad = _net(trainer, "q_head").net[0].weight.grad
    assert q_grad is not None and q_grad.abs().sum() > 0
    trunk_grads = [p.grad for p in _net(trainer, "discriminator").trunk.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in trunk_grads) == trains_trunk
    assert all(p.grad is None for p in _net(trainer, "generator").parameters())
    g_terms, _, _ = _phase_terms(trainer, "generator", real, fake, z)
    assert "real_data_information/digit" not in g_terms  # G never sees real images


def test_without_the_real_data_term_q_never_sees_real_images(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    z, fake = _fake_batch(trainer)
    terms, _, phase = _phase_terms(trainer, "discriminator", _real(trainer), fake, z)
    assert not any(name.startswith("real_data_information") for name in terms)
    assert phase.real_posterior is None  # not even computed


def test_a_term_of_weight_zero_is_not_built(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(ganzoo_plugins.infogan.real_data, "random_affine",
                        lambda *a, **k: pytest.fail("copied"))
    trainer = _trainer(registry, tmp_path, terms={REAL_DATA: {"weight": 0.0}})
    assert REAL_DATA not in trainer.step_impl.terms
    trainer.train_step(1)


@pytest.mark.parametrize("trains_trunk", [True, False])
def test_invariant_term_is_the_codes_likelihood_on_affine_copies_of_fakes(
    registry, tmp_path, trains_trunk, monkeypatch
):
    trainer = _trainer(
        registry, tmp_path, terms={INVARIANT: {"weight": 0.5, "codes": ["digit"]}},
        trains_trunk=trains_trunk,
    )
    copies = []
    original = ganzoo_plugins.infogan.invariance.random_affine

    def recording(x, **kw):
        out = original(x, **kw)
        copies.append((x, out))
        return out

    monkeypatch.setattr(ganzoo_plugins.infogan.invariance, "random_affine", recording)
    z, fake = _fake_batch(trainer)
    real = _real(trainer)

    # G's phase: the copies are of this step's fakes, and G learns through them.
    g_terms, g_stats, _ = _phase_terms(trainer, "generator", real, fake, z)
    (source, copy), = copies
    assert source is fake and not torch.equal(copy, fake)
    term = g_terms["invariant_information/digit"]
    assert "invariant_information/style" not in g_terms  # only the codes it names
    with torch.no_grad():
        posterior = trainer.step_impl.posterior(trainer.system.networks, copy)
    digit = trainer.latent.entry("digit")
    nll = -digit.code.log_likelihood(z[:, digit.columns], posterior[:, digit.posterior]).mean()
    assert term.item() == pytest.approx(0.5 * nll.item(), rel=1e-4)
    assert g_stats["invariant_mi_lower_bound/digit"].item() == pytest.approx(
        math.log(4) - nll.item(), rel=1e-4
    )
    term.backward(retain_graph=True)
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in _net(trainer, "generator").parameters() if p.dim() > 1)
    for network in trainer.system.networks.values():
        network.zero_grad(set_to_none=True)

    # D's phase: copies of the *detached* fakes; Q (and the trunk only if it learns the MI term).
    d_terms, _, _ = _phase_terms(trainer, "discriminator", real, fake, z)
    assert len(copies) == 2 and not copies[1][0].requires_grad
    d_terms["invariant_information/digit"].backward()
    assert all(p.grad is None for p in _net(trainer, "generator").parameters())
    q_grad = _net(trainer, "q_head").net[0].weight.grad
    assert q_grad is not None and q_grad.abs().sum() > 0
    trunk_grads = [p.grad for p in _net(trainer, "discriminator").trunk.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in trunk_grads) == trains_trunk


def test_without_the_invariance_term_nothing_is_copied(registry, tmp_path, monkeypatch):
    trainer = _trainer(registry, tmp_path)
    monkeypatch.setattr(ganzoo_plugins.infogan.invariance, "random_affine",
                        lambda *a, **k: pytest.fail("copied"))
    z, fake = _fake_batch(trainer)
    real = _real(trainer)
    g_terms, _, _ = _phase_terms(trainer, "generator", real, fake, z)
    d_terms, _, _ = _phase_terms(trainer, "discriminator", real, fake, z)
    assert not any(name.startswith("invariant") for name in [*g_terms, *d_terms])


def test_gradient_penalty_mixes_real_and_fake_per_sample():
    seen = {}

    def recorder(x):
        seen["mixed"] = x.detach().clone()
        return x.flatten(1).sum(1) * 0.5

    real = torch.randn(6, 1, 4, 4)
    fake = torch.randn(6, 1, 4, 4)
    penalty = gradient_penalty(recorder, real, fake)
    alpha = (seen["mixed"] - fake) / (real - fake)  # [B, 1, 4, 4]
    per_sample = alpha.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-4)
    assert per_sample[:, 0].unique().numel() > 1  # different samples, different weights
    # d/dx of 0.5*sum(x) has norm 0.5*sqrt(16) = 2, so the penalty is (2 - 1)^2 = 1.
    assert penalty.item() == pytest.approx(1.0)


def test_r1_is_half_gamma_times_the_squared_gradient_norm_on_real_images_and_lazy(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, terms={"r1": {"weight": 4.0, "every": 2}})
    term = trainer.step_impl.terms["r1"]
    z, fake = _fake_batch(trainer)
    real = _real(trainer)
    phase = trainer.step_impl.discriminator_phase(trainer.context, real, fake.detach(), z)
    phase.step = 1
    assert term.discriminator_terms(phase) == ({}, {})  # lazy: not on odd steps
    phase.step = 2
    terms, stats = term.discriminator_terms(phase)
    x = real.images.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(phase.discriminator(x).sum(), x)
    expected = 0.5 * 4.0 * 2 * grad.flatten(1).pow(2).sum(1).mean()  # gamma/2 * every * E|grad|^2
    assert terms["r1"].item() == pytest.approx(expected.item(), rel=1e-4)
    terms["r1"].backward()  # differentiable: trains D
    assert _net(trainer, "discriminator").trunk.parameters().__next__().grad is not None
    # every step on the loop: lazily present in the logged scalars, no crash when absent
    trainer.train_step(1)
    trainer.train_step(2)


def test_relativistic_loss_scores_real_images_in_g_phase(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, raw_edit=lambda raw: raw.update(
        loss={"type": "relativistic_average"}))
    assert trainer.step_impl.loss.needs_real_logits_for_generator
    z, fake = _fake_batch(trainer)
    real = _real(trainer)
    phase = trainer.step_impl.generator_phase(trainer.context, real, fake, z)
    assert phase.real_logits is not None and phase.real_logits.shape == (real.images.shape[0],)
    trainer.train_step(1)
    plain = _trainer(registry, tmp_path)
    assert plain.step_impl.generator_phase(plain.context, real, fake, z).real_logits is None


def test_two_tables_of_one_term_are_a_clear_error(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, terms={"mi_again": {"type": "mutual_information"}})
    with pytest.raises(UserError, match="train.terms.mi_again: adds a loss named 'mutual_information/digit'"):
        trainer.train_step(1)


def test_one_generator_forward_per_step(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    calls = []
    handle = _net(trainer, "generator").register_forward_hook(lambda *a: calls.append(1))
    trainer.train_step(1)
    handle.remove()
    assert len(calls) == 1
