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
from conftest import RECIPES, SMOKE_RECIPE
from ganzoo.errors import UserError
from ganzoo.plugins import load_plugins
from ganzoo.recipe import RecipeError, read_toml, resolve
from ganzoo.step import LossTerm, TermBuild, add_term_shares, lazy_ratio, lazy_term_shares
from ganzoo.testing import check_loss_term
from ganzoo.training import Trainer
from ganzoo_plugins.steps.phase import Phase
from ganzoo_plugins.terms.penalties import R1Config, R1Penalty, gradient_penalty

REAL_DATA = "real_data_information"
INVARIANT = "invariant_information"
CGAN = RECIPES / "smoke" / "cgan_synthetic.toml"
_REGISTRY = load_plugins(autoload="first-party").registry()


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
    terms, stats = term.discriminator_terms(phase)
    x = real.images.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(phase.discriminator(x).sum(), x)
    expected = 0.5 * 4.0 * 2 * grad.flatten(1).pow(2).sum(1).mean()  # gamma/2 * every * E|grad|^2
    assert terms["r1"].item() == pytest.approx(expected.item(), rel=1e-4)
    terms["r1"].backward()  # differentiable: trains D
    assert _net(trainer, "discriminator").trunk.parameters().__next__().grad is not None
    # StyleGAN2's correction of D's optimiser for 3 optimiser steps per 2 training steps
    d_opt, g_opt = trainer.optimizers["discriminator"], trainer.optimizers["generator"]
    plain = _trainer(registry, tmp_path / "plain").optimizers["discriminator"].param_groups[0]
    ratio = 2 / 3
    assert d_opt.param_groups[0]["lr"] == pytest.approx(plain["lr"] * ratio)
    assert d_opt.param_groups[0]["betas"] == pytest.approx(tuple(b**ratio for b in plain["betas"]))
    assert g_opt.param_groups[0]["betas"] == pytest.approx(plain["betas"])  # G is not regularised
    # on the loop: only the even steps log it, as an extra optimiser step of D; never in G's phase
    assert "loss/discriminator/r1" not in trainer.train_step(1)
    d_param = next(iter(d_opt.param_groups[0]["params"]))
    assert int(d_opt.state[d_param]["step"]) == 1
    logged = trainer.train_step(2)
    assert "loss/discriminator/r1" in logged and "r1/gradient_norm" in logged
    assert not any(tag.startswith("loss/generator/r1") for tag in logged)
    assert int(d_opt.state[d_param]["step"]) == 3  # D's step of step 2, then its R1 step


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


# --------------------------------------------------------------------------- #
# More of the MI term and Q's optimiser
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("table_weight", [1.0, 2.0])
def test_mutual_information_terms_are_lambda_times_each_codes_nll(registry, tmp_path, table_weight):
    trainer = _trainer(registry, tmp_path, terms={"mutual_information": {"weight": table_weight}})
    z, fake = _fake_batch(trainer)
    real = _real(trainer)
    with torch.no_grad():
        posterior = trainer.step_impl.posterior(trainer.system.networks, fake)
    for phase_name in ("discriminator", "generator"):
        terms, _, _ = _phase_terms(trainer, phase_name, real, fake, z)
        for name, lam in (("digit", 1.0), ("style", 0.1)):  # the smoke recipe's λ per code
            e = trainer.latent.entry(name)
            nll = -e.code.log_likelihood(z[:, e.columns], posterior[:, e.posterior]).mean()
            assert terms[f"mutual_information/{name}"].item() == pytest.approx(
                table_weight * lam * nll.item(), rel=1e-4
            ), (phase_name, name)
        assert "mutual_information/noise" not in terms  # noise is not regularised


