"""The throughput benchmark (benchmarks/throughput.py) runs end to end on the smoke recipe.

The plain-PyTorch side implements the MNIST architecture only, so it is skipped here
(``--no-plain``); its equivalence check is exercised by the real benchmark run.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from conftest import SMOKE_RECIPE, load_benchmark

_load = load_benchmark


@pytest.fixture
def one_thread():
    # One intra-op thread keeps the test fast and steady on a busy shared CPU (several
    # threads per process spin-wait badly there); restore the setting for other tests.
    before = torch.get_num_threads()
    yield 1
    torch.set_num_threads(before)


def test_throughput_benchmark_smoke(tmp_path, one_thread, capsys):
    throughput = _load("throughput")
    out = tmp_path / "bench.json"
    report = throughput.main([
        str(SMOKE_RECIPE),
        "--steps", "2", "--warmup", "1", "--repeats", "1",
        "--variants", "fp32", "--no-plain", "--device", "cpu",
        "--threads", str(one_thread),
        "--peak-seconds", "0.05", "--peak-size", "256",
        "--json", str(out),
    ])
    printed = capsys.readouterr().out
    summary = [line for line in printed.splitlines() if line.startswith("SUMMARY ")]
    assert len(summary) == 1 and printed.rstrip().endswith(summary[0])
    assert "recipe=infogan_synthetic" in summary[0] and "device=cpu" in summary[0]

    data = json.loads(out.read_text())
    assert data["summary"] == summary[0] == report["summary"]
    assert data["threads"] == one_thread
    assert data["torch_version"] == torch.__version__ and data["date"] and data["device_name"]
    assert data["order"] == ["fp32"] and data["ganzoo_over_plain"] is None

    base = data["results"]["fp32"]
    img_s = base["images_per_s"]["median"]
    assert math.isfinite(img_s) and img_s > 0
    assert len(base["images_per_s_rounds"]) == 1
    assert base["flops_per_step"] > 0 and base["achieved_flops"] > 0
    assert data["matmul_peak_flops"]["fp32"] > 0 and base["peak_fraction"] > 0
    # the step's batch draws went through the timer (the StepContext draws from it)
    assert base["data_seconds"] > 0 and 0.0 < base["data_fraction"] < 1.0
    assert data["images_per_step"] == data["batch_size"] == 16
    assert base["precision"] == "fp32" and not base["channels_last"] and not base["compile"]


def test_ganzoo_side_times_the_steps_batch_draws(tmp_path):
    """The timer replaces the batch stream the step draws from, and images/s counts the real
    images the trainer counts: every D update of train.step.discriminator_steps draws one."""
    throughput = _load("throughput")
    overrides = [*throughput.BASELINE_OVERRIDES, "train.step.discriminator_steps=3"]
    trainer = throughput.build_trainer(str(SMOKE_RECIPE), overrides, torch.device("cpu"), tmp_path, None)
    side = throughput.GanzooSide("fp32", trainer, overrides)
    assert trainer.context._batches is side.batch_timer is trainer.batches
    assert side.images_per_step == trainer.images_per_step == 3 * 16
    block = throughput.time_block(side, 2, torch.get_num_threads())
    assert side.batch_timer.calls == 2 * 3 and 0 < block["data_seconds"] < block["seconds"]
    assert side.next_step == 3 and trainer.step == 2
    side.blocks.append(block)
    stats = throughput.side_stats(side)
    assert stats["images_per_s"]["median"] == pytest.approx(48 * 2 / block["seconds"])


def test_batch_timer_and_diagnostic_pass():
    """The synchronised data-wait pass (used on CUDA) also works on the CPU."""
    throughput = _load("throughput")

    class Source:
        def next(self):
            return torch.zeros(2, 1, 4, 4)

        def state_dict(self):
            return {"epoch": 0}

    class Stub(throughput.Side):
        def __init__(self):
            super().__init__("stub", torch.device("cpu"))
            self.batch_timer = throughput.TimedBatches(Source(), self.device)

        def step(self):
            self.batch_timer.next()
            torch.ones(64, 64) @ torch.ones(64, 64)

    side = Stub()
    assert side.batch_timer.state_dict() == {"epoch": 0}  # forwarded to the wrapped stream
    diag = throughput.diagnostic_data_pass(side, steps=3)
    assert side.batch_timer.calls == 3 and not side.batch_timer.sync
    assert 0.0 <= diag["data_fraction"] <= 1.0 and diag["seconds"] > 0
    block = throughput.time_block(side, 2, torch.get_num_threads())
    assert block["steps"] == 2 and 0 <= block["data_seconds"] <= block["seconds"]


MNIST_ARCH = [
    "model.backbone.base_channels=64", "model.backbone.hidden=1024",
    "model.latent.noise.dim=62", "model.latent.digit.categories=10",
    "model.latent.digit.weight=1.0", "model.latent.style.weight=1.0",
    "train.step.q_head.hidden=128", "data.batch_size=8",
]


def test_same_computation_check(tmp_path):
    """The plain loop matches ganzoo's dcgan at the paper's sizes, and a mismatch is refused."""
    throughput = _load("throughput")
    plain = _load("plain_infogan")
    overrides = [*MNIST_ARCH, *throughput.BASELINE_OVERRIDES]
    trainer = throughput.build_trainer(str(SMOKE_RECIPE), overrides, torch.device("cpu"), tmp_path, None)
    assert throughput.plain_loop_problems(trainer.recipe, trainer.data.shape) == []
    side = throughput.PlainSide(trainer.batches.images, 8, torch.device("cpu"), 0, 0.02)

    out = throughput.check_same_computation(trainer, side, 1000, 1005)
    assert side.real_data_weight == 0.0
    assert out["parameters"]["G"]["ganzoo"] == out["parameters"]["G"]["plain"] > 0
    assert out["parameters"]["Q head"]["ganzoo"] == out["parameters"]["Q head"]["plain"] > 0
    with pytest.raises(throughput.NotSameComputation, match="FLOPs"):
        throughput.check_same_computation(trainer, side, 1000, 1020)
    bigger = throughput.PlainSide(trainer.batches.images, 16, torch.device("cpu"), 0, 0.02)
    with pytest.raises(throughput.NotSameComputation, match="real images per step differ: 8 vs 16"):
        throughput.check_same_computation(trainer, bigger, 1000, 1000)

    # A bias before batch norm (the old plain loop) is caught by the parameter counts.
    fc = side.models["G"].fc
    fc[0] = torch.nn.Linear(plain.LATENT_DIM, 1024, bias=True)
    with pytest.raises(throughput.NotSameComputation, match="parameter counts differ: G"):
        throughput.check_same_computation(trainer, side, 1000, 1000)

    # Settings that parameters and FLOPs cannot see are refused up front.
    other = throughput.build_trainer(
        str(SMOKE_RECIPE), [*overrides, "loss.type=hinge", "train.step.q_head.optimizer=generator"],
        torch.device("cpu"), tmp_path / "other", trainer.data,
    )
    problems = throughput.plain_loop_problems(other.recipe, other.data.shape)
    assert any("loss.type" in p for p in problems) and any("q_head.optimizer" in p for p in problems)
    rim = throughput.build_trainer(
        str(SMOKE_RECIPE), [*overrides, 'train.terms.real_data_information.codes=["digit"]', "train.terms.real_data_information.augmentation=none"],
        torch.device("cpu"), tmp_path / "rim", trainer.data,
    )
    problems = throughput.plain_loop_problems(rim.recipe, rim.data.shape)
    # the plain loop has only IIC (the affine pairing), not RIM
    assert problems == ["train.terms.real_data_information.augmentation is 'none'; "
                        "the plain loop implements 'affine'"]


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        (["train.terms.gradient_penalty.weight=10"], "train.terms of other types"),
        (["train.terms.r1.weight=1"], "r1 (r1)"),
        (["train.terms.mutual_information.weight=2"], "train.terms.mutual_information.weight"),
        (["train.terms.mutual_information.weight=0"], "the number of mutual_information terms"),
        (["train.step.discriminator_steps=2"], "train.step.discriminator_steps"),
        (["train.step.q_head.trains_trunk=false"], "train.step.q_head.trains_trunk"),
        (["train.step.q_head.batch_norm=false"], "train.step.q_head.batch_norm"),
        (['train.terms.real_data_information.codes=["digit"]',
          'train.terms.invariant_information.codes=["digit"]',
          "train.terms.invariant_information.augmentation_strength=1.5"],
         "augmentation_strength of the real-data and invariance terms"),
    ],
)
def test_plain_loop_refuses_what_it_does_not_implement(extra, refused):
    """Step and term settings that parameter and FLOP counts may not reveal are refused."""
    throughput = _load("throughput")
    from ganzoo.session import open_recipe

    base = [*MNIST_ARCH, *throughput.BASELINE_OVERRIDES]
    assert throughput.plain_loop_problems(open_recipe(str(SMOKE_RECIPE), base).recipe, (1, 28, 28)) == []
    recipe = open_recipe(str(SMOKE_RECIPE), [*base, *extra]).recipe
    problems = throughput.plain_loop_problems(recipe, (1, 28, 28))
    assert len(problems) == 1 and refused in problems[0], problems


def test_plain_loop_options_come_from_the_recipes_terms():
    """The plain loop's term weights and augmentation strength are read from [train.terms]:
    a term with weight 0 is off; the strength is the terms' own."""
    throughput = _load("throughput")
    from ganzoo.session import open_recipe

    base = [*MNIST_ARCH, *throughput.BASELINE_OVERRIDES]
    recipe = open_recipe(str(SMOKE_RECIPE), base).recipe
    assert throughput.term_setting(recipe, "real_data_information") == (0.0, 1.0)
    both = [
        'train.terms.real_data_information.codes=["digit"]',
        "train.terms.real_data_information.weight=0.5",
        "train.terms.real_data_information.augmentation_strength=1.5",
        'train.terms.invariant_information.codes=["digit"]',
        "train.terms.invariant_information.weight=2",
        "train.terms.invariant_information.augmentation_strength=1.5",
    ]
    recipe = open_recipe(str(SMOKE_RECIPE), [*base, *both]).recipe
    assert throughput.plain_loop_problems(recipe, (1, 28, 28)) == []
    assert throughput.term_setting(recipe, "real_data_information") == (0.5, 1.5)
    assert throughput.term_setting(recipe, "invariant_information") == (2.0, 1.5)
    off = open_recipe(str(SMOKE_RECIPE), [*base, *both, "train.terms.invariant_information.weight=0"])
    assert throughput.term_setting(off.recipe, "invariant_information") == (0.0, 1.0)
    assert throughput.plain_loop_problems(off.recipe, (1, 28, 28)) == []


