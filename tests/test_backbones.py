"""Tests for the first-party backbones (ganzoo_plugins.backbones): shapes, ranges, gradients,
supported sizes, the InfoGAN paper's MNIST widths and spectral normalisation."""

from __future__ import annotations

import os
import subprocess
import sys

import attrs
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganzoo.system import Backbone, Discriminator
from ganzoo_plugins.backbones import dcgan, ganzoo_backbones, resnet
from ganzoo_plugins.backbones.configs import DCGANConfig, ResNetConfig
from ganzoo_plugins.infogan.q_head import QHead

SHAPES = [(1, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)]
LATENT = 12

# Small widths keep every case fast on a CPU.
SMALL = {
    "dcgan": (dcgan.build, DCGANConfig(base_channels=8, hidden=32)),
    "resnet": (resnet.build, ResNetConfig(channels=8)),
}


def _specs():
    return {spec.name: spec for spec in ganzoo_backbones()}


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# --------------------------------------------------------------------------- #
# Registration
# --------------------------------------------------------------------------- #


def test_hook_lists_both_backbones_with_string_factories():
    specs = _specs()
    assert set(specs) == {"dcgan", "resnet"}
    assert specs["dcgan"].config is DCGANConfig
    assert specs["resnet"].config is ResNetConfig
    for spec in specs.values():
        assert isinstance(spec.factory, str) and ":" in spec.factory
        assert spec.summary


def test_listing_does_not_import_torch():
    code = (
        "import sys\n"
        "from ganzoo_plugins.backbones import ganzoo_backbones\n"
        "ganzoo_backbones()\n"
        "assert 'torch' not in sys.modules, 'listing imported torch'\n"
        "assert 'ganzoo_plugins.backbones.dcgan' not in sys.modules\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["dcgan", "resnet"])
def test_defaults_build_through_the_spec(name):
    spec = _specs()[name]
    config = spec.config()
    for field in attrs.fields(spec.config):
        assert field.metadata["help"], f"{name}.{field.name} has no help"
    backbone = spec.build(config, image_shape=(1, 28, 28), latent_dim=74)
    assert isinstance(backbone, Backbone)
    assert backbone.feature_dim == (1024 if name == "dcgan" else 128)


# --------------------------------------------------------------------------- #
# Shapes, range, gradients
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(SMALL))
def test_shapes_range_and_gradients(name, shape):
    build, config = SMALL[name]
    backbone = build(config, image_shape=shape, latent_dim=LATENT)
    g, trunk = backbone.generator, backbone.trunk
    g.train()
    trunk.train()

    z = torch.randn(2, LATENT)  # a batch of 2 in train mode (BN needs > 1)
    images = g(z)
    assert images.shape == (2, *shape)
    assert images.min() >= -1 and images.max() <= 1
    assert g(10 * torch.randn(2, LATENT)).abs().max() <= 1

    features = trunk(images)
    assert features.shape == (2, backbone.feature_dim)
    assert torch.isfinite(features).all()

    loss = features.square().mean() + images.square().mean()
    loss.backward()
    for part, module in (("generator", g), ("trunk", trunk)):
        for pname, p in module.named_parameters():
            assert p.grad is not None, f"{name} {part}.{pname} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{name} {part}.{pname} non-finite gradient"
        assert any(p.grad.abs().sum() > 0 for p in module.parameters())

    # Eval mode: running statistics, same shapes.
    g.eval()
    trunk.eval()
    with torch.no_grad():
        assert trunk(g(torch.randn(3, LATENT))).shape == (3, backbone.feature_dim)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_core_heads_attach_to_the_trunk(name):
    build, config = SMALL[name]
    backbone = build(config, image_shape=(1, 28, 28), latent_dim=LATENT)
    d = Discriminator(backbone.trunk, backbone.feature_dim)
    q = QHead(backbone.feature_dim, 16, 12)
    logits, features = d(backbone.generator(torch.randn(4, LATENT)), return_features=True)
    assert logits.shape == (4,) and q(features).shape == (4, 12)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_conditional_backbones_take_labels_or_refuse_them(name):
    build, config = SMALL[name]
    if name == "resnet":
        with pytest.raises(ValueError, match="does not condition"):
            build(config, image_shape=(1, 28, 28), latent_dim=LATENT, num_classes=3)
        return
    backbone = build(config, image_shape=(1, 28, 28), latent_dim=LATENT, num_classes=3)
    d = Discriminator(backbone.trunk, backbone.feature_dim, num_classes=3)
    z = torch.randn(4, LATENT)
    zeros, twos = torch.zeros(4, dtype=torch.long), torch.full((4,), 2)
    backbone.generator.eval()
    d.eval()
    with torch.no_grad():
        images = backbone.generator(z, zeros)
        assert images.shape == (4, 1, 28, 28)
        assert not torch.allclose(images, backbone.generator(z, twos))  # G reads the label
        assert not torch.allclose(d(images, zeros), d(images, twos))  # so does D's projection
    with pytest.raises(ValueError, match="pass labels"):
        d(images)  # a projection D needs the labels ...
    with pytest.raises(ValueError, match="pass labels"):
        backbone.generator(z)  # ... and so does the conditional generator


