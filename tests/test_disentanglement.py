"""Disentanglement metrics on constructed representations with known answers, the metric
plugins on shapes2d and MNIST, and InfoGAN-CR's contrastive term."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from conftest import SMOKE_RECIPE, mnist_root, requires_mnist
from ganzoo.evaluation import EvalContext, Unavailable, evaluate
from ganzoo.latent import LatentSpace
from ganzoo.plugins import load_plugins
from ganzoo.recipe import read_toml, resolve
from ganzoo.system import GANSystem
from ganzoo.testing import check_loss_term, check_training_step
from ganzoo.training import Trainer
from ganzoo_plugins.disentanglement.beta_vae import beta_vae_score
from ganzoo_plugins.disentanglement.dci import dci
from ganzoo_plugins.disentanglement.estimators import (
    LogisticRegression,
    histogram_discretize,
    mutual_information,
)
from ganzoo_plugins.disentanglement.factor_vae import factor_vae_score
from ganzoo_plugins.disentanglement.factors import MeasuredFactors, height
from ganzoo_plugins.disentanglement.mig import mig
from ganzoo_plugins.disentanglement.sap import sap
from ganzoo_plugins.latent_codes.continuous import Uniform, UniformConfig

REGISTRY = load_plugins(autoload="first-party").registry()
SIZES = (4, 6, 8, 10)  # values per factor of the constructed data
N = 3000


def sample(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.stack([rng.integers(s, size=n) for s in SIZES], axis=1)  # [n, F]


def identity(f):
    return f.astype(float)


def permuted(f):  # codes reordered and rescaled (one flipped): the same information
    return f[:, [2, 0, 3, 1]].astype(float) * np.array([1.0, -2.0, 3.0, 0.5])


def mixed(f):  # codes 0 and 1 each carry both factors 0 and 1
    f = f.astype(float)
    return np.stack([f[:, 0] + f[:, 1], f[:, 0] - f[:, 1], f[:, 2], f[:, 3]], axis=1)


def noise(f):
    return np.random.default_rng(1).normal(size=(len(f), len(SIZES)))


@pytest.fixture(scope="module")
def observed():
    """Scores of MIG, DCI and SAP for each constructed representation of one factor draw."""
    rng = np.random.default_rng(0)
    factors = sample(N, rng)
    out = {}
    for name, fn in {
        "identity": identity,
        "permuted": permuted,
        "mixed": mixed,
        "noise": noise,
    }.items():
        codes = fn(factors) + rng.normal(0, 0.01, factors.shape)  # ties broken, as real codes
        split = 2000
        d = dci(codes[:split], factors[:split], codes[split:], factors[split:])
        s = sap(codes[:split], factors[:split], codes[split:], factors[split:])
        out[name] = {
            "mig": mig(codes, factors)["score"],
            "sap": s["score"],
            **{k: d[k] for k in ("disentanglement", "completeness", "informativeness")},
        }
    return out


# a perfect code of a factor with K values scores 1 - 1/K on SAP (the runner-up is at chance)
SAP_PERFECT = float(np.mean([1 - 1 / k for k in SIZES]))


def test_identity_scores_about_one_on_each(observed):
    scores = observed["identity"]
    assert scores["mig"] > 0.97
    assert scores["disentanglement"] > 0.97 and scores["completeness"] > 0.97
    assert scores["informativeness"] > 0.97
    assert scores["sap"] == pytest.approx(SAP_PERFECT, abs=0.03)


def test_random_codes_score_about_zero(observed):
    scores = observed["noise"]
    assert scores["mig"] < 0.02 and scores["sap"] < 0.03
    assert scores["disentanglement"] < 0.15 and scores["completeness"] < 0.15
    assert scores["informativeness"] < 0.3  # about chance (1/K averaged over factors: 0.16)


def test_permuted_and_rescaled_codes_keep_their_scores(observed):
    for key in ("mig", "disentanglement", "completeness", "informativeness", "sap"):
        assert observed["permuted"][key] == pytest.approx(observed["identity"][key], abs=0.02), key


def test_mixing_two_factors_lowers_mig_and_d_but_not_informativeness(observed):
    mix, ident = observed["mixed"], observed["identity"]
    assert mix["mig"] < ident["mig"] - 0.3
    assert mix["disentanglement"] < ident["disentanglement"] - 0.2
    assert mix["completeness"] < ident["completeness"] - 0.2
    assert mix["sap"] < ident["sap"] - 0.2
    assert mix["informativeness"] > 0.95  # everything is still there, only spread over codes


@pytest.mark.parametrize(
    "fn, low, high",
    [
        (identity, 0.99, 1.0),
        (permuted, 0.99, 1.0),
        (noise, 0.0, 0.45),
        (mixed, 0.55, 0.9),
    ],
)
def test_factor_vae_score(fn, low, high):
    # majority vote of the least-varying code: chance is 1/F for codes that say nothing; the
    # mixed codes name factors 2 and 3 always but 0 and 1 only by the vote of codes 0 and 1
    result = factor_vae_score(
        fn,
        sample,
        len(SIZES),
        np.random.default_rng(0),
        num_train=400,
        num_eval=200,
        num_variance_estimate=1000,
    )
    assert low <= result["eval_accuracy"] <= high
    assert result["active_codes"] == len(SIZES)


@pytest.mark.parametrize(
    "fn, low, high",
    [
        (identity, 0.99, 1.0),
        (permuted, 0.99, 1.0),
        (noise, 0.0, 0.45),
        (mixed, 0.95, 1.0),
    ],
)
def test_beta_vae_score(fn, low, high):
    # a linear classifier of |r1 - r2|: mixing is linear, so it still finds the shared factor
    result = beta_vae_score(
        fn, sample, len(SIZES), np.random.default_rng(0), num_train=400, num_eval=200
    )
    assert low <= result["eval_accuracy"] <= high


def test_factor_vae_prunes_constant_codes():
    def with_dead_code(f):
        return np.concatenate([identity(f), np.zeros((len(f), 1))], axis=1)

    result = factor_vae_score(
        with_dead_code,
        sample,
        len(SIZES),
        np.random.default_rng(0),
        num_train=100,
        num_eval=50,
        num_variance_estimate=500,
    )
    assert result["active_codes"] == len(SIZES) and result["eval_accuracy"] > 0.99
    assert sum(result["votes"][-1]) == 0


def test_estimators_against_hand_computed_values():
    a = np.array([0, 0, 1, 1])
    assert mutual_information(a, a) == pytest.approx(np.log(2))
    assert mutual_information(a, np.array([0, 1, 0, 1])) == pytest.approx(0.0)
    x = np.array([[0.0], [0.5], [1.0], [10.0]])
    assert histogram_discretize(x, 2)[:, 0].tolist() == [1, 1, 1, 2]  # equal-width bins
    xs = np.linspace(-1, 1, 200)[:, None]
    model = LogisticRegression().fit(xs, (xs[:, 0] > 0.1).astype(int))
    assert model.accuracy(xs, (xs[:, 0] > 0.1).astype(int)) > 0.97


# --------------------------------------------------------------------------- #
# The plugins: shapes2d with an oracle Q that reads position and size from the image
# --------------------------------------------------------------------------- #
class MomentQ(nn.Module):
    """Q's "posterior" of three codes: the ink's centroid x and y and its area."""

    def forward(self, images):
        w = (images[:, 0] + 1) / 2  # [B, H, W]
        coords = torch.linspace(0, 1, w.shape[-1])
        mass = w.sum(dim=(1, 2)).clamp_min(1e-6)
        cx = (w * coords.view(1, 1, -1)).sum(dim=(1, 2)) / mass
        cy = (w * coords.view(1, -1, 1)).sum(dim=(1, 2)) / mass
        return torch.stack([cx, cy, 10 * mass / w[0].numel()], dim=1)  # [B, 3], stds above 0.05


class MomentStep:
    def posterior(self, networks, images):
        return networks["q"](images)

    def sampler(self, networks):
        return networks["generator"]


def _moment_system() -> GANSystem:
    codes = [(name, Uniform(UniformConfig(dim=1)), True, 1.0) for name in ("x", "y", "area")]
    networks = {"generator": nn.Linear(3, 3), "q": MomentQ()}
    return GANSystem(networks, LatentSpace(codes), MomentStep(), (1, 32, 32))


@pytest.fixture(scope="module")
def shapes_report():
    spec = REGISTRY.get("dataset", "shapes2d")
    data = spec.build(spec.config(size=32, count=3000), root="unused", split="test", download=False)
    ctx = EvalContext(system=_moment_system(), samples=150, test_data=data)
    reports = {}
    for name in ("mig", "dci", "sap", "factor_vae_score", "beta_vae_score"):
        metric = REGISTRY.get("metric", name).build(REGISTRY.get("metric", name).config())
        part = metric.compute(ctx)
        reports[name] = (part["disentanglement"], metric.summarize(part))
    return reports


def test_metrics_on_shapes2d_find_the_codes_the_oracle_reads(shapes_report):
    mig_part, mig_summary = shapes_report["mig"]
    per_factor = mig_part["mig"]["per_factor"]
    assert set(per_factor) == {"shape", "scale", "orientation", "x", "y"}
    assert per_factor["x"] > 0.4 and per_factor["y"] > 0.4 and per_factor["scale"] > 0.2
    assert per_factor["orientation"] < 0.1 and per_factor["shape"] < per_factor["scale"]
    assert mig_summary["mig"][0] == pytest.approx(mig_part["mig"]["score"])
    dci_part = shapes_report["dci"][0]["dci"]
    # shape and orientation, read by no code, spread their importance over all three
    importance = np.array(dci_part["importance"])  # [R, F]
    assert importance[0].argmax() == 3 and importance[1].argmax() == 4  # x serves x, y y
    assert 0.0 < dci_part["disentanglement"] < 0.9
    sap_part = shapes_report["sap"][0]["sap"]
    assert sap_part["per_factor"]["x"] > 0.3 and sap_part["per_factor"]["orientation"] < 0.1
    # three of five factors are read: FactorVAE's vote finds those, not shape or orientation
    votes = np.array(shapes_report["factor_vae_score"][0]["factor_vae"]["votes"])  # [R, F]
    assert votes.argmax(axis=1).tolist() == [3, 4, 1]
    assert 0.4 < shapes_report["factor_vae_score"][1]["factor_vae_score"][0] < 0.9
    assert 0.4 < shapes_report["beta_vae_score"][1]["beta_vae_score"][0] < 0.95


def test_counts_follow_samples(shapes_report):
    assert shapes_report["mig"][0]["mig"]["num_train"] == 300  # 10000 * 150 / 5000
    assert shapes_report["factor_vae_score"][0]["factor_vae"]["num_train"] == 300


def test_metrics_without_factors_are_unavailable_with_a_reason(tiny_system_report):
    for name in ("mig", "dci", "sap", "factor_vae_score", "beta_vae_score"):
        status = tiny_system_report["metrics"][name]
        assert status["status"] == "unavailable" and "factors" in status["reason"], status
        assert tiny_system_report["summary"][{"dci": "dci_disentanglement"}.get(name, name)] is None


@pytest.fixture(scope="module")
def tiny_system_report(tmp_path_factory):
    raw = read_toml(SMOKE_RECIPE)
    recipe = resolve(raw, REGISTRY)
    trainer = Trainer(recipe, REGISTRY, tmp_path_factory.mktemp("run"), torch.device("cpu"))
    trainer.save_checkpoint()
    return evaluate(
        trainer.run_dir, ["mig", "dci", "sap", "factor_vae_score", "beta_vae_score"], 64
    )


# --------------------------------------------------------------------------- #
# MNIST: class plus measured slant, width, thickness, height
# --------------------------------------------------------------------------- #
def test_height_measures_vertical_extent():
    images = -torch.ones(2, 1, 28, 28)
    images[0, 0, 4:24, 10:14] = 1.0  # 20 rows tall
    images[1, 0, 12:16, 4:24] = 1.0  # 4 rows tall
    tall, flat = height(images).tolist()
    assert tall == pytest.approx(np.sqrt(20**2 - 1), rel=1e-4) and flat < 5


def test_measured_factors_bin_each_measure_and_keep_the_class():
    images = torch.zeros(200, 1, 28, 28, dtype=torch.uint8)
    for i in range(200):
        images[i, 0, 4 : 6 + i % 20, 10 : 12 + i % 7] = 255
    labels = torch.arange(200) % 10
    factors = MeasuredFactors(images, labels, bins=5)
    values = factors.values()
    assert factors.names == ("class", "slant", "width", "thickness", "height")
    assert values.shape == (200, 5) and values[:, 0].tolist() == labels.tolist()
    assert values[:, 1:].min() >= 0 and values[:, 1:].max() <= 4
    # taller boxes fall in higher height bins
    assert np.corrcoef(np.arange(200) % 20, values[:, 4])[0, 1] > 0.9


@requires_mnist
def test_mnist_has_measured_factors_and_interventional_scores_do_not_apply():
    spec = REGISTRY.get("dataset", "mnist")
    data = spec.build(spec.config(limit=600), root=mnist_root(), split="test", download=False)
    assert data.factors.values().shape == (600, 5)
    system = _moment_system()
    ctx = EvalContext(system=system, samples=100, test_data=data)
    part = REGISTRY.get("metric", "mig").build(REGISTRY.get("metric", "mig").config()).compute(ctx)
    per_factor = part["disentanglement"]["mig"]["per_factor"]
    assert set(per_factor) == {"class", "slant", "width", "thickness", "height"}
    assert all(v is None or 0.0 <= v <= 1.0 for v in per_factor.values())
    metric = REGISTRY.get("metric", "factor_vae_score").build(
        REGISTRY.get("metric", "factor_vae_score").config()
    )
    with pytest.raises(Unavailable, match="not applicable"):
        metric.compute(ctx)


# --------------------------------------------------------------------------- #
# InfoGAN-CR's contrastive term
# --------------------------------------------------------------------------- #
def _cr_raw(**settings) -> dict:
    raw = read_toml(SMOKE_RECIPE)
    raw["model"]["latent"]["style"]["dim"] = 1
    raw["model"]["latent"]["tilt"] = {
        "type": "uniform",
        "dim": 1,
        "regularized": True,
        "weight": 0.1,
    }
    raw["train"]["terms"]["contrastive"] = {"hidden": 16, "increase_every": 2, **settings}
    return raw


def _cr_trainer(tmp_path, categorical: bool = True, **settings) -> Trainer:
    raw = _cr_raw(**settings)
    raw["model"]["latent"]["digit"]["regularized"] = categorical
    return Trainer(resolve(raw, REGISTRY), REGISTRY, tmp_path, torch.device("cpu"))


def test_schedule_follows_the_paper():
    from ganzoo_plugins.infogan.contrastive import stepped

    # the public code: cr_coe 0 until global_id 288000 (our step 288001), then 2
    assert stepped(0.0, 2.0, 288000, 1, 288000) == 0.0
    assert stepped(0.0, 2.0, 288000, 1, 288001) == 2.0
    assert stepped(0.0, 2.0, 288000, 1, 10**7) == 2.0  # only increase_times increases
    assert stepped(1.0, -0.25, 10, 3, 31) == 0.25


def test_pairs_share_the_noise_and_exactly_the_chosen_code(tmp_path):
    trainer = _cr_trainer(tmp_path, categorical=False, gap_start=0.5)
    step, ctx = trainer.step_impl, trainer.context
    term = step.terms["contrastive"]
    ctx.step = 1
    batch, z = ctx.next_batch(), ctx.sample_latent()
    phase = step.discriminator_phase(
        ctx, batch, step.generate(ctx.networks["generator"], z, batch).detach(), z
    )
    first, second, shared = term.pairs(phase)
    latent = trainer.system.latent
    noise = latent.entry("noise").columns
    assert torch.equal(first[:, noise], second[:, noise])
    for k, e in enumerate(latent.regularized):
        same = shared == k
        a, b = first[:, e.columns], second[:, e.columns]
        assert torch.equal(a[same], b[same])
        if e.code.categories is None and (~same).any():  # the gap keeps the others apart
            assert ((a[~same] - b[~same]).abs() >= 0.5 - 1e-6).all()
            assert a.abs().max() <= 1 and b.abs().max() <= 1


def test_contrastive_term_conforms_and_trains_g_without_moving_its_head(tmp_path):
    trainer = _cr_trainer(tmp_path)
    step, ctx = trainer.step_impl, trainer.context
    term = step.terms["contrastive"]
    head = trainer.system.networks["contrastive_head"]
    assert all(
        any(p is q for q in trainer.role_parameters["discriminator"]) for p in head.parameters()
    )
    ctx.step = 3  # after the first increase: G's weight is 2
    assert term.generator_weight(3) == pytest.approx(0.0 + 2.0)
    batch, z = ctx.next_batch(), ctx.sample_latent()
    fake = step.generate(ctx.networks["generator"], z, batch)
    d_phase = step.discriminator_phase(ctx, batch, fake.detach(), z)
    d_terms, d_stats = check_loss_term(term, d_phase, list(head.parameters()))
    assert set(d_terms) == {"contrastive"} and "contrastive/accuracy" in d_stats
    with ctx.frozen(step.frozen_in_generator_phase(ctx.networks)):
        g_phase = step.generator_phase(ctx, batch, fake, z)
        g_terms, _ = check_loss_term(term, g_phase, list(ctx.networks["generator"].parameters()))
        g_terms["contrastive"].backward()
    assert all(p.grad is None for p in head.parameters())  # G's phase only reads the head
    assert all(p.grad is None for p in trainer.system.networks["discriminator"].parameters())


def test_g_sees_no_regulariser_before_the_switch(tmp_path):
    trainer = _cr_trainer(tmp_path, increase_every=1000)
    scalars = check_training_step(trainer)
    assert "loss/discriminator/contrastive" in scalars
    assert "loss/generator/contrastive" not in scalars


def test_contrastive_needs_two_codes_and_bounded_codes_for_a_gap():
    from ganzoo.errors import UserError

    raw = read_toml(SMOKE_RECIPE)
    raw["model"]["latent"]["style"]["regularized"] = False
    raw["train"]["terms"]["contrastive"] = {}
    raw["train"]["terms"].pop("invariant_information", None)
    with pytest.raises(UserError, match="at least two regularised codes"):
        resolve(raw, REGISTRY)
    raw = _cr_raw(gap_start=0.2)
    with pytest.raises(UserError, match="code 'digit' is categorical"):
        resolve(raw, REGISTRY)


def test_head_is_checkpointed_and_reloaded(tmp_path):
    from ganzoo.system import load_system

    trainer = _cr_trainer(tmp_path)
    trainer.train_step(1)
    trainer.save_checkpoint()
    loaded = load_system(tmp_path)
    saved = trainer.system.networks["contrastive_head"].state_dict()
    for key, value in loaded.system.networks["contrastive_head"].state_dict().items():
        assert torch.equal(value.cpu(), saved[key])