def test_plain_loop_real_data_term_matches_ganzoo(tmp_path):
    """The plain loop's IIC term is written independently; it must agree with ganzoo's."""
    throughput = _load("throughput")
    plain = _load("plain_infogan")
    from ganzoo_plugins.infogan.augmentation import random_affine
    from ganzoo_plugins.latent_codes.categorical import Categorical, CategoricalConfig

    images = torch.rand(6, 1, 28, 28) * 2 - 1
    for strength in (1.0, 1.7):
        torch.manual_seed(5)
        ours = random_affine(images, strength=strength)
        torch.manual_seed(5)
        theirs = plain.affine_copies(images, strength)
        assert torch.allclose(ours, theirs, atol=1e-5)

    a, b = torch.randn(32, 10), torch.randn(32, 10)
    code = Categorical(CategoricalConfig(categories=10))
    assert plain.paired_information(a, b).item() == pytest.approx(
        code.real_data_information(a, b).item(), abs=1e-6
    )

    iic = ['train.terms.real_data_information.codes=["digit"]']
    overrides = [*MNIST_ARCH, *throughput.BASELINE_OVERRIDES, *iic]
    trainer = throughput.build_trainer(str(SMOKE_RECIPE), overrides, torch.device("cpu"), tmp_path, None)
    assert throughput.plain_loop_problems(trainer.recipe, trainer.data.shape) == []
    side = throughput.PlainSide(trainer.batches.images, 8, torch.device("cpu"), 0, 0.02, 1.0)
    hardware = _load("hardware")
    ganzoo_flops = hardware.count_step_flops(lambda: trainer.train_step(1))
    plain_flops = hardware.count_step_flops(side.step)
    throughput.check_same_computation(trainer, side, ganzoo_flops, plain_flops)  # raises if not