# --------------------------------------------------------------------------- #
# Unsupported shapes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "shape", [(1, 40, 40), (3, 16, 16), (1, 28, 32), (2, 32, 32), (4, 64, 64)]
)
@pytest.mark.parametrize("name", sorted(SMALL))
def test_unsupported_shape_lists_supported_sizes(name, shape):
    build, config = SMALL[name]
    with pytest.raises(ValueError) as info:
        build(config, image_shape=shape, latent_dim=LATENT)
    message = str(info.value)
    assert name in message
    for size in ("28×28", "32×32", "64×64"):
        assert size in message
    assert "1 or 3 channels" in message


# --------------------------------------------------------------------------- #
# dcgan: the InfoGAN paper's MNIST network
# --------------------------------------------------------------------------- #


def test_dcgan_28_has_the_papers_widths():
    z_dim = 74  # InfoGAN MNIST: 62 noise + 10-way categorical + 2 continuous
    backbone = dcgan.build(DCGANConfig(), image_shape=(1, 28, 28), latent_dim=z_dim)
    g, d = backbone.generator, backbone.trunk
    assert backbone.feature_dim == 1024

    # Hand count; layers followed by BN carry no bias, BN has weight + bias.
    g_expected = (
        z_dim * 1024 + 2 * 1024  # FC 1024, BN
        + 1024 * 7 * 7 * 128 + 2 * 7 * 7 * 128  # FC 7·7·128, BN
        + 128 * 64 * 4 * 4 + 2 * 64  # 4×4 upconv 64, BN
        + 64 * 1 * 4 * 4 + 1  # 4×4 upconv 1 (with bias)
    )
    d_expected = (
        1 * 64 * 4 * 4 + 64  # 4×4 conv 64 (with bias), no BN
        + 64 * 128 * 4 * 4 + 2 * 128  # 4×4 conv 128, BN
        + 7 * 7 * 128 * 1024 + 2 * 1024  # FC 1024, BN
    )
    assert _count(g) == g_expected == 6_645_121
    assert _count(d) == d_expected == 6_556_992

    g_linears = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, nn.Linear)]
    assert g_linears == [(z_dim, 1024), (1024, 7 * 7 * 128)]
    g_upconvs = [
        (m.in_channels, m.out_channels, m.kernel_size, m.stride)
        for m in g.modules()
        if isinstance(m, nn.ConvTranspose2d)
    ]
    assert g_upconvs == [(128, 64, (4, 4), (2, 2)), (64, 1, (4, 4), (2, 2))]

    d_convs = [
        (m.in_channels, m.out_channels, m.kernel_size, m.stride)
        for m in d.modules()
        if isinstance(m, nn.Conv2d)
    ]
    assert d_convs == [(1, 64, (4, 4), (2, 2)), (64, 128, (4, 4), (2, 2))]
    d_linears = [(m.in_features, m.out_features) for m in d.modules() if isinstance(m, nn.Linear)]
    assert d_linears == [(7 * 7 * 128, 1024)]
    slopes = {m.negative_slope for m in d.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.1}
    # BN on D's second conv and FC only, not on the first conv.
    assert [m.num_features for m in d.modules() if isinstance(m, nn.BatchNorm2d)] == [128]


