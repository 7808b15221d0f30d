"""``dcgan``: the InfoGAN paper's MNIST network at 28×28, the standard DCGAN at 32 and 64.

28×28 (InfoGAN, Chen et al. 2016, Table 1, with b = ``base_channels``, h = ``hidden``)::

    G: FC h, BN, ReLU -> FC 7·7·2b, BN, ReLU -> 4×4 upconv b /2, BN, ReLU -> 4×4 upconv C /2, tanh
    D: 4×4 conv b /2, lReLU -> 4×4 conv 2b /2, BN, lReLU -> FC h, BN, lReLU   (features: h)

32×32 / 64×64 (Radford et al. 2016), with k = log2(size / 4) stride-2 steps::

    G: FC 4·4·b·2^(k-1), BN, ReLU -> (k-1) × [4×4 upconv halving channels, BN, ReLU]
       -> 4×4 upconv C, tanh        (k = 3 at 32×32: 4b -> 2b -> b -> C)
    D: 4×4 conv b, lReLU -> (k-1) × [4×4 conv doubling channels, BN, lReLU] down to 4×4
       -> FC h, BN, lReLU   (features: h)

Layers followed by batch norm have no bias (BN's shift replaces it).

Options: ``spectral_norm`` wraps every conv and linear of D in spectral normalisation (SNGAN,
Miyato et al. 2018), ``discriminator_batch_norm = false`` drops D's batch norm (WGAN-GP,
SNGAN); a conditional G (``num_classes`` > 0) either joins a class embedding to z
(``class_conditioning = "embedding"``) or uses conditional batch norm, a per-class gain and
bias in each of its batch norms (``"batch_norm"``; Miyato & Koyama 2018).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.system import Backbone
from ganzoo_plugins.backbones.configs import DCGANConfig, check_shape


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose gain and bias are looked up per class: ``([B, C, ...], [B]) -> [B, C, ...]``.
    Gains start at 1 and biases at 0, i.e. as plain batch norm."""

    def __init__(self, features: int, num_classes: int, dims: int):
        super().__init__()
        self.norm = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(features, affine=False)
        self.gain = nn.Embedding(num_classes, features)
        self.bias = nn.Embedding(num_classes, features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.dim() - 2)  # [B, C] or [B, C, 1, 1]
        return self.norm(x) * self.gain(labels).view(shape) + self.bias(labels).view(shape)


def _run(layers: nn.Sequential, x: Tensor, labels: Tensor | None) -> Tensor:
    """A Sequential whose conditional batch norms also get the labels."""
    for layer in layers:
        x = layer(x, labels) if isinstance(layer, ConditionalBatchNorm) else layer(x)
    return x


class DCGANGenerator(nn.Module):
    """``[B, latent_dim] -> [B, C, size, size]`` in [-1, 1]; a conditional generator (built
    with ``num_classes``) also takes ``labels [B]``: a learned embedding of them joins z, or
    they select the gains and biases of its conditional batch norms."""

    def __init__(
        self,
        fc: nn.Sequential,
        start: tuple[int, int, int],
        convs: nn.Sequential,
        embedding: nn.Embedding | None = None,
        conditional: bool = False,
    ):
        super().__init__()
        self.fc = fc
        self.start = start  # (channels, side, side) of the FC output's reshape
        self.convs = convs
        self.embedding = embedding
        self.conditional = conditional or embedding is not None

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.conditional and labels is None:
            raise ValueError("this generator is conditional: pass labels")
        if self.embedding is not None:
            z = torch.cat([z, self.embedding(labels)], dim=1)  # [B, D + E]
        x = _run(self.fc, z, labels)  # [B, c0·s0·s0]
        x = x.view(z.shape[0], *self.start)  # [B, c0, s0, s0]
        return torch.tanh(_run(self.convs, x, labels))  # [B, C, size, size]


class DCGANTrunk(nn.Module):
    """``[B, C, size, size] -> [B, hidden]``."""

    def __init__(self, convs: nn.Sequential, fc: nn.Sequential):
        super().__init__()
        self.convs = convs
        self.fc = fc

    def forward(self, images: Tensor) -> Tensor:
        x = self.convs(images)  # [B, cN, sN, sN]
        return self.fc(x.flatten(1))  # [B, hidden]