def test_q_head_steps_with_the_discriminator_by_default(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    q_ids = {id(p) for p in _net(trainer, "q_head").parameters()}
    d_ids = {id(p) for g in trainer.optimizers["discriminator"].param_groups for p in g["params"]}
    g_ids = {id(p) for g in trainer.optimizers["generator"].param_groups for p in g["params"]}
    assert q_ids <= d_ids and not q_ids & g_ids
    q_before = _snapshot(_net(trainer, "q_head"))
    trainer.train_step(1)
    assert {k for k in _changed(q_before, _net(trainer, "q_head")) if "running" not in k}


def test_the_real_data_term_needs_q_in_the_discriminators_optimiser(registry):
    raw = read_toml(SMOKE_RECIPE)
    raw["train"]["step"]["q_head"]["optimizer"] = "generator"
    raw["train"]["terms"][REAL_DATA] = {}
    with pytest.raises(RecipeError, match="optimizer = 'discriminator'"):
        resolve(raw, registry)


# --------------------------------------------------------------------------- #
# Generic terms: R1 and the gradient penalty
# --------------------------------------------------------------------------- #


def _known_phase(step: int, name: str = "discriminator") -> tuple[Phase, torch.Tensor]:
    """A phase whose D(x) = <w, x> + |x|²/2 per sample, so ∇ₓD(x) = w + x."""
    torch.manual_seed(0)
    w = torch.randn(1, 1, 4, 4)
    real, fake = torch.randn(6, 1, 4, 4), torch.randn(6, 1, 4, 4)

    def discriminator(x):
        return (w * x).flatten(1).sum(1) + 0.5 * x.pow(2).flatten(1).sum(1)

    phase = Phase(name, step, real, fake, torch.zeros(6, 2), None, discriminator(real),
                  discriminator(fake), discriminator, None)
    return phase, (w + real).flatten(1).pow(2).sum(1).mean()  # E‖∇D(x)‖² on the real batch


def _r1(weight: float, every: int) -> R1Penalty:
    return R1Penalty(R1Config(every=every), TermBuild("r1", weight, None, None))


def test_r1_equals_half_gamma_times_the_mean_squared_gradient_norm():
    phase, squared_norm = _known_phase(step=1)
    terms, stats = _r1(10.0, 1).discriminator_terms(phase)
    assert terms["r1"].item() == pytest.approx(0.5 * 10.0 * squared_norm.item(), rel=1e-5)
    assert terms["r1"].requires_grad and not stats["r1/gradient_norm"].requires_grad
    g_phase, _ = _known_phase(step=1, name="generator")
    assert _r1(10.0, 1).generator_terms(g_phase) == ({}, {})  # D's regulariser only


def test_lazy_r1_applies_on_multiples_of_every_scaled_by_every_and_only_as_its_own_phase():
    term = _r1(2.0, 3)
    assert term.lazy_intervals() == {"discriminator": 3} and _r1(2.0, 1).lazy_intervals() == {}
    for step in (1, 2, 4, 5):
        assert lazy_term_shares({"r1": term}, "discriminator", step, _known_phase(step)[0]) == ({}, {})
    for step in (3, 6):
        phase, squared_norm = _known_phase(step)
        losses, stats = lazy_term_shares({"r1": term}, "discriminator", step, phase)
        assert losses["r1"].item() == pytest.approx(3 * 0.5 * 2.0 * squared_norm.item(), rel=1e-5)
        assert "r1/gradient_norm" in stats
        main: dict = {}
        add_term_shares({"r1": term}, "discriminator", phase, main, {})
        assert main == {}  # never part of the regular D phase
    assert lazy_ratio({"r1": term}, "discriminator") == pytest.approx(3 / 4)
    assert lazy_ratio({"r1": term}, "generator") == 1.0


@pytest.mark.parametrize("recipe", [SMOKE_RECIPE, CGAN], ids=["infogan", "conditional"])
def test_gradient_penalty_term_is_its_weight_times_the_penalty_in_d_phase_only(
    registry, tmp_path, recipe
):
    raw = read_toml(recipe)
    raw["loss"] = {"type": "wasserstein"}
    raw["train"].setdefault("terms", {})["gradient_penalty"] = {"weight": 10.0, "target": 0.5}
    trainer = Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"))
    step, ctx = trainer.step_impl, trainer.context
    batch, z = ctx.next_batch(), ctx.sample_latent()
    fake = step.generate(_net(trainer, "generator"), z, batch)
    phase = step.discriminator_phase(ctx, batch, fake.detach(), z)
    torch.manual_seed(5)
    terms, _ = step.terms["gradient_penalty"].discriminator_terms(phase)
    torch.manual_seed(5)  # the same per-sample mixing weights
    expected = gradient_penalty(phase.discriminator, batch.images, fake, target=0.5)
    assert terms["gradient_penalty"].item() == pytest.approx(10.0 * expected.item(), rel=1e-5)
    assert step.terms["gradient_penalty"].generator_terms(phase) == ({}, {})
    logged = trainer.train_step(1)
    assert "loss/discriminator/gradient_penalty" in logged
    assert "loss/generator/gradient_penalty" not in logged


# --------------------------------------------------------------------------- #
# The relativistic loss: G's phase scores the real batch
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("recipe", [SMOKE_RECIPE, CGAN], ids=["infogan", "conditional"])
@pytest.mark.parametrize("loss", ["relativistic_average", "nonsaturating"])
def test_g_phase_scores_the_real_batch_only_for_a_relativistic_loss(
    registry, tmp_path, monkeypatch, recipe, loss
):
    raw = read_toml(recipe)
    raw["loss"] = {"type": loss}
    trainer = Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"))
    step, ctx = trainer.step_impl, trainer.context
    discriminator = _net(trainer, "discriminator")
    batches, inputs, received = [], [], []
    next_batch = ctx.next_batch
    monkeypatch.setattr(ctx, "next_batch", lambda: batches.append(next_batch()) or batches[-1])
    generator_loss = step.loss.generator_loss
    monkeypatch.setattr(step.loss, "generator_loss", lambda fake_logits, real_logits=None: (
        received.append(real_logits) or generator_loss(fake_logits, real_logits)))
    handle = discriminator.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    accumulated = []
    hooks = [p.register_post_accumulate_grad_hook(lambda p: accumulated.append(id(p)))
             for p in discriminator.parameters()]
    trainer.train_step(1)
    handle.remove()
    for hook in hooks:
        hook.remove()

    (real_logits,) = received
    (batch,) = batches
    if loss == "nonsaturating":
        assert real_logits is None and len(inputs) == 3  # D: real, fake; G: fake
        return
    assert len(inputs) == 4 and inputs[-1] is batch.images  # G's phase: fake, then the real batch
    with torch.no_grad():  # D did not change in G's phase, so it scores the batch the same way
        labels = batch.labels if step.uses_labels else None
        expected = discriminator(batch.images, labels)
    assert torch.allclose(real_logits.detach(), expected, atol=1e-5)
    # G's loss reads D's real logits, but D is frozen in G's phase: one accumulation per param.
    assert sorted(accumulated) == sorted(id(p) for p in discriminator.parameters())


@pytest.mark.parametrize("terms, key", [
    # the smoke recipe's [train.terms.mutual_information] comes first
    ({"second": {"type": "mutual_information"}}, "mutual_information/digit"),
    ({"first": {"type": "gradient_penalty"}, "second": {"type": "gradient_penalty"}}, "gradient_penalty"),
])
def test_a_loss_name_from_two_term_tables_is_a_clear_error(registry, tmp_path, terms, key):
    trainer = _trainer(registry, tmp_path, terms=terms)
    with pytest.raises(UserError, match=f"train.terms.second: adds a loss named '{key}'"):
        trainer.train_step(1)
    assert all(p.requires_grad for n in trainer.system.networks.values() for p in n.parameters())


# --------------------------------------------------------------------------- #
# Conformance: every registered term, in both phases of every step that serves it
# --------------------------------------------------------------------------- #

# One recipe per registered step; a new first-party step must add one here.
_STEP_RECIPES = {"infogan": SMOKE_RECIPE, "adversarial": CGAN, "acgan": RECIPES / "smoke" / "acgan_synthetic.toml"}


def _term_cases():
    for term in _REGISTRY.names("term"):
        needs = _REGISTRY.get("term", term).needs
        for step in _REGISTRY.names("step"):
            if all(need in _REGISTRY.get("step", step).provides for need in needs):
                yield pytest.param(term, step, id=f"{term}-{step}")


def test_every_registered_step_has_a_conformance_recipe():
    assert set(_REGISTRY.names("step")) == set(_STEP_RECIPES)


@pytest.mark.parametrize("term, step_name", list(_term_cases()))
def test_every_term_conforms_in_both_phases(registry, tmp_path, term, step_name):
    raw = read_toml(_STEP_RECIPES[step_name])
    raw["train"].setdefault("terms", {})[term] = {"weight": 0.5}
    trainer = Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"))
    step, ctx = trainer.step_impl, trainer.context
    term_impl = step.terms[term]
    params = [p for network in trainer.system.networks.values() for p in network.parameters()]
    ctx.step = 1
    batch, z = ctx.next_batch(), ctx.sample_latent()
    fake = step.generate(_net(trainer, "generator"), z, batch)
    d_phase = step.discriminator_phase(ctx, batch, fake.detach(), z)
    d_terms, _ = check_loss_term(term_impl, d_phase, params)
    with ctx.frozen(step.frozen_in_generator_phase(ctx.networks)):  # as the step runs G's phase
        g_phase = step.generator_phase(ctx, batch, fake, z)
        g_terms, _ = check_loss_term(term_impl, g_phase, params)
    assert d_terms or g_terms, f"term '{term}' adds no loss to either phase"


class _Broken(LossTerm):
    def __init__(self, fault):
        self.fault = fault

    def discriminator_terms(self, phase):
        value = phase.discriminator(phase.real).mean()
        if self.fault == "backward":
            value.backward(retain_graph=True)
        if self.fault == "detached":
            return {"broken": value.detach()}, {}
        if self.fault == "stat":
            return {}, {"broken": value}
        if self.fault == "in_place":
            phase.real.mul_(2)
        return {"broken": value}, {}


@pytest.mark.parametrize("fault, message", [
    ("backward", "must not call backward"),
    ("detached", "not differentiable"),
    ("stat", "must be detached"),
    ("in_place", "modified phase.real in place"),
])
def test_check_loss_term_catches_a_broken_term(fault, message):
    weight = nn.Parameter(torch.ones(1, 1, 4, 4))
    real = torch.randn(6, 1, 4, 4)
    phase = Phase("discriminator", 1, real, real, torch.zeros(6, 2), None, None, torch.zeros(6),
                  lambda x: (weight * x).flatten(1).sum(1), None)
    with pytest.raises(AssertionError, match=message):
        check_loss_term(_Broken(fault), phase, [weight])
