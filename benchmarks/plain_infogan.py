"""Hand-written plain-PyTorch InfoGAN training loop (MNIST architecture).

This is the reference side of the ganzoo speed benchmark: the same
architecture and algorithm as ganzoo's InfoGAN recipe, written directly
against ``torch`` with no ganzoo imports, so the two can be timed against each
other.

Architecture (Chen et al. 2016, InfoGAN, Table 1, MNIST):

* latent (72 + n_cont) = 62 noise ~ U(-1, 1) | 10-way one-hot categorical | n_cont codes ~ U(-1, 1) (the paper: 2)
* G: FC 1024-BN-ReLU -> FC 7*7*128-BN-ReLU -> reshape [128, 7, 7]
     -> ConvT(128, 64, 4, 2, 1)-BN-ReLU -> ConvT(64, 1, 4, 2, 1) -> tanh
* D trunk: Conv(1, 64, 4, 2, 1)-LReLU(0.1) -> Conv(64, 128, 4, 2, 1)-BN-LReLU(0.1)
     -> flatten -> FC 1024-BN-LReLU(0.1)
* D head: FC 1 (logit).  Q head: FC 128-BN-LReLU(0.1) -> FC 10 + n_cont
  (categorical logits, then the means of the continuous codes; std fixed to 1).

The layers match ganzoo's ``dcgan`` backbone at 28x28 exactly, so that the two
sides of the benchmark do the same arithmetic: every conv / linear layer that is
followed by batch norm has no bias (BN's shift replaces it); the first D conv,
the last G upconv and both heads keep theirs; activations are not in-place.
G and the D trunk use the DCGAN initialisation (conv/linear weights N(0, 0.02),
BN weights N(1, 0.02), biases 0; ganzoo's ``init_std`` default), the two heads
PyTorch's default initialisation.

One training step (same order as ganzoo's trainer):

1. sample noise and codes with a ``torch.Generator`` on the device;
2. ONE generator forward ``fake = G(z)``;
3. D phase: ``BCE(D(real), 1) + BCE(D(fake.detach()), 0) + MI(Q(fake.detach()))``,
   ``zero_grad(set_to_none=True)``, backward, step of the D optimiser (D trunk,
   D head and Q head -- as in the official InfoGAN the MI term also trains the
   trunk and the Q head);
4. G phase: with every D/Q parameter ``requires_grad=False``,
   ``BCE(D(fake), 1) + MI(Q(fake))``, backward, step of the G optimiser.

The trunk is run once per input batch (real, detached fake, fake) and feeds
both heads; real and fake batches go through the trunk separately, so batch
norm sees single-source batches.

MI term: ``lambda_cat * CE(cat_logits, c_cat) + lambda_cont * 0.5 *
mean_over_batch(sum_over_codes((mu - c_cont)**2))`` -- the fixed-std Gaussian
negative log-likelihood without its constant.

Optional real-data term (``real_data_weight > 0``; ganzoo's default recipe uses 1.0): in the
D phase, Q's categorical head also sees the real batch (from the trunk pass D's real logit
uses) and a randomly rotated/sheared/scaled/shifted copy of it (one more trunk pass), and
``weight * (ln 10 - I(c; c'))`` is added, where I is the mutual information of the
symmetrised joint distribution of the two copies' categories (IIC).

Optional invariance term (``invariance_weight > 0``): the categorical code's cross-entropy is
also taken on an affine copy of the generated batch (one more trunk pass in each phase), in
the D phase on the detached fakes (before the real-data copies are drawn, as ganzoo does),
in the G phase on the fakes themselves, so G learns through the transform.

Run as a script for a quick measurement, e.g.::

    python benchmarks/plain_infogan.py --steps 60 --batch-size 64 --data-root /work/shared/data
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NOISE_DIM = 62
N_CAT = 10
N_CONT = 2
LATENT_DIM = NOISE_DIM + N_CAT + N_CONT  # 74
LAMBDA_CAT = 1.0
LAMBDA_CONT = 1.0  # the official code (and ganzoo's infogan_dcgan recipe): lambda 1 for every code
LR_D = 2e-4
LR_G = 1e-3
BETAS = (0.5, 0.999)
LRELU = 0.1
INIT_STD = 0.02  # ganzoo's dcgan ``init_std`` default; 0 keeps PyTorch's default init


# --------------------------------------------------------------------------- models


class Generator(nn.Module):
    def __init__(self, latent_dim: int = LATENT_DIM) -> None:
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.ReLU(),
            nn.Linear(1024, 7 * 7 * 128, bias=False),
            nn.BatchNorm1d(7 * 7 * 128),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], 128, 7, 7)
        return self.deconv(h)


class DiscriminatorTrunk(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(LRELU),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(LRELU),
        )
        self.fc = nn.Sequential(
            nn.Linear(128 * 7 * 7, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(LRELU),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


class QHead(nn.Module):
    def __init__(self, n_cont: int = N_CONT) -> None:
        super().__init__()
        self.n_cont = n_cont
        self.net = nn.Sequential(
            nn.Linear(1024, 128),
            nn.BatchNorm1d(128),
            nn.LeakyReLU(LRELU),
            nn.Linear(128, N_CAT + n_cont),
        )

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(h)
        return out[:, :N_CAT], out[:, N_CAT:]


def dcgan_init_(module: nn.Module, std: float = INIT_STD) -> None:
    """DCGAN init in place: conv/linear weights N(0, std), BN weights N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def build_plain_models(
    device: torch.device | str, init_std: float = INIT_STD, n_cont: int = N_CONT
) -> dict[str, nn.Module]:
    """Fresh InfoGAN MNIST modules on ``device``, all in train mode, with ``n_cont``
    continuous codes (the paper: 2).

    Keys: ``"G"`` (generator), ``"D"`` (shared discriminator trunk),
    ``"d_head"`` (real/fake logit) and ``"q_head"`` (code posterior).
    G and the trunk get the DCGAN initialisation with ``init_std`` (0: PyTorch's
    default initialisation); the heads keep PyTorch's default.
    """
    models: dict[str, nn.Module] = {
        "G": Generator(NOISE_DIM + N_CAT + n_cont),
        "D": DiscriminatorTrunk(),
        "d_head": nn.Linear(1024, 1),
        "q_head": QHead(n_cont),
    }
    if init_std > 0:
        dcgan_init_(models["G"], init_std)
        dcgan_init_(models["D"], init_std)
    for m in models.values():
        m.to(device).train()
    return models