def _upconv(c_in: int, c_out: int, *, bias: bool) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)  # side ×2


def _conv(c_in: int, c_out: int, *, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)  # side ÷2


def _init(module: nn.Module, std: float) -> None:
    """DCGAN init: weights N(0, std), BN weights N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def build(
    config: DCGANConfig, *, image_shape: tuple[int, int, int], latent_dim: int, num_classes: int = 0
) -> Backbone:
    size = check_shape("dcgan", image_shape, latent_dim)
    channels = int(image_shape[0])
    b, h, slope = config.base_channels, config.hidden, config.leaky_slope
    by_norm = num_classes and config.class_conditioning == "batch_norm"
    embedding = None
    if num_classes and not by_norm:
        # a class embedding as wide as the number of classes joins G's input
        embedding = nn.Embedding(num_classes, num_classes)
        latent_dim += num_classes

    def g_norm(features: int, dims: int) -> nn.Module:
        if by_norm:
            return ConditionalBatchNorm(features, num_classes, dims)
        return nn.BatchNorm1d(features) if dims == 1 else nn.BatchNorm2d(features)

    # without D's batch norm (WGAN-GP, SNGAN) the layers it followed get their bias back
    d_bn = config.discriminator_batch_norm

    def d_norm(features: int, dims: int) -> list[nn.Module]:
        if not d_bn:
            return []
        return [nn.BatchNorm1d(features) if dims == 1 else nn.BatchNorm2d(features)]

    if size == 28:
        # Widths of the two conv stages, at 14×14 and 7×7 (the paper: 64, 128).
        widths = [b, 2 * b]
        s0 = 7
        g_fc = nn.Sequential(
            nn.Linear(latent_dim, h, bias=False),  # [B, h]
            g_norm(h, 1),
            nn.ReLU(),
            nn.Linear(h, s0 * s0 * widths[-1], bias=False),  # [B, 7·7·2b]
            g_norm(s0 * s0 * widths[-1], 1),
            nn.ReLU(),
        )
    else:
        steps = {32: 3, 64: 4}[size]  # stride-2 steps between 4×4 and the image side
        widths = [b * 2**i for i in range(steps)]  # D: b, 2b, ... at size/2, size/4, ..., 4
        s0 = 4
        g_fc = nn.Sequential(
            nn.Linear(latent_dim, s0 * s0 * widths[-1], bias=False),  # [B, 4·4·c0]
            g_norm(s0 * s0 * widths[-1], 1),
            nn.ReLU(),
        )

    # G: from widths[-1] at s0×s0, halve channels and double the side, last upconv to C.
    g_layers: list[nn.Module] = []
    for c_in, c_out in zip(widths[::-1], widths[::-1][1:], strict=False):
        g_layers += [_upconv(c_in, c_out, bias=False), g_norm(c_out, 2), nn.ReLU()]
    g_layers.append(_upconv(widths[0], channels, bias=True))  # [B, C, size, size]
    generator = DCGANGenerator(
        g_fc, (widths[-1], s0, s0), nn.Sequential(*g_layers), embedding, conditional=bool(num_classes)
    )

    # D: first conv without BN, then double channels and halve the side down to s0×s0.
    d_layers: list[nn.Module] = [_conv(channels, widths[0], bias=True), nn.LeakyReLU(slope)]
    for c_in, c_out in zip(widths, widths[1:], strict=False):
        d_layers += [_conv(c_in, c_out, bias=not d_bn), *d_norm(c_out, 2), nn.LeakyReLU(slope)]
    d_fc = nn.Sequential(
        nn.Linear(s0 * s0 * widths[-1], h, bias=not d_bn),  # [B, h]
        *d_norm(h, 1),
        nn.LeakyReLU(slope),
    )
    trunk = DCGANTrunk(nn.Sequential(*d_layers), d_fc)

    if config.init_std > 0:
        _init(generator, config.init_std)
        _init(trunk, config.init_std)
    if config.spectral_norm:  # after init: the normalisation divides the initial weights
        for module in list(trunk.modules()):
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                spectral_norm(module)
    return Backbone(generator=generator, trunk=trunk, feature_dim=h, spectral_norm_head=config.spectral_norm)