@pytest.mark.parametrize("size, widths", [(32, [8, 16, 32]), (64, [8, 16, 32, 64])])
def test_dcgan_32_64_double_channels_down_to_4x4(size, widths):
    backbone = dcgan.build(
        DCGANConfig(base_channels=8, hidden=32), image_shape=(3, size, size), latent_dim=LATENT
    )
    d_convs = [m.out_channels for m in backbone.trunk.modules() if isinstance(m, nn.Conv2d)]
    assert d_convs == widths
    g_upconvs = [
        m.out_channels for m in backbone.generator.modules() if isinstance(m, nn.ConvTranspose2d)
    ]
    assert g_upconvs == widths[-2::-1] + [3]
    first = next(m for m in backbone.generator.modules() if isinstance(m, nn.Linear))
    assert first.out_features == 4 * 4 * widths[-1]


def test_dcgan_init_std():
    shape = (1, 28, 28)
    normal = dcgan.build(DCGANConfig(base_channels=8, hidden=32), image_shape=shape, latent_dim=4)
    bn = next(m for m in normal.trunk.modules() if isinstance(m, nn.BatchNorm2d))
    assert not torch.all(bn.weight == 1)
    assert abs(bn.weight.mean().item() - 1) < 0.05
    conv = next(m for m in normal.trunk.modules() if isinstance(m, nn.Conv2d))
    assert abs(conv.weight.std().item() - 0.02) < 0.005

    default = dcgan.build(
        DCGANConfig(base_channels=8, hidden=32, init_std=0.0), image_shape=shape, latent_dim=4
    )
    bn = next(m for m in default.trunk.modules() if isinstance(m, nn.BatchNorm2d))
    assert torch.all(bn.weight == 1)


# --------------------------------------------------------------------------- #
# resnet: layout and spectral normalisation
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("size, blocks", [(28, 2), (32, 3), (64, 4)])
def test_resnet_block_counts(size, blocks):
    backbone = resnet.build(ResNetConfig(channels=8), image_shape=(1, size, size), latent_dim=4)
    assert len(backbone.generator.blocks) == blocks
    # optimized block + (blocks - 1) downsampling blocks + one at constant resolution
    assert len(backbone.trunk.blocks) == blocks + 1
    s0 = 7 if size == 28 else 4
    assert backbone.generator.fc.out_features == s0 * s0 * 8
    assert backbone.feature_dim == 8


def _sn_layers(module: nn.Module) -> tuple[list[nn.Module], list[nn.Module]]:
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return layers, [m for m in layers if parametrize.is_parametrized(m, "weight")]


def test_resnet_spectral_norm_on_and_off():
    shape = (3, 32, 32)
    on = resnet.build(ResNetConfig(channels=8), image_shape=shape, latent_dim=4)
    layers, normed = _sn_layers(on.trunk)
    assert layers and normed == layers
    assert any("parametrizations.weight.original" in k for k in on.trunk.state_dict())
    # Only D is normalised: the generator keeps plain weights.
    assert not _sn_layers(on.generator)[1]
    # The normalised weight of every layer has spectral norm ≈ 1 after a few power steps.
    on.trunk.train()
    with torch.no_grad():
        for _ in range(30):
            on.trunk(torch.randn(2, *shape))
    on.trunk.eval()
    conv = layers[0]
    sigma = torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2)
    assert abs(sigma.item() - 1) < 0.05

    off = resnet.build(
        ResNetConfig(channels=8, spectral_norm=False), image_shape=shape, latent_dim=4
    )
    layers, normed = _sn_layers(off.trunk)
    assert layers and not normed
    assert not any("parametrizations" in k for k in off.trunk.state_dict())
