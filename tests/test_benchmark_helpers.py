"""Quick checks of the benchmark helpers in benchmarks/ (not a package).

The modules are loaded from their file paths so that ``benchmarks/`` needs no
``__init__.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import load_benchmark

_load = load_benchmark


hardware = _load("hardware")
plain = _load("plain_infogan")


# ----------------------------------------------------------------- plain InfoGAN


def test_plain_step_runs_and_updates_every_module():
    torch.manual_seed(0)
    device = torch.device("cpu")
    models = plain.build_plain_models(device)
    opt_d, opt_g = plain.build_plain_optimizers(models)
    before = {
        name: [p.detach().clone() for p in m.parameters()] for name, m in models.items()
    }
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    batcher = plain.DeviceBatcher(images, batch_size=8, seed=0)
    gen = torch.Generator(device=device).manual_seed(1)

    for _ in range(3):
        losses = plain.plain_train_step(models, opt_d, opt_g, batcher.next(), gen)

    assert set(losses) == {"d_loss", "g_loss", "d_gan", "g_gan", "d_mi", "g_mi"}
    for k, v in losses.items():
        assert v.dim() == 0 and math.isfinite(float(v)), k
    for name, m in models.items():
        changed = [not torch.equal(a, b.detach()) for a, b in zip(before[name], m.parameters(), strict=True)]
        assert all(changed), f"{name}: some parameters did not change"
        # the G phase must hand D/Q parameters back trainable
        assert all(p.requires_grad for p in m.parameters()), name


def test_generator_output_and_latent_layout():
    models = plain.build_plain_models("cpu")
    gen = torch.Generator().manual_seed(0)
    z, c_cat, c_cont = plain.sample_latent(8, gen, "cpu")
    assert z.shape == (8, 74)
    assert torch.equal(z[:, 62:72].argmax(1), c_cat)
    assert torch.equal(z[:, 72:], c_cont)
    assert z[:, :62].abs().max() <= 1 and c_cont.abs().max() <= 1
    x = models["G"](z)
    assert x.shape == (8, 1, 28, 28)
    assert x.abs().max() <= 1
    cat_logits, cont_mean = models["q_head"](models["D"](x))
    assert cat_logits.shape == (8, 10) and cont_mean.shape == (8, 2)


def test_device_batcher_range_and_epochs():
    images = torch.arange(10, dtype=torch.uint8).mul(25).view(10, 1, 1, 1).expand(10, 1, 28, 28)
    batcher = plain.DeviceBatcher(images.contiguous(), batch_size=4, seed=0)
    seen = []
    for _ in range(2):  # one epoch = 2 full batches (last 2 images dropped)
        b = batcher.next()
        assert b.dtype == torch.float32 and b.shape == (4, 1, 28, 28)
        assert b.min() >= -1 and b.max() <= 1
        seen.extend(b[:, 0, 0, 0].tolist())
    assert len(set(seen)) == 8  # no repeats within an epoch
    batcher.next()  # starts a new epoch without error


def test_plain_step_flops_match_analytic_count():
    """Every matmul/conv of the step, fwd + the backward kernels that run."""
    B = 8
    models = plain.build_plain_models("cpu")
    opt_d, opt_g = plain.build_plain_optimizers(models)
    real = torch.rand(B, 1, 28, 28) * 2 - 1
    gen = torch.Generator().manual_seed(0)
    flops = hardware.count_step_flops(
        lambda: plain.plain_train_step(models, opt_d, opt_g, real, gen)
    )

    def lin(i, o):
        return 2 * B * i * o

    def conv(cin, cout, small_hw):  # 4x4 stride-2 (transposed) conv, per small-side pixel
        return 2 * B * cin * cout * 16 * small_hw

    g_fwd = lin(74, 1024) + lin(1024, 7 * 7 * 128) + conv(128, 64, 49) + conv(64, 1, 196)
    g_igrad = g_fwd - lin(74, 1024)  # no grad w.r.t. the latent
    t_fwd = conv(1, 64, 196) + conv(64, 128, 49) + lin(128 * 7 * 7, 1024)
    t_igrad_no_image = t_fwd - conv(1, 64, 196)
    dh = lin(1024, 1)
    qh = lin(1024, 128) + lin(128, 12)
    # D phase: trunk on real and on detached fake; weight grads everywhere,
    # input grads inside the trunk and heads but not into the images.
    d_phase = 2 * t_fwd + 2 * dh + qh + 2 * (t_fwd + t_igrad_no_image) + 2 * (2 * dh) + 2 * qh
    # G phase: D/Q frozen -> input grads only (down to the image), then G.
    g_phase = t_fwd + dh + qh + (dh + qh) + t_fwd + (g_fwd + g_igrad)
    assert flops == g_fwd + d_phase + g_phase


def test_run_plain_reports():
    images = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8)
    res = plain.run_plain(images, steps=2, batch_size=8, device=torch.device("cpu"), warmup=1)
    assert len(res["step_times"]) == 2 and all(t > 0 for t in res["step_times"])
    assert res["images_per_s"] > 0 and math.isfinite(res["images_per_s"])
    assert all(math.isfinite(v) for v in res["final_losses"].values())


def test_mnist_idx_reader(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    pix = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8)
    header = b"".join(int(v).to_bytes(4, "big") for v in (2051, 3, 28, 28))
    (raw / "train-images-idx3-ubyte").write_bytes(header + pix.tobytes())
    out = plain.load_mnist_train_u8(tmp_path)
    assert out.dtype == torch.uint8 and out.shape == (3, 1, 28, 28)
    assert torch.equal(out.flatten(), torch.from_numpy(pix))
    assert plain.load_mnist_train_u8(tmp_path / "missing") is None


# ----------------------------------------------------------------- hardware


@pytest.mark.parametrize("input_grad", [False, True])
def test_count_step_flops_linear(input_grad):
    B, n_in, n_out = 16, 32, 8
    layer = torch.nn.Linear(n_in, n_out)
    x = torch.randn(B, n_in, requires_grad=input_grad)

    def step():
        layer(x).sum().backward()

    flops = hardware.count_step_flops(step)
    mm = 2 * B * n_in * n_out
    # forward: one addmm (bias add not counted).  backward: grad_W = grad_out^T @ x
    # always; grad_x = grad_out @ W only when x requires grad.  The bias grad is
    # a reduction and the .sum() is elementwise: neither is counted.
    assert flops == (3 * mm if input_grad else 2 * mm)


def test_count_step_flops_forward_only():
    a, b = torch.randn(4, 6), torch.randn(6, 5)
    assert hardware.count_step_flops(lambda: a @ b) == 2 * 4 * 6 * 5


def test_count_step_flops_double_backward_as_a_gradient_penalty_runs():
    # autograd.grad(create_graph=True) then backward through it: torch's FlopCounterMode
    # raises here (its module tracking hooks autograd); the count must go through and exceed
    # the plain step's, since the penalty's graph is differentiated again.
    layer = torch.nn.Linear(32, 8)
    x = torch.randn(16, 32)

    def plain():
        layer(x).sum().backward()

    def penalised():
        inputs = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(layer(inputs).sum(), inputs, create_graph=True)
        (layer(x).sum() + grad.pow(2).sum()).backward()

    assert hardware.count_step_flops(penalised) > hardware.count_step_flops(plain) > 0


def test_measure_matmul_peak_tiny():
    peak = hardware.measure_matmul_peak("cpu", size=32, seconds=0.05)
    assert math.isfinite(peak) and peak > 0


def test_timed_and_summarize():
    calls = []
    times = hardware.timed(lambda: calls.append(1), repeats=4, warmup=2, device="cpu")
    assert len(times) == 4 and len(calls) == 6 and all(t >= 0 for t in times)

    s = hardware.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s["median"] == 3.0 and s["mean"] == 3.0
    assert s["iqr"] == pytest.approx(2.0)  # 4 - 2
    assert s["p10"] == pytest.approx(1.4) and s["p90"] == pytest.approx(4.6)
    assert hardware.summarize([1.0, 2.0, 3.0, 4.0])["median"] == 2.5
    with pytest.raises(ValueError):
        hardware.summarize([])


def test_plain_generator_average_matches_ganzoos_ema():
    """The plain loop's hand-written EMA of G and ganzoo's (AveragedModel with the warm-up)
    hold the same weights and batch-norm statistics after the same sequence of updates, so
    the throughput benchmark compares the same algorithm when the recipe keeps an EMA."""
    from ganzoo.system import generator_average

    torch.manual_seed(0)
    generator = plain.build_plain_models(torch.device("cpu"))["G"]
    ours = generator_average(generator, 0.99)
    theirs = plain.GeneratorAverage(generator, 0.99)
    for _ in range(30):  # inside the warm-up: (1 + n) / (10 + n) < 0.99 until n = 890
        with torch.no_grad():
            for p in generator.parameters():
                p.add_(torch.randn_like(p))
        generator(torch.rand(4, plain.NOISE_DIM + plain.N_CAT + plain.N_CONT))  # BN statistics move
        ours.update_parameters(generator)
        theirs.update(generator)
    averaged = [*ours.module.parameters(), *ours.module.buffers()]
    assert len(averaged) == len(theirs.tensors)
    for a, b in zip(averaged, theirs.tensors, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)  # d in float32 there, float64 here
    # and the average is not simply G
    assert not torch.allclose(next(ours.module.parameters()), next(generator.parameters()))