def test_plain_loop_invariance_term_matches_ganzoo(tmp_path):
    """With the invariance term both sides make the same extra trunk passes (same FLOPs), and
    a stronger plain-side term is a different computation the loss values reveal."""
    throughput = _load("throughput")
    hardware = _load("hardware")
    both = ['train.terms.real_data_information.codes=["digit"]', 'train.terms.invariant_information.codes=["digit"]']
    overrides = [*MNIST_ARCH, *throughput.BASELINE_OVERRIDES, *both]
    trainer = throughput.build_trainer(str(SMOKE_RECIPE), overrides, torch.device("cpu"), tmp_path, None)
    assert throughput.plain_loop_problems(trainer.recipe, trainer.data.shape) == []
    side = throughput.PlainSide(trainer.batches.images, 8, torch.device("cpu"), 0, 0.02, 1.0, 1.0, 1.0)
    without = throughput.PlainSide(trainer.batches.images, 8, torch.device("cpu"), 0, 0.02, 1.0)
    ganzoo_flops = hardware.count_step_flops(lambda: trainer.train_step(1))
    plain_flops = hardware.count_step_flops(side.step)
    throughput.check_same_computation(trainer, side, ganzoo_flops, plain_flops)  # raises if not
    assert hardware.count_step_flops(without.step) < 0.95 * plain_flops  # the term costs passes

    style = throughput.build_trainer(
        str(SMOKE_RECIPE), [*overrides, 'train.terms.invariant_information.codes=["digit", "style"]'],
        torch.device("cpu"), tmp_path / "style", trainer.data,
    )
    problems = throughput.plain_loop_problems(style.recipe, style.data.shape)
    assert any("train.terms.invariant_information.codes" in p for p in problems)