def discriminator_parameters(models: dict[str, nn.Module]) -> list[nn.Parameter]:
    """Parameters trained by the D optimiser: trunk, D head and Q head."""
    return [p for k in ("D", "d_head", "q_head") for p in models[k].parameters()]


def build_plain_optimizers(
    models: dict[str, nn.Module],
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """``(opt_d, opt_g)``: Adam 2e-4 on D+heads, Adam 1e-3 on G, betas (0.5, 0.999)."""
    opt_d = torch.optim.Adam(discriminator_parameters(models), lr=LR_D, betas=BETAS)
    opt_g = torch.optim.Adam(models["G"].parameters(), lr=LR_G, betas=BETAS)
    return opt_d, opt_g


# --------------------------------------------------------------------------- step


def sample_latent(
    batch_size: int, generator: torch.Generator, device: torch.device | str, n_cont: int = N_CONT
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(z [B, 72 + n_cont], c_cat [B] int64, c_cont [B, n_cont])`` sampled on ``device``."""
    noise = torch.rand(batch_size, NOISE_DIM, generator=generator, device=device).mul_(2).sub_(1)
    c_cat = torch.randint(0, N_CAT, (batch_size,), generator=generator, device=device)
    c_cont = torch.rand(batch_size, n_cont, generator=generator, device=device).mul_(2).sub_(1)
    z = torch.cat([noise, F.one_hot(c_cat, N_CAT).to(noise.dtype), c_cont], dim=1)
    return z, c_cat, c_cont


def mutual_info_loss(
    cat_logits: torch.Tensor,
    cont_mean: torch.Tensor,
    c_cat: torch.Tensor,
    c_cont: torch.Tensor,
) -> torch.Tensor:
    """InfoGAN MI lower-bound loss (categorical CE + fixed-std Gaussian NLL)."""
    ce = F.cross_entropy(cat_logits, c_cat)
    gauss = 0.5 * (cont_mean - c_cont).pow(2).sum(dim=1).mean()
    return LAMBDA_CAT * ce + LAMBDA_CONT * gauss


def affine_copies(real: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Each image rotated (±15°), sheared (±0.3), scaled per axis (×1.2^±1) and shifted
    (±10 %), every range times ``strength``; background -1, with the global torch RNG."""
    b, dev = real.shape[0], real.device

    def u(r: float) -> torch.Tensor:
        return (torch.rand(b, device=dev) * 2 - 1) * (r * strength)

    rot, shear = u(math.radians(15.0)), u(0.3)
    sx, sy = u(math.log(1.2)).exp(), u(math.log(1.2)).exp()
    tx, ty = u(0.2), u(0.2)
    row0 = torch.stack([rot.cos() * sx, (rot.cos() * shear - rot.sin()) * sy, tx], 1)
    row1 = torch.stack([rot.sin() * sx, (rot.sin() * shear + rot.cos()) * sy, ty], 1)
    grid = F.affine_grid(torch.stack([row0, row1], 1), list(real.shape), align_corners=False)
    return F.grid_sample(real + 1, grid, align_corners=False) - 1


def paired_information(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """I(c; c') in nats of the symmetrised joint of two [B, K] categorical posteriors."""
    joint = F.softmax(logits_a, 1).T @ F.softmax(logits_b, 1) / logits_a.shape[0]
    joint = ((joint + joint.T) / 2).clamp_min(1e-12)
    pa, pb = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    return (joint * (joint.log() - pa.log() - pb.log())).sum()


def invariant_loss(
    models: dict[str, nn.Module], fake: torch.Tensor, c_cat: torch.Tensor, strength: float
) -> torch.Tensor:
    """Cross-entropy of the categorical code on an affine copy of ``fake``."""
    h = models["D"](affine_copies(fake, strength))
    models["d_head"](h)  # ganzoo's discriminator call computes the (unused) logit too
    return F.cross_entropy(models["q_head"](h)[0], c_cat)


def plain_train_step(
    models: dict[str, nn.Module],
    opt_d: torch.optim.Optimizer,
    opt_g: torch.optim.Optimizer,
    real: torch.Tensor,
    latent_gen: torch.Generator,
    real_data_weight: float = 0.0,
    augmentation_strength: float = 1.0,
    invariance_weight: float = 0.0,
) -> dict[str, torch.Tensor]:
    """One InfoGAN step on the float batch ``real`` ([B, 1, 28, 28] in [-1, 1]).

    Returns detached scalar loss tensors (no host synchronisation):
    ``d_loss`` (total D-phase loss), ``g_loss`` (total G-phase loss),
    ``d_gan``, ``g_gan``, ``d_mi`` and ``g_mi``.
    """
    G, D, d_head, q_head = models["G"], models["D"], models["d_head"], models["q_head"]
    b = real.shape[0]
    z, c_cat, c_cont = sample_latent(b, latent_gen, real.device, q_head.n_cont)

    fake = G(z)  # the only generator forward of the step

    # ---- D phase (trunk + D head + Q head, optimiser opt_d)
    h_real = D(real)
    logit_real = d_head(h_real)
    h_fake = D(fake.detach())
    logit_fake = d_head(h_fake)
    cat_logits, cont_mean = q_head(h_fake)
    d_gan = F.binary_cross_entropy_with_logits(
        logit_real, torch.ones_like(logit_real)
    ) + F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))
    d_mi = mutual_info_loss(cat_logits, cont_mean, c_cat, c_cont)
    d_loss = d_gan + d_mi
    if invariance_weight > 0:
        d_loss = d_loss + invariance_weight * invariant_loss(
            models, fake.detach(), c_cat, augmentation_strength
        )
    if real_data_weight > 0:
        h_aug = D(affine_copies(real, augmentation_strength))
        d_head(h_aug)  # ganzoo's discriminator call computes the (unused) logit too
        info = paired_information(q_head(h_real)[0], q_head(h_aug)[0])
        d_loss = d_loss + real_data_weight * (math.log(N_CAT) - info)
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()

    # ---- G phase (optimiser opt_g; D/Q frozen)
    d_params = discriminator_parameters(models)
    for p in d_params:
        p.requires_grad_(False)
    try:
        h = D(fake)
        logit = d_head(h)
        cat_logits, cont_mean = q_head(h)
        g_gan = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
        g_mi = mutual_info_loss(cat_logits, cont_mean, c_cat, c_cont)
        g_loss = g_gan + g_mi
        if invariance_weight > 0:
            g_loss = g_loss + invariance_weight * invariant_loss(
                models, fake, c_cat, augmentation_strength
            )
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    finally:
        for p in d_params:
            p.requires_grad_(True)

    return {
        "d_loss": d_loss.detach(),
        "g_loss": g_loss.detach(),
        "d_gan": d_gan.detach(),
        "g_gan": g_gan.detach(),
        "d_mi": d_mi.detach(),
        "g_mi": g_mi.detach(),
    }


class GeneratorAverage:
    """An exponential moving average of G's parameters and buffers, written out by hand.

    The first update copies G; after n updates (the copy included) the next moves each
    floating-point tensor ``1 - d`` of the way to G with ``d = min(decay, (1 + n) / (10 + n))``
    (a warmed-up decay); integer buffers take G's value.
    """

    def __init__(self, generator: nn.Module, decay: float) -> None:
        self.decay = decay
        self.tensors = [t.detach().clone() for t in (*generator.parameters(), *generator.buffers())]
        self.updates = 0

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        current = [*generator.parameters(), *generator.buffers()]
        if self.updates == 0:
            for a, c in zip(self.tensors, current, strict=True):
                a.copy_(c)
        else:
            d = min(self.decay, (1 + self.updates) / (10 + self.updates))
            for a, c in zip(self.tensors, current, strict=True):
                if a.is_floating_point():
                    a.lerp_(c, 1 - d)
                else:
                    a.copy_(c)
        self.updates += 1


# --------------------------------------------------------------------------- data


class DeviceBatcher:
    """Random batches from a uint8 image tensor that already lives on the device.

    A fresh permutation (from its own ``torch.Generator``) is drawn per epoch;
    the last incomplete batch of an epoch is dropped.  Batches come back as
    float32 in [-1, 1], converted on the device.
    """

    def __init__(self, images_u8: torch.Tensor, batch_size: int, seed: int = 0) -> None:
        if images_u8.dtype != torch.uint8:
            raise TypeError(f"expected uint8 images, got {images_u8.dtype}")
        if images_u8.shape[0] < batch_size:
            raise ValueError(f"need at least {batch_size} images, got {images_u8.shape[0]}")
        self.images = images_u8
        self.batch_size = batch_size
        self.device = images_u8.device
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        self._perm: torch.Tensor | None = None
        self._pos = 0

    def next(self) -> torch.Tensor:
        n = self.images.shape[0]
        if self._perm is None or self._pos + self.batch_size > n:
            self._perm = torch.randperm(n, generator=self.gen, device=self.device)
            self._pos = 0
        idx = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.images.index_select(0, idx).float().div_(127.5).sub_(1.0)


# --------------------------------------------------------------------------- runner


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_plain(
    images_u8: torch.Tensor,
    steps: int,
    batch_size: int,
    device: torch.device,
    warmup: int = 5,
    seed: int = 0,
) -> dict:
    """Train the plain InfoGAN for ``warmup`` untimed + ``steps`` timed steps.

    ``images_u8`` is a uint8 tensor [N, 1, 28, 28]; it is moved to ``device``
    (a no-op when it is already there, which is the intended use).  Every timed
    step covers batch fetch + the full training step, with CUDA synchronised
    before and after.

    Returns a dict with ``images_per_s`` (timed images / total timed seconds),
    ``images_per_s_median`` (batch / median step time), ``step_times`` (list of
    seconds), ``final_losses`` (floats from the last step), and the run settings.
    """
    device = torch.device(device)
    if steps < 1:
        raise ValueError("steps must be >= 1")
    torch.manual_seed(seed)  # module initialisation
    images_u8 = images_u8.to(device)
    models = build_plain_models(device)
    opt_d, opt_g = build_plain_optimizers(models)
    batcher = DeviceBatcher(images_u8, batch_size, seed=seed)
    latent_gen = torch.Generator(device=device).manual_seed(seed + 1)

    losses: dict[str, torch.Tensor] = {}
    for _ in range(warmup):
        losses = plain_train_step(models, opt_d, opt_g, batcher.next(), latent_gen)
    _sync(device)

    step_times: list[float] = []
    for _ in range(steps):
        _sync(device)
        t0 = time.perf_counter()
        losses = plain_train_step(models, opt_d, opt_g, batcher.next(), latent_gen)
        _sync(device)
        step_times.append(time.perf_counter() - t0)

    total = sum(step_times)
    median = float(np.median(step_times))
    return {
        "images_per_s": steps * batch_size / total,
        "images_per_s_median": batch_size / median,
        "step_times": step_times,
        "final_losses": {k: float(v) for k, v in losses.items()},
        "steps": steps,
        "warmup": warmup,
        "batch_size": batch_size,
        "device": str(device),
        "seed": seed,
    }


# --------------------------------------------------------------------------- MNIST


def _read_idx_images(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    magic, n, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in range(0, 16, 4))
    if magic != 2051:
        raise ValueError(f"{path}: not an idx3 image file (magic {magic})")
    data = np.frombuffer(raw, dtype=np.uint8, count=n * rows * cols, offset=16)
    return data.reshape(n, 1, rows, cols)


def load_mnist_train_u8(data_root: str | os.PathLike) -> torch.Tensor | None:
    """MNIST training images as uint8 [60000, 1, 28, 28] from ``DATA_ROOT/MNIST/raw``.

    Reads the torchvision raw idx file (plain or ``.gz``) with numpy; returns
    ``None`` when it is not there.
    """
    raw = Path(data_root) / "MNIST" / "raw"
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"):
        if (raw / name).is_file():
            return torch.from_numpy(_read_idx_images(raw / name).copy())
    return None


def _random_images(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--data-root", default="data", help="folder holding MNIST/raw")
    parser.add_argument("--random-images", type=int, default=10_000,
                        help="number of random images when MNIST is missing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--no-flops", action="store_true",
                        help="skip FLOP counting and the matmul-peak measurement")
    args = parser.parse_args(argv)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    images = load_mnist_train_u8(args.data_root)
    source = f"MNIST train ({args.data_root}/MNIST/raw)"
    if images is None:
        images = _random_images(args.random_images, args.seed)
        source = f"random uint8 ({args.random_images} images; no MNIST under {args.data_root})"
    images = images.to(device)

    res = run_plain(images, args.steps, args.batch_size, device, args.warmup, args.seed)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import hardware  # noqa: E402  (sibling helper module, not ganzoo)

    st = hardware.summarize(res["step_times"])
    print(f"device        : {hardware.device_description(device)}")
    print(f"data          : {source}, {tuple(images.shape)}")
    print(f"steps         : {args.steps} timed (+{args.warmup} warm-up), batch {args.batch_size}")
    print(f"images/s      : {res['images_per_s']:.1f} (mean)  {res['images_per_s_median']:.1f} (median step)")
    print(f"step time ms  : median {st['median'] * 1e3:.2f}  p10 {st['p10'] * 1e3:.2f}  "
          f"p90 {st['p90'] * 1e3:.2f}  iqr {st['iqr'] * 1e3:.2f}  mean {st['mean'] * 1e3:.2f}")
    print("final losses  : " + "  ".join(f"{k}={v:.4f}" for k, v in res["final_losses"].items()))

    if not args.no_flops:
        models = build_plain_models(device)
        opt_d, opt_g = build_plain_optimizers(models)
        batcher = DeviceBatcher(images, args.batch_size, seed=args.seed)
        gen = torch.Generator(device=device).manual_seed(args.seed + 1)
        real = batcher.next()
        flops = hardware.count_step_flops(
            lambda: plain_train_step(models, opt_d, opt_g, real, gen)
        )
        peak = hardware.measure_matmul_peak(device)
        achieved = flops / st["median"]
        res.update(flops_per_step=flops, matmul_peak=peak, achieved_flops=achieved,
                   fraction_of_peak=achieved / peak)
        print(f"FLOPs/step    : {flops:,} ({flops / 1e9:.3f} GFLOP, matmul+conv fwd+bwd)")
        print(f"matmul peak   : {peak / 1e9:.1f} GFLOP/s (fp32 dense)")
        print(f"achieved      : {achieved / 1e9:.2f} GFLOP/s at the median step "
              f"= {100 * achieved / peak:.1f}% of peak")
    return res


if __name__ == "__main__":
    main()
