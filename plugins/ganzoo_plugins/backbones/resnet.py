"""``resnet``: SNGAN-style residual generator and discriminator trunk (Miyato et al. 2018).

With ch = ``channels`` and s0 = 7 (28×28) or 4 (32×32, 64×64)::

    G: FC s0·s0·ch -> n × ResBlockUp(ch) -> BN, ReLU, 3×3 conv C, tanh
       (n = 2 at 28×28, 3 at 32×32, 4 at 64×64)
    D: OptimizedBlock(C -> ch) -> ResBlockDown(ch) until s0×s0 -> ResBlock(ch)
       -> ReLU -> global sum pooling   (features: ch)

Spectral normalisation (``spectral_norm = true``) wraps every conv and linear of D's trunk.
Weights start as in SNGAN's reference code: Xavier-uniform with gain √2 on the 3×3 convs of
the residual branches, gain 1 on shortcuts, the FC and the output conv; biases 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.system import Backbone
from ganzoo_plugins.backbones.configs import ResNetConfig, check_shape


def _conv3(c_in: int, c_out: int, gain: float = math.sqrt(2)) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 3, padding=1)  # same side
    nn.init.xavier_uniform_(conv.weight, gain)
    nn.init.zeros_(conv.bias)
    return conv


def _conv1(c_in: int, c_out: int) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 1)  # same side
    nn.init.xavier_uniform_(conv.weight, 1.0)
    nn.init.zeros_(conv.bias)
    return conv


class ResBlockUp(nn.Module):
    """G block: ``[B, c_in, s, s] -> [B, c_out, 2s, 2s]``."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = _conv3(c_in, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.shortcut = _conv1(c_in, c_out)

    def forward(self, x: Tensor) -> Tensor:  # x: [B, c_in, s, s]
        h = F.relu(self.bn1(x))
        h = F.interpolate(h, scale_factor=2, mode="nearest")  # [B, c_in, 2s, 2s]
        h = self.conv1(h)  # [B, c_out, 2s, 2s]
        h = self.conv2(F.relu(self.bn2(h)))  # [B, c_out, 2s, 2s]
        # A 1×1 conv commutes with nearest upsampling: convolve first, on 4× fewer pixels.
        sc = F.interpolate(self.shortcut(x), scale_factor=2, mode="nearest")  # [B, c_out, 2s, 2s]
        return h + sc


class OptimizedBlock(nn.Module):
    """D's first block: ``[B, c_in, s, s] -> [B, c_out, s/2, s/2]`` (no ReLU on the input)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = _conv3(c_in, c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.shortcut = _conv1(c_in, c_out)

    def forward(self, x: Tensor) -> Tensor:  # x: [B, c_in, s, s]
        h = self.conv2(F.relu(self.conv1(x)))  # [B, c_out, s, s]
        h = F.avg_pool2d(h, 2)  # [B, c_out, s/2, s/2]
        sc = self.shortcut(F.avg_pool2d(x, 2))  # [B, c_out, s/2, s/2]
        return h + sc


class ResBlockDown(nn.Module):
    """D block: ``[B, c_in, s, s] -> [B, c_out, s/2, s/2]``, or same side if not ``downsample``.

    The shortcut is a learnable 1×1 conv when the block downsamples or changes width, else
    the identity.
    """

    def __init__(self, c_in: int, c_out: int, downsample: bool = True):
        super().__init__()
        self.downsample = downsample
        self.conv1 = _conv3(c_in, c_out)
        self.conv2 = _conv3(c_out, c_out)
        self.shortcut = _conv1(c_in, c_out) if downsample or c_in != c_out else None

    def forward(self, x: Tensor) -> Tensor:  # x: [B, c_in, s, s]
        h = self.conv1(F.relu(x))  # [B, c_out, s, s]
        h = self.conv2(F.relu(h))  # [B, c_out, s, s]
        sc = x if self.shortcut is None else self.shortcut(x)  # [B, c_out, s, s]
        if self.downsample:
            h = F.avg_pool2d(h, 2)  # [B, c_out, s/2, s/2]
            sc = F.avg_pool2d(sc, 2)  # [B, c_out, s/2, s/2]
        return h + sc


class ResNetGenerator(nn.Module):
    """``[B, latent_dim] -> [B, C, size, size]`` in [-1, 1]."""

    def __init__(self, latent_dim: int, channels: int, image_channels: int, s0: int, blocks: int):
        super().__init__()
        self.channels, self.s0 = channels, s0
        self.fc = nn.Linear(latent_dim, s0 * s0 * channels)
        nn.init.xavier_uniform_(self.fc.weight, 1.0)
        nn.init.zeros_(self.fc.bias)
        self.blocks = nn.Sequential(*(ResBlockUp(channels, channels) for _ in range(blocks)))
        self.bn = nn.BatchNorm2d(channels)
        self.out = _conv3(channels, image_channels, gain=1.0)

    def forward(self, z: Tensor) -> Tensor:  # z: [B, latent_dim]
        x = self.fc(z).view(z.shape[0], self.channels, self.s0, self.s0)  # [B, ch, s0, s0]
        x = self.blocks(x)  # [B, ch, size, size]
        x = self.out(F.relu(self.bn(x)))  # [B, C, size, size]
        return torch.tanh(x)


class ResNetTrunk(nn.Module):
    """``[B, C, size, size] -> [B, ch]``: residual blocks, ReLU, global sum pooling."""

    def __init__(self, image_channels: int, channels: int, downs: int):
        super().__init__()
        blocks: list[nn.Module] = [OptimizedBlock(image_channels, channels)]
        blocks += [ResBlockDown(channels, channels) for _ in range(downs)]
        blocks.append(ResBlockDown(channels, channels, downsample=False))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, images: Tensor) -> Tensor:  # images: [B, C, size, size]
        x = self.blocks(images)  # [B, ch, s0, s0]
        return F.relu(x).sum(dim=(2, 3))  # [B, ch]


def build(
    config: ResNetConfig, *, image_shape: tuple[int, int, int], latent_dim: int, num_classes: int = 0
) -> Backbone:
    if num_classes:
        raise ValueError("the resnet backbone does not condition on labels; use dcgan")
    size = check_shape("resnet", image_shape, latent_dim)
    image_channels, ch = int(image_shape[0]), config.channels
    s0, ups = {28: (7, 2), 32: (4, 3), 64: (4, 4)}[size]  # size = s0 · 2^ups
    generator = ResNetGenerator(latent_dim, ch, image_channels, s0, ups)
    # The optimized block halves once; ResBlockDown halves the rest of the way to s0.
    trunk = ResNetTrunk(image_channels, ch, downs=ups - 1)
    if config.spectral_norm:
        for module in list(trunk.modules()):
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                spectral_norm(module)
    return Backbone(
        generator=generator, trunk=trunk, feature_dim=ch, spectral_norm_head=config.spectral_norm
    )