def test_health_check_reads_the_end_of_each_runs_real_data_information(tmp_path, capsys):
    from torch.utils.tensorboard import SummaryWriter

    health = _load("health_check")
    runs = []
    for seed, (early, late, accuracy) in {1: (2.0, 2.15, 0.98), 2: (2.2, 2.05, 0.90)}.items():
        with SummaryWriter(str(tmp_path / "default" / f"seed-{seed}")) as writer:
            for step in range(0, 1001, 50):
                writer.add_scalar(health.TAG, early if step <= 800 else late, step)
        runs.append({"variant": "default", "seed": seed, "accuracy": accuracy})
    runs.append({"variant": "default", "seed": 3, "error": "training failed"})  # skipped, not a crash
    (tmp_path / "results.json").write_text(json.dumps({"runs": runs}))
    assert health.main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["2.050", "2.150"]  # the last 200 steps only
    assert "seed-2" in lines[0] and "accuracy 0.900" in lines[0]
    assert health.main([str(tmp_path / "missing")]) == 2
    assert "results.json: not found" in capsys.readouterr().err


def test_plain_loop_follows_the_number_of_continuous_codes(tmp_path):
    """Three continuous codes instead of the paper's two: the plain loop widens G's input and
    Q's output the same way, so parameters and FLOPs still match."""
    throughput = _load("throughput")
    hardware = _load("hardware")
    overrides = [*MNIST_ARCH, *throughput.BASELINE_OVERRIDES, "model.latent.style.dim=3"]
    trainer = throughput.build_trainer(str(SMOKE_RECIPE), overrides, torch.device("cpu"), tmp_path, None)
    assert throughput.plain_loop_problems(trainer.recipe, trainer.data.shape) == []
    assert throughput.continuous_dims(trainer.recipe) == 3
    side = throughput.PlainSide(trainer.batches.images, 8, torch.device("cpu"), 0, 0.02, n_cont=3)
    assert side.models["q_head"].net[-1].out_features == 13
    two = throughput.PlainSide(trainer.batches.images, 8, torch.device("cpu"), 0, 0.02)
    with pytest.raises(throughput.NotSameComputation, match="parameter counts differ"):
        throughput.check_same_computation(trainer, two, 1000, 1000)
    ganzoo_flops = hardware.count_step_flops(lambda: trainer.train_step(1))
    throughput.check_same_computation(trainer, side, ganzoo_flops, hardware.count_step_flops(side.step))
