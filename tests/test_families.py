"""The zoo's families and DiffAugment: every recipe smoke-trains on synthetic data, and the
pieces the families are made of (DiffAugment, spectral norm and conditional batch norm in the
dcgan trunk, the RaLSGAN loss, the acgan step) do what their papers say."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from conftest import RECIPES, SMOKE_RECIPE
from ganzoo.checkpoint import load_checkpoint
from ganzoo.cli import main
from ganzoo.recipe import read_toml, resolve
from ganzoo.training import Trainer
from ganzoo_plugins.augmentations.configs import DiffAugmentConfig
from ganzoo_plugins.augmentations.diffaugment import DiffAugment, cutout, translation

ALL_RECIPES = sorted(RECIPES.glob("*.toml"))
SYNTHETIC = [
    "data.type=synthetic", "data.count=64", "data.batch_size=8", "train.steps=2",
    "train.log_every=1", "train.sample_every=2", "train.checkpoint_every=0",
    "train.eval_every=0", "train.sample_count=8", "train.traversal_rows=2",
    "train.traversal_steps=2",
]
TINY = {  # per backbone: the smallest networks of the same shape
    "dcgan": ["model.backbone.base_channels=4", "model.backbone.hidden=16"],
    "resnet": ["model.backbone.channels=8"],
}


def _sets(items):
    return [arg for item in items for arg in ("--set", item)]


# -- every recipe -------------------------------------------------------------------------------
@pytest.mark.parametrize("recipe", ALL_RECIPES, ids=lambda p: p.stem)
def test_every_recipe_checks_and_smoke_trains_on_synthetic_data(recipe, tmp_path):
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(recipe)])
    assert checked.exit_code == 0, checked.output
    backbone = read_toml(recipe)["model"]["backbone"]["type"]
    out = tmp_path / "run"
    result = runner.invoke(
        main,
        ["run", str(recipe), "--out", str(out), "--device", "cpu", *_sets(SYNTHETIC + TINY[backbone])],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    payload = load_checkpoint(out / "checkpoints" / "step_00000002.pt")
    assert payload["step"] == 2
    assert (out / "samples" / "step_00000002.png").exists()


@pytest.mark.parametrize(
    "recipe", ["acgan_mnist", "cgan_projection_mnist"]
)
def test_conditional_recipes_draw_the_requested_classes(recipe, tmp_path):
    out = tmp_path / "run"
    args = ["run", str(RECIPES / f"{recipe}.toml"), "--out", str(out)]
    result = CliRunner().invoke(main, args + _sets(SYNTHETIC + TINY["dcgan"]), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    from ganzoo.system import load_system

    system = load_system(out).system
    z = system.latent.sample(6, torch.Generator().manual_seed(0), torch.device("cpu"))
    with torch.no_grad():
        zeros = system.generator(z, torch.zeros(6, dtype=torch.long))
        ones = system.generator(z, torch.ones(6, dtype=torch.long))
    assert not torch.allclose(zeros, ones), "the label must change the image"


# -- DiffAugment ----------------------------------------------------------------------------------
def _dot(batch=4, side=16):
    """One bright pixel per image at (5, 9), on -1."""
    x = torch.full((batch, 1, side, side), -1.0)
    x[:, :, 5, 9] = 1.0
    return x


def test_translation_moves_every_image_by_an_integer_shift_within_range():
    torch.manual_seed(0)
    x = _dot(batch=64)
    out = translation(x, 0.125, fill=-1.0)  # up to 2 pixels at side 16
    assert out.shape == x.shape
    for image in out[:, 0]:
        (row, col), = (image == 1).nonzero().tolist()
        assert abs(row - 5) <= 2 and abs(col - 9) <= 2
        assert (image == -1).sum() == image.numel() - 1
    shifts = {tuple((image == 1).nonzero()[0].tolist()) for image in out[:, 0]}
    assert len(shifts) > 5, "shifts must differ per image"


def test_translation_fills_what_it_shifts_in():
    torch.manual_seed(1)
    x = torch.ones(32, 1, 8, 8)
    out = translation(x, 0.25, fill=0.0)  # shifts of up to 2 of 8 pixels
    moved = [img for img in out[:, 0] if (img == 0).any()]
    assert moved, "some image must have moved"
    for img in moved:  # the filled pixels are whole rows or columns at the border
        rows, cols = (img == 0).all(dim=1), (img == 0).all(dim=0)
        assert ((img == 0) == (rows[:, None] | cols[None, :])).all()


def test_cutout_blanks_one_square_of_half_the_side():
    torch.manual_seed(2)
    x = torch.ones(256, 3, 16, 16)
    out = cutout(x, 0.5, fill=0.0)
    blank = (out == 0).all(dim=1)  # [B, H, W]: every channel cut alike
    assert ((out == 0).any(dim=1) == blank).all()
    counts = blank.flatten(1).sum(dim=1)
    assert counts.max() == 64  # a whole 8×8 square when it falls inside
    assert (counts > 0).all() and (counts <= 64).all()
    for image in blank[:8]:  # the blank pixels form one axis-aligned rectangle
        rows, cols = image.any(dim=1).nonzero(), image.any(dim=0).nonzero()
        assert image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()


def test_diffaugment_is_differentiable_and_draws_from_the_global_generator():
    augment = DiffAugment(DiffAugmentConfig(policy=("color", "translation", "cutout")))
    x = torch.rand(8, 3, 16, 16, requires_grad=True)
    torch.manual_seed(3)
    a = augment(x)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    x.grad = None
    DiffAugment(DiffAugmentConfig(policy=("translation", "cutout")))(x).sum().backward()
    assert (x.grad == 0).any(), "pixels cut out or shifted away get no gradient"
    assert (x.grad == 1).any(), "pixels that stay pass their gradient unchanged"
    torch.manual_seed(3)
    assert torch.equal(augment(x), a), "the same global seed must give the same augmentation"
    assert not torch.equal(augment(x), a)
    off = DiffAugment(DiffAugmentConfig(policy=()))
    assert torch.equal(off(x), x)


def test_colour_changes_brightness_and_contrast_per_image():
    torch.manual_seed(4)
    x = torch.rand(16, 1, 8, 8) * 2 - 1
    out = DiffAugment(DiffAugmentConfig(policy=("color",)))(x)
    shift = (out - x).mean(dim=(1, 2, 3))
    assert shift.std() > 0.05, "brightness must differ per image"


def _smoke_trainer(registry, tmp_path, extra=None):
    raw = read_toml(SMOKE_RECIPE)
    raw["model"]["augmentation"] = {"type": "diffaugment"}
    raw["train"]["terms"]["gradient_penalty"] = {"weight": 1.0}
    for key, value in (extra or {}).items():
        raw["train"]["terms"][key] = value
    return Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"))


def test_every_image_d_sees_in_training_is_augmented_and_none_in_eval(registry, tmp_path):
    trainer = _smoke_trainer(registry, tmp_path, {"r1": {"weight": 1.0}})
    discriminator = trainer.system.networks["discriminator"]
    seen = []
    discriminator.augmentation.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    trainer.train_step(1)
    # D's phase: real, fake, the gradient penalty's mixes, R1's reals (+ InfoGAN's Q passes);
    # G's phase: the fakes. The smoke recipe's terms call D a few times more.
    assert len(seen) >= 5, seen
    seen.clear()
    discriminator.eval()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        assert torch.equal(discriminator(x), discriminator(x))
    assert not seen, "evaluation must see images unchanged"


def test_generators_gradient_flows_through_the_augmentation(registry, tmp_path):
    trainer = _smoke_trainer(registry, tmp_path)
    G, D = trainer.system.networks["generator"], trainer.system.networks["discriminator"]
    z = trainer.context.sample_latent(8)
    D(G(z)).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters() if p.ndim > 1)


def test_resume_is_exact_with_diffaugment(tmp_path):
    runner = CliRunner()
    aug = _sets(["model.augmentation.type=diffaugment",
                 'model.augmentation.policy=["color", "translation", "cutout"]'])
    straight, split = tmp_path / "straight", tmp_path / "split"
    for out, steps in ((straight, 6), (split, 3)):
        result = runner.invoke(main, ["run", str(SMOKE_RECIPE), "--out", str(out),
                                      "--set", f"train.steps={steps}", *aug], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["run", "--resume", str(split), "--set", "train.steps=6"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    a = load_checkpoint(straight / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(split / "checkpoints" / "step_00000006.pt")
    for network in ("generator", "discriminator"):
        for key, value in a["models"][network].items():
            assert torch.equal(value, b["models"][network][key]), f"{network}.{key}"


def test_an_unknown_operation_is_a_recipe_error_naming_the_key():
    result = CliRunner().invoke(
        main, ["check", str(SMOKE_RECIPE), "--set", "model.augmentation.type=diffaugment",
               "--set", 'model.augmentation.policy=["translate"]']
    )
    assert result.exit_code == 2
    assert "model.augmentation.policy[0]" in result.output and "translation" in result.output


# -- the dcgan trunk's options ---------------------------------------------------------------
def _dcgan(registry, num_classes=0, **options):
    spec = registry.get("backbone", "dcgan")
    config = spec.config(base_channels=8, hidden=32, **options)
    return spec.build(config, image_shape=(1, 28, 28), latent_dim=6, num_classes=num_classes)


def test_spectral_norm_bounds_every_layer_of_d_and_drops_its_batch_norm(registry):
    from ganzoo.system import Discriminator

    backbone = _dcgan(registry, spectral_norm=True, discriminator_batch_norm=False)
    assert backbone.spectral_norm_head
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in backbone.trunk.modules())
    D = Discriminator(backbone.trunk, backbone.feature_dim, backbone.spectral_norm_head)
    layers = [m for m in D.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert layers and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in layers)
    for _ in range(30):  # power iterations run on training forwards
        D(torch.rand(2, 1, 28, 28))
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_conditional_batch_norm_conditions_g_without_an_input_embedding(registry):
    from ganzoo_plugins.backbones.dcgan import ConditionalBatchNorm

    backbone = _dcgan(registry, num_classes=3, class_conditioning="batch_norm")
    G = backbone.generator
    assert G.embedding is None
    norms = [m for m in G.modules() if isinstance(m, ConditionalBatchNorm)]
    assert len(norms) == 3  # FC, FC, upconv: every batch norm of G at 28×28
    with torch.no_grad():
        for norm in norms:  # distinct per-class gains
            norm.gain.weight.normal_(1.0, 0.5)
    z = torch.rand(4, 6)
    with pytest.raises(ValueError, match="pass labels"):
        G(z)
    G.eval()
    a, b = G(z, torch.zeros(4, dtype=torch.long)), G(z, torch.full((4,), 2))
    assert not torch.allclose(a, b)
    G.train()
    G(z, torch.tensor([0, 1, 1, 2])).mean().backward()
    assert all(n.gain.weight.grad is not None for n in norms)
    # the classes not in the batch get no gradient: one gain and bias per class
    unconditioned = _dcgan(registry)
    assert not any(isinstance(m, ConditionalBatchNorm) for m in unconditioned.generator.modules())


def test_the_default_dcgan_is_unchanged_by_the_options(registry):
    """The default trunk keeps its layers and parameter names (old checkpoints load)."""
    torch.manual_seed(0)
    keys = set(_dcgan(registry).trunk.state_dict())
    bn = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    assert keys == {"convs.0.weight", "convs.0.bias", "convs.2.weight", "fc.0.weight"} | {
        f"{layer}.{name}" for layer in ("convs.3", "fc.1") for name in bn
    }


# -- LSGAN ---------------------------------------------------------------------------------------
def test_least_squares_default_is_the_0_1_1_coding_bit_for_bit(registry):
    spec = registry.get("loss", "least_squares")
    loss = spec.build(spec.config())
    real, fake = torch.randn(16, generator=torch.Generator().manual_seed(0)), torch.randn(16)
    assert torch.equal(loss.discriminator_loss(real, fake),
                       0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean()))
    assert torch.equal(loss.generator_loss(fake), 0.5 * (fake - 1).pow(2).mean())


def test_least_squares_takes_the_papers_a_b_c_coding(registry):
    spec = registry.get("loss", "least_squares")
    loss = spec.build(spec.config(fake_target=-1.0, real_target=1.0, generator_target=0.0))
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 1.0])
    # D: ((r - b)^2 + (f - a)^2) / 2 -> ((0 + 4) / 2 + (0 + 4) / 2) / 2; G: (f - c)^2 / 2
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(2.0)
    assert loss.generator_loss(fake).item() == pytest.approx(0.5)
    assert loss.discriminator_loss(torch.ones(2), -torch.ones(2)).item() == 0.0  # D's optimum


# -- RaLSGAN -------------------------------------------------------------------------------------
def test_ralsgan_loss_is_the_papers_formula(registry):
    loss = registry.get("loss", "relativistic_average_least_squares").build(None)
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])  # means 2 and -1
    # D: ((r - mean f - 1)^2 + (f - mean r + 1)^2) / 2, each a batch mean
    d = 0.5 * (((real + 1 - 1) ** 2).mean() + ((fake - 2 + 1) ** 2).mean())
    g = 0.5 * (((fake - 2 - 1) ** 2).mean() + ((real + 1 + 1) ** 2).mean())
    assert loss.discriminator_loss(real, fake) == pytest.approx(d.item())
    assert loss.generator_loss(fake, real) == pytest.approx(g.item())
    with pytest.raises(ValueError, match="real logits"):
        loss.generator_loss(fake)


# -- AC-GAN --------------------------------------------------------------------------------------
def _acgan_trainer(registry, tmp_path, **step):
    raw = read_toml(RECIPES / "acgan_mnist.toml")
    raw["data"] = {"type": "synthetic", "count": 64, "classes": 4, "batch_size": 8}
    raw["model"]["backbone"].update(base_channels=4, hidden=16)
    raw["train"]["step"].update(step)
    return Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"))


def test_acgan_class_loss_is_in_both_phases_and_trains_the_classifier_with_d(registry, tmp_path):
    trainer = _acgan_trainer(registry, tmp_path)
    networks = trainer.system.networks
    assert set(networks) == {"generator", "discriminator", "classifier"}
    assert networks["discriminator"].projection is None
    assert networks["classifier"].out_features == 4
    owned = {id(p) for p in trainer.role_parameters["discriminator"]}
    assert all(id(p) in owned for p in networks["classifier"].parameters())
    stats = trainer.train_step(1)
    assert {"loss/discriminator/classification", "loss/generator/classification"} <= set(stats)
    assert "classifier/accuracy_real" in stats


def test_acgan_losses_are_cross_entropies_of_the_requested_classes(registry, tmp_path):
    trainer = _acgan_trainer(registry, tmp_path, class_weight=0.5)
    step, ctx = trainer.step_impl, trainer.context
    ctx.step = 1
    batch = ctx.next_batch()
    z = ctx.sample_latent()
    fake = step.generate(ctx.networks["generator"], z, batch)
    phase = step.discriminator_phase(ctx, batch, fake.detach(), z)
    (d_terms, _) = step.family_terms(phase)
    expected = F.cross_entropy(phase.real_class_logits, batch.labels) + F.cross_entropy(
        phase.class_logits, batch.labels
    )
    assert d_terms["classification"].item() == pytest.approx(0.5 * expected.item())
    g_phase = step.generator_phase(ctx, batch, fake, z)
    (g_terms, _) = step.family_terms(g_phase)
    assert g_terms["classification"].item() == pytest.approx(
        0.5 * F.cross_entropy(g_phase.class_logits, batch.labels).item()
    )
    g_terms["classification"].backward()  # G is rewarded for the requested class
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in ctx.networks["generator"].parameters())

    real_only = _acgan_trainer(registry, tmp_path / "b", fake_class_loss=False, class_weight=1.0).step_impl
    (terms, _) = real_only.family_terms(phase)
    assert terms["classification"].item() == pytest.approx(
        F.cross_entropy(phase.real_class_logits, batch.labels).item()
    )


def test_acgan_refuses_unlabelled_data(registry, tmp_path):
    from ganzoo.data import ImageData
    from ganzoo.errors import UserError

    raw = read_toml(RECIPES / "acgan_mnist.toml")
    raw["data"] = {"type": "synthetic"}
    unlabelled = ImageData(torch.zeros(32, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(UserError, match="labels"):
        Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"), data=unlabelled)
