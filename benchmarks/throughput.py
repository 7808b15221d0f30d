"""Training throughput of a ganzoo recipe, against a plain-PyTorch loop of the same model.

Everything runs in ONE process, on one device, with one thread setting:

1. A ganzoo ``Trainer`` is built for the recipe (``--set`` overrides applied through
   ``ganzoo.session.open_recipe``; run directory in a temporary folder; nothing is written
   there) -- the *baseline*, forced to fp32, contiguous memory format and eager mode so it
   does exactly what the plain loop does -- plus one trainer per requested *variant*
   (``bf16``: ``train.precision=bf16``; ``channels_last``: ``train.channels_last=true``;
   ``compile``: ``train.compile=true``).  All trainers share one in-memory dataset.
2. The plain-PyTorch InfoGAN loop (``benchmarks/plain_infogan.py``) is built on the same
   device over the same uint8 image tensor.  Before anything is timed the two are checked to
   be the same computation: equal parameter counts for G, D trunk, D head and Q head, the
   same algorithm settings, and FLOPs per step (``torch.utils.flop_counter``) within 1%.
   Any difference stops the benchmark with an error.
3. After ``--warmup`` untimed steps per side, ``--repeats`` rounds are timed.  A round times
   ``--steps`` consecutive full training steps (``trainer.train_step``: D phase, G phase,
   both optimiser steps, the batch draw) of the baseline, then of the plain loop, then of
   each variant; the next round runs the same sides in reverse order (baseline and plain
   always adjacent), so slow drift of the machine hits every side alike and no side always
   goes first.  CUDA is synchronised at the start and end of each timed block only.
   Images/s (real images per step as the trainer counts them: the batch times
   ``train.step.discriminator_steps``) is reported as the median and p10/p90 over rounds;
   ganzoo/plain and variant/baseline as the median (and p10/p90) of per-round ratios.  All
   sides run in this process with the same ``torch.get_num_threads()`` (checked before every
   block).
4. Time spent waiting for data: ``trainer.batches.next()`` (the batch stream the step draws
   from through its ``StepContext``) is timed inside the timed steps.
   On the CPU that is exact.  On CUDA the kernels are asynchronous, so the share reported
   comes from a separate diagnostic pass that synchronises around every batch draw and
   every step (that pass is not used for any throughput figure).
5. FLOPs of one training step (matmuls and convolutions, forward and backward) and the
   device's dense matmul peak for the dtype used give achieved FLOP/s and the fraction of
   peak.

Usage::

    python benchmarks/throughput.py recipes/infogan_dcgan.toml --steps 20 --repeats 3 \\
        --json /tmp/bench.json

The last line printed is a one-line ``SUMMARY ...``; ``--json`` writes every number.

On a CPU that other processes are using, pass ``--threads 1``: with several intra-op
threads per process, an oversubscribed CPU makes step times swing by several times
(threads wait for each other at every parallel region), and no interleaving cancels that.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gc
import json
import math
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import hardware  # noqa: E402  (sibling helper module, not ganzoo)
import plain_infogan as plain  # noqa: E402

# What each variant changes with respect to the baseline.  The baseline pins the three
# keys so that a user's --set cannot turn it into something the plain loop is not.
BASELINE = "fp32"
BASELINE_OVERRIDES = ["train.precision=fp32", "train.channels_last=false", "train.compile=false"]
VARIANT_OVERRIDES: dict[str, list[str]] = {
    "fp32": [],
    "bf16": ["train.precision=bf16"],
    "channels_last": ["train.channels_last=true"],
    "compile": ["train.compile=true"],
    # torch.compile's CUDA graphs: one replay per network call instead of a launch per kernel
    "graphs": ["train.compile=true", "train.compile_mode=reduce-overhead"],
}
DEFAULT_VARIANTS = "fp32,bf16,channels_last,compile"
COMPILED = ("compile", "graphs")  # variants whose warm-up compiles (and whose FLOPs are fp32's)
FLOP_TOLERANCE = 0.01


class NotSameComputation(RuntimeError):
    """The ganzoo model / step and the plain loop do not do the same work."""


class _Timeout(Exception):
    pass


# --------------------------------------------------------------------------- timing pieces


class TimedBatches:
    """Stands in for ``trainer.batches``: times every ``next()`` and forwards everything else.

    With ``sync=True`` the device is synchronised before and after the draw, so on CUDA the
    time covers the batch's kernels (only for the diagnostic pass; it perturbs the timing).
    """

    def __init__(self, inner: Any, device: torch.device):
        self.inner = inner
        self.device = device
        self.sync = False
        self.seconds = 0.0
        self.calls = 0

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.sync:
            hardware.sync(self.device)
        t0 = time.perf_counter()
        batch = self.inner.next()
        if self.sync:
            hardware.sync(self.device)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return batch

    def __getattr__(self, name: str) -> Any:  # state_dict, images, batch_size, ...
        return getattr(self.inner, name)


class Side:
    """One thing being timed: a ganzoo trainer or the plain loop."""

    kind = "?"

    def __init__(self, name: str, device: torch.device, images_per_step: int = 0):
        self.name = name
        self.device = device
        self.images_per_step = images_per_step  # real images one step consumes
        self.batch_timer: TimedBatches | None = None
        self.blocks: list[dict[str, float]] = []  # one per timed round
        self.error: str | None = None
        self.flops: int | None = None
        self.warmup_s: float | None = None

    def step(self) -> None:
        raise NotImplementedError


class GanzooSide(Side):
    kind = "ganzoo"

    def __init__(self, name: str, trainer: Any, overrides: list[str]):
        # images/s as the trainer counts it: batch x discriminator_steps for adversarial steps
        super().__init__(name, trainer.device, trainer.images_per_step)
        self.trainer = trainer
        self.overrides = overrides
        # The step draws its batches through the StepContext, which holds the trainer's
        # batch stream: the timer must replace it there (and on the trainer, for the rest).
        if getattr(trainer.context, "_batches", None) is not trainer.batches:
            raise RuntimeError(
                "cannot time data waiting: trainer.context no longer holds trainer.batches "
                "as _batches (ganzoo.step.StepContext changed); update GanzooSide"
            )
        self.batch_timer = TimedBatches(trainer.batches, trainer.device)
        trainer.batches = self.batch_timer
        trainer.context._batches = self.batch_timer
        self.next_step = 1

    def step(self) -> None:
        step = self.next_step
        self.trainer.train_step(step)
        self.trainer.step = step
        self.next_step += 1


class PlainSide(Side):
    kind = "plain"

    def __init__(
        self, images_u8: torch.Tensor, batch_size: int, device: torch.device, seed: int,
        init_std: float, real_data_weight: float = 0.0, augmentation_strength: float = 1.0,
        invariance_weight: float = 0.0, n_cont: int = plain.N_CONT, ema_decay: float = 0.0,
    ):
        super().__init__("plain", device, batch_size)
        self.real_data_weight = real_data_weight
        self.augmentation_strength = augmentation_strength
        self.invariance_weight = invariance_weight
        torch.manual_seed(seed)
        self.models = plain.build_plain_models(device, init_std, n_cont)
        self.opt_d, self.opt_g = plain.build_plain_optimizers(self.models)
        self.batch_timer = TimedBatches(plain.DeviceBatcher(images_u8, batch_size, seed), device)
        self.latent_gen = torch.Generator(device=device).manual_seed(seed + 1)
        # the recipe's moving average of G (train.ema_decay), updated after every step
        self.average = plain.GeneratorAverage(self.models["G"], ema_decay) if ema_decay > 0 else None

    def step(self) -> None:
        plain.plain_train_step(
            self.models, self.opt_d, self.opt_g, self.batch_timer.next(), self.latent_gen,
            self.real_data_weight, self.augmentation_strength, self.invariance_weight,
        )
        if self.average is not None:
            self.average.update(self.models["G"])


def time_block(side: Side, steps: int, threads: int) -> dict[str, float]:
    """``steps`` consecutive steps of ``side``; device synchronised at both ends only."""
    if torch.get_num_threads() != threads:
        raise RuntimeError(
            f"torch.get_num_threads() changed from {threads} to {torch.get_num_threads()}"
        )
    assert side.batch_timer is not None
    gc.collect()
    side.batch_timer.reset()
    hardware.sync(side.device)
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(steps):
        side.step()
    hardware.sync(side.device)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "data_seconds": side.batch_timer.seconds,
        "steps": steps,
    }


def diagnostic_data_pass(side: Side, steps: int) -> dict[str, float]:
    """Synchronise around every step and every batch draw: exact data share on CUDA."""
    assert side.batch_timer is not None
    side.batch_timer.reset()
    side.batch_timer.sync = True
    step_seconds = 0.0
    try:
        for _ in range(steps):
            hardware.sync(side.device)
            t0 = time.perf_counter()
            side.step()
            hardware.sync(side.device)
            step_seconds += time.perf_counter() - t0
    finally:
        side.batch_timer.sync = False
    return {
        "seconds": step_seconds,
        "data_seconds": side.batch_timer.seconds,
        "data_fraction": side.batch_timer.seconds / step_seconds,
    }


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``_Timeout`` after ``seconds`` (main thread on POSIX only; else no limit)."""
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Timeout(f"gave up after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- statistics


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median and 10th / 90th percentiles (numpy's linear interpolation)."""
    arr = np.asarray(values, dtype=np.float64)
    p10, p50, p90 = np.percentile(arr, [10, 50, 90])
    return {"median": float(p50), "p10": float(p10), "p90": float(p90)}


def side_stats(side: Side) -> dict[str, Any]:
    img_s = [side.images_per_step * b["steps"] / b["seconds"] for b in side.blocks]
    step_ms = [1e3 * b["seconds"] / b["steps"] for b in side.blocks]
    # Process CPU time (all threads) per step: with one thread on a shared CPU it is far
    # less sensitive than wall time to being descheduled.  Not a GPU figure.
    cpu_ms = [1e3 * b["cpu_seconds"] / b["steps"] for b in side.blocks]
    total = sum(b["seconds"] for b in side.blocks)
    data = sum(b["data_seconds"] for b in side.blocks)
    return {
        "images_per_s": spread(img_s),
        "images_per_s_rounds": img_s,
        "step_ms": spread(step_ms),
        "cpu_ms_per_step": spread(cpu_ms),
        "data_seconds": data,
        "timed_seconds": total,
        "data_fraction": data / total if total > 0 else float("nan"),
    }


def ratio_stats(num: Side, den: Side) -> dict[str, Any]:
    """Per-round images/s ratios num/den (rounds are adjacent in time).

    ``cpu_time`` holds the same ratio computed from process CPU time instead of wall time.
    """
    pairs = list(zip(num.blocks, den.blocks, strict=True))
    scale = num.images_per_step / den.images_per_step  # 1 whenever the plain loop runs
    ratios = [scale * (a["steps"] / a["seconds"]) / (b["steps"] / b["seconds"]) for a, b in pairs]
    cpu = [scale * (a["steps"] / a["cpu_seconds"]) / (b["steps"] / b["cpu_seconds"])
           for a, b in pairs]
    return {**spread(ratios), "rounds": ratios, "cpu_time": {**spread(cpu), "rounds": cpu}}


# --------------------------------------------------------------------------- equivalence


def count_params(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def parameter_table(trainer: Any, plain_side: PlainSide) -> list[tuple[str, int, int]]:
    networks = trainer.system.networks
    d = networks["discriminator"]
    m = plain_side.models
    rows = [
        ("G", count_params(networks["generator"]), count_params(m["G"])),
        ("D trunk", count_params(d.trunk), count_params(m["D"])),
        ("D head", count_params(d.adversarial), count_params(m["d_head"])),
        ("Q head", count_params(networks.get("q_head")), count_params(m["q_head"])),
    ]
    rows.append(("D trunk+heads", sum(r[1] for r in rows[1:]), sum(r[2] for r in rows[1:])))
    return rows


def active_terms(recipe: Any) -> dict[str, Any]:
    """The recipe's loss terms that are on (weight 0 turns a term off)."""
    return {name: t for name, t in recipe.terms.items() if t.settings.weight != 0}


def term_setting(recipe: Any, term_type: str) -> tuple[float, float]:
    """(weight, augmentation strength) of the recipe's term of this type; (0, 1) if off."""
    for t in active_terms(recipe).values():
        if t.type == term_type:
            return t.settings.weight, t.config.augmentation_strength
    return 0.0, 1.0


def continuous_dims(recipe: Any) -> int:
    """Dimensions of the recipe's regularised uniform code (0 if it has none)."""
    return sum(c.config.dim for c in recipe.latent.values() if c.type == "uniform" and c.settings.regularized)


def plain_loop_problems(recipe: Any, image_shape: tuple[int, ...]) -> list[str]:
    """Recipe settings the hand-written plain loop does not implement (empty: all match).

    Parameter and FLOP counts cover the architecture; this covers what they cannot see
    (loss, who trains Q, code weights, phases per step).
    """
    problems = []

    def want(what: str, got: Any, expected: Any) -> None:
        if got != expected:
            problems.append(f"{what} is {got!r}; the plain loop implements {expected!r}")

    want("image shape", tuple(image_shape), (1, 28, 28))
    want("model.backbone.type", recipe.backbone.type, "dcgan")
    if recipe.backbone.type == "dcgan":
        cfg = recipe.backbone.config
        want("model.backbone.base_channels", cfg.base_channels, 64)
        want("model.backbone.hidden", cfg.hidden, 1024)
        want("model.backbone.leaky_slope", cfg.leaky_slope, plain.LRELU)
    codes = [
        (c.type, getattr(c.config, "dim", getattr(c.config, "categories", None)),
         c.settings.regularized, c.settings.weight if c.settings.regularized else None)
        for c in recipe.latent.values()
    ]
    n_cont = continuous_dims(recipe)  # any number of continuous codes in one uniform code
    want(
        "latent codes (type, size, regularized, weight)",
        codes,
        [("uniform", plain.NOISE_DIM, False, None), ("categorical", plain.N_CAT, True, plain.LAMBDA_CAT),
         ("uniform", n_cont or plain.N_CONT, True, plain.LAMBDA_CONT)],
    )
    for c in recipe.latent.values():
        if c.type == "uniform":
            want("uniform code range", (c.config.low, c.config.high), (-1.0, 1.0))
            if c.settings.regularized:
                want("uniform code posterior_std", c.config.posterior_std, "fixed")
    want("train.step.type", recipe.step.type, "infogan")
    # The loss terms that are on (weight 0 turns one off), by type.  The plain loop has the
    # MI term always (lambda per code, checked above, times the term's weight 1) and,
    # optionally, the real-data (IIC) and invariance terms on the categorical code.
    from ganzoo_plugins.infogan.configs import chosen_codes

    terms = active_terms(recipe)
    known = ("mutual_information", "real_data_information", "invariant_information")
    others = [f"{name} ({t.type})" for name, t in terms.items() if t.type not in known]
    want("train.terms of other types", others, [])
    for kind in known:
        count = sum(t.type == kind for t in terms.values())
        if kind == "mutual_information" or count > 1:
            want(f"the number of {kind} terms", count, 1)
    for name, t in terms.items():
        if t.type == "mutual_information":
            want(f"train.terms.{name}.weight", t.settings.weight, 1.0)
        if t.type in ("real_data_information", "invariant_information"):
            chosen = chosen_codes(t.config.codes, recipe.latent)
            types = sorted({recipe.latent[c].type for c in chosen if c in recipe.latent})
            want(f"train.terms.{name}.codes (their types)", types, ["categorical"])
        if t.type == "real_data_information":
            want(f"train.terms.{name}.augmentation", t.config.augmentation, "affine")
    # the plain loop draws both terms' affine copies with one strength
    strengths = sorted(
        {t.config.augmentation_strength for t in terms.values() if t.type in known[1:]}
    )
    want("augmentation_strength of the real-data and invariance terms", strengths, strengths[:1])
    if recipe.step.type == "infogan":
        q_head = recipe.step.config.q_head
        want("train.step.q_head.hidden", q_head.hidden, 128)
        want("train.step.q_head.batch_norm", q_head.batch_norm, True)
        want("train.step.q_head.optimizer", q_head.optimizer, "discriminator")
        want("train.step.q_head.trains_trunk", q_head.trains_trunk, True)
        want("train.step.discriminator_steps", recipe.step.config.discriminator_steps, 1)
    if recipe.train.ema_decay > 0:  # the plain loop averages G from its first step
        want("train.ema_start", recipe.train.ema_start, 0)
    want("loss.type", recipe.loss.type, "nonsaturating")
    for role in ("generator", "discriminator"):
        want(f"train.optimizer.{role}.type", recipe.optimizers[role].type, "adam")
    return problems


def check_same_computation(
    trainer: Any, plain_side: PlainSide, ganzoo_flops: int, plain_flops: int
) -> dict[str, Any]:
    rows = parameter_table(trainer, plain_side)
    print("same-computation check (ganzoo baseline vs plain loop):")
    print(f"  {'parameters':<15} {'ganzoo':>12} {'plain':>12}")
    for name, g, p in rows:
        print(f"  {name:<15} {g:>12,} {p:>12,}{'' if g == p else '   <-- DIFFERENT'}")
    rel = abs(ganzoo_flops - plain_flops) / max(plain_flops, 1)
    print(f"  {'FLOPs/step':<15} {ganzoo_flops:>12,} {plain_flops:>12,}   "
          f"(difference {100 * rel:.3f}%, tolerance {100 * FLOP_TOLERANCE:.0f}%)")
    bad = [name for name, g, p in rows if g != p]
    errors = []
    if bad:
        errors.append("parameter counts differ: " + ", ".join(bad))
    if trainer.images_per_step != plain_side.images_per_step:
        errors.append(f"real images per step differ: {trainer.images_per_step} vs "
                      f"{plain_side.images_per_step}")
    if rel > FLOP_TOLERANCE:
        errors.append(f"FLOPs per step differ by {100 * rel:.2f}% (> {100 * FLOP_TOLERANCE:.0f}%)")
    if errors:
        raise NotSameComputation(
            "ganzoo and the plain loop are not the same computation: " + "; ".join(errors)
            + ". Fix benchmarks/plain_infogan.py or pass --no-plain."
        )
    print("  OK: identical parameter counts and FLOPs")
    return {
        "parameters": {name: {"ganzoo": g, "plain": p} for name, g, p in rows},
        "flops_per_step": {"ganzoo": ganzoo_flops, "plain": plain_flops, "relative_difference": rel},
    }


# --------------------------------------------------------------------------- environment


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return hardware.device_description(device)
    return f"{cpu_model()} ({os.cpu_count()} logical CPUs)"


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def dtype_of(precision: str) -> torch.dtype:
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def _fmt(value: float | None, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "na"
    return format(value, spec)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Training images/s of a ganzoo recipe vs a plain-PyTorch loop.",
    )
    parser.add_argument("recipe", help="recipe TOML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="recipe override (repeatable)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per side first")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (ABAB...)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for everything (default: torch's)")
    parser.add_argument("--json", dest="json_path", default=None, help="write all numbers here")
    parser.add_argument("--no-plain", action="store_true",
                        help="skip the plain-PyTorch loop (it implements the MNIST InfoGAN only)")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS,
                        help=f"comma-separated, from {', '.join(VARIANT_OVERRIDES)} "
                             f"(default {DEFAULT_VARIANTS}); fp32 is always measured")
    parser.add_argument("--peak-seconds", type=float, default=1.0,
                        help="time budget of each matmul-peak measurement")
    parser.add_argument("--peak-size", type=int, default=None,
                        help="matmul side for the peak (default: hardware's choice)")
    parser.add_argument("--compile-budget", type=float, default=600.0,
                        help="seconds the compile variant may spend in its warm-up "
                             "(compilation) before it is reported as failed; 0: no limit")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--steps and --repeats must be >= 1, --warmup >= 0")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANT_OVERRIDES]
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)}; accepted: {', '.join(VARIANT_OVERRIDES)}")
    args.variant_list = [BASELINE] + [v for v in dict.fromkeys(variants) if v != BASELINE]
    return args


def build_trainer(
    recipe_path: str, overrides: list[str], device: torch.device, run_dir: Path, data: Any
) -> Any:
    from ganzoo.session import open_recipe
    from ganzoo.training import Trainer

    session = open_recipe(recipe_path, overrides)
    return Trainer(session.recipe, session.registry, run_dir, device, data=data)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from ganzoo.data import load_dataset
    from ganzoo.runtime import resolve_device
    from ganzoo.session import open_recipe

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    device = resolve_device(args.device)
    recipe_name = Path(args.recipe).stem
    started = _dt.datetime.now(_dt.UTC)
    load_start = _loadavg()

    session = open_recipe(args.recipe, [*args.overrides, *BASELINE_OVERRIDES])
    for note in session.notes:
        print(f"note: {note}")
    recipe = session.recipe
    batch = recipe.data.settings.batch_size
    data = load_dataset(recipe, session.registry, "train")  # shared by every side

    print(f"recipe   : {args.recipe} ({recipe.name}), batch {batch}, data {tuple(data.images.shape)}")
    print(f"device   : {device_name(device)} [{device}], torch {torch.__version__}, "
          f"{threads} threads")
    print(f"plan     : {args.warmup} warm-up steps per side, then {args.repeats} rounds of "
          f"{args.steps} timed steps per side, interleaved")

    sides: list[Side] = []
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-") as tmp:
        # ---- build everything
        baseline_overrides = [*args.overrides, *BASELINE_OVERRIDES]
        baseline = GanzooSide(
            BASELINE,
            build_trainer(args.recipe, baseline_overrides, device, Path(tmp) / BASELINE, data),
            baseline_overrides,
        )
        sides.append(baseline)
        if baseline.images_per_step != batch:
            print(f"images/s counts {baseline.images_per_step} real images per step "
                  f"(train.step.discriminator_steps x batch {batch})")
        plain_side: PlainSide | None = None
        equivalence: dict[str, Any] | None = None
        if not args.no_plain:
            problems = plain_loop_problems(recipe, data.shape)
            if problems:
                raise NotSameComputation(
                    "the plain loop does not implement this recipe: " + "; ".join(problems)
                    + ". Pass --no-plain to time ganzoo alone."
                )
            images = baseline.trainer.batches.images  # the same uint8 tensor, on the device
            real_data_weight, real_strength = term_setting(recipe, "real_data_information")
            invariance_weight, invariant_strength = term_setting(recipe, "invariant_information")
            strength = real_strength if real_data_weight else invariant_strength
            plain_side = PlainSide(
                images, batch, device, recipe.seed, recipe.backbone.config.init_std,
                real_data_weight, strength,
                invariance_weight, continuous_dims(recipe), recipe.train.ema_decay,
            )
            sides.append(plain_side)
        variant_sides: list[GanzooSide] = []
        for name in args.variant_list[1:]:
            overrides = [*baseline_overrides, *VARIANT_OVERRIDES[name]]
            try:
                trainer = build_trainer(args.recipe, overrides, device, Path(tmp) / name, data)
            except Exception as exc:  # e.g. bf16 on a GPU without it
                failed[name] = _first_line(exc)
                print(f"variant {name}: could not build: {failed[name]}")
                continue
            side = GanzooSide(name, trainer, overrides)
            variant_sides.append(side)
            sides.append(side)

        # ---- FLOPs (one real step each; it doubles as the first warm-up step)
        baseline.flops = hardware.count_step_flops(baseline.step)
        if plain_side is not None:
            plain_side.flops = hardware.count_step_flops(plain_side.step)
            equivalence = check_same_computation(
                baseline.trainer, plain_side, baseline.flops, plain_side.flops
            )
        else:
            print(f"FLOPs/step (ganzoo): {baseline.flops:,}")
        for side in variant_sides:
            if side.name in COMPILED:
                side.flops = baseline.flops  # same arithmetic; no counting through dynamo
                continue
            try:
                side.flops = hardware.count_step_flops(side.step)
            except Exception as exc:
                side.error = f"FLOP counting failed: {_first_line(exc)}"

        # ---- warm-up (compilation happens here for the compile variant)
        for side in sides:
            if side.error:
                continue
            t0 = time.perf_counter()
            try:
                limit = args.compile_budget if side.name in COMPILED else None
                with time_limit(limit):
                    # compile needs a few calls to settle (requires_grad flips, with_q)
                    n = max(args.warmup, 3) if side.name in COMPILED else args.warmup
                    for _ in range(n):
                        side.step()
                    hardware.sync(device)
            except Exception as exc:
                side.error = _first_line(exc)
                if side.name in COMPILED:
                    print(f"variant {side.name}: torch.compile failed: {side.error}")
                else:
                    traceback.print_exc()
            side.warmup_s = time.perf_counter() - t0
        for side in list(variant_sides):
            if side.error:
                failed[side.name] = side.error
                variant_sides.remove(side)
                sides.remove(side)
        if baseline.error:
            raise RuntimeError(f"the fp32 baseline failed in warm-up: {baseline.error}")
        if plain_side is not None and plain_side.error:
            raise RuntimeError(f"the plain loop failed in warm-up: {plain_side.error}")

        # ---- matmul peaks for the dtypes in use
        peaks: dict[str, float] = {}
        for precision in dict.fromkeys(
            [s.trainer.settings.precision for s in sides if isinstance(s, GanzooSide)]
        ):
            peaks[precision] = hardware.measure_matmul_peak(
                device, dtype_of(precision), size=args.peak_size, seconds=args.peak_seconds
            )

        # ---- timed rounds, interleaved.  Odd rounds run the sides in reverse order
        # (baseline, plain, variants | variants, plain, baseline | ...): baseline and plain
        # stay adjacent, and neither always goes first, so position effects and linear
        # drift cancel over pairs of rounds.
        round_orders: list[list[str]] = []
        for r in range(args.repeats):
            order = sides if r % 2 == 0 else sides[::-1]
            round_orders.append([s.name for s in order])
            for side in order:
                side.blocks.append(time_block(side, args.steps, threads))
            line = "  ".join(
                f"{s.name} {s.images_per_step * s.blocks[-1]['steps'] / s.blocks[-1]['seconds']:.1f}"
                for s in sides
            )
            print(f"round {r + 1}/{args.repeats} images/s: {line}")

        # ---- data-wait diagnostic pass (CUDA only: the CPU figure above is already exact)
        diagnostics: dict[str, Any] = {}
        if device.type == "cuda":
            for side in [baseline] + ([plain_side] if plain_side is not None else []):
                diagnostics[side.name] = diagnostic_data_pass(side, args.steps)

    # ---- numbers
    results: dict[str, Any] = {}
    for side in sides:
        stats = side_stats(side)
        if side is not plain_side:
            prec = side.trainer.settings.precision  # type: ignore[attr-defined]
            peak = peaks[prec]
            flops = side.flops if side.flops is not None else baseline.flops
            achieved = flops / (stats["step_ms"]["median"] / 1e3)
            stats.update(
                kind="ganzoo", precision=prec, overrides=side.overrides,  # type: ignore[attr-defined]
                channels_last=side.trainer.settings.channels_last,  # type: ignore[attr-defined]
                compile=side.trainer.settings.compile,  # type: ignore[attr-defined]
                flops_per_step=flops, peak_flops=peak, peak_dtype=str(dtype_of(prec)),
                achieved_flops=achieved, peak_fraction=achieved / peak,
                warmup_seconds=side.warmup_s,
            )
            if side is not baseline:
                stats["vs_fp32"] = ratio_stats(side, baseline)
        else:
            peak = peaks["fp32"]
            achieved = side.flops / (stats["step_ms"]["median"] / 1e3)
            stats.update(kind="plain", precision="fp32", flops_per_step=side.flops,
                         peak_flops=peak, achieved_flops=achieved,
                         peak_fraction=achieved / peak, warmup_seconds=side.warmup_s)
        if side.name in diagnostics:
            stats["data_wait_diagnostic"] = diagnostics[side.name]
            stats["data_fraction_timed_pass"] = stats["data_fraction"]
            stats["data_fraction"] = diagnostics[side.name]["data_fraction"]
        results[side.name] = stats
    ratio = ratio_stats(baseline, plain_side) if plain_side is not None else None

    # ---- table
    print()
    head = (f"{'side':<14} {'img/s':>9} {'p10':>9} {'p90':>9} {'ms/step':>9} {'cpu ms':>9} "
            f"{'vs fp32':>8} {'data':>6} {'GFLOP/s':>9} {'%peak':>6}")
    print(head)
    print("-" * len(head))
    for side in sides:
        s = results[side.name]
        vs = s.get("vs_fp32", {}).get("median")
        if side is baseline:
            vs = 1.0
        print(
            f"{side.name:<14} {s['images_per_s']['median']:>9.1f} {s['images_per_s']['p10']:>9.1f} "
            f"{s['images_per_s']['p90']:>9.1f} {s['step_ms']['median']:>9.2f} "
            f"{s['cpu_ms_per_step']['median']:>9.2f} "
            f"{_fmt(vs, '.3f') if side is not plain_side else '':>8} "
            f"{100 * s['data_fraction']:>5.1f}% {s['achieved_flops'] / 1e9:>9.2f} "
            f"{100 * s['peak_fraction']:>5.1f}%"
        )
    for name, why in failed.items():
        print(f"{name:<14} failed: {why}")
    if ratio is not None:
        print(f"\nganzoo/plain images/s: median {ratio['median']:.3f} "
              f"(p10 {ratio['p10']:.3f}, p90 {ratio['p90']:.3f}) over {len(ratio['rounds'])} rounds")
        if device.type == "cpu":
            c = ratio["cpu_time"]
            print(f"  same ratio from process CPU time: median {c['median']:.3f} "
                  f"(p10 {c['p10']:.3f}, p90 {c['p90']:.3f})")
    for side in sides:
        if side.name in COMPILED:
            print(f"{side.name} warm-up (compilation): {side.warmup_s:.1f} s")
    load_end = _loadavg()
    if load_start is not None and load_end is not None and device.type == "cpu":
        busy = max(load_start[0], load_end[0])
        if busy > (os.cpu_count() or 1):
            print(f"warning: load average {busy:.1f} on {os.cpu_count()} CPUs: other processes "
                  "compete for the cores, so wall-clock numbers are noisy (with several "
                  "threads per process, badly so); re-measure on a quiet machine")
    for prec, peak in peaks.items():
        print(f"matmul peak ({prec}): {peak / 1e9:.1f} GFLOP/s")
    if device.type == "cuda":
        print("data wait: from a separate synchronised diagnostic pass")

    # ---- summary
    base = results[BASELINE]

    def variant_field(name: str) -> str:
        if name in failed:
            return "failed"
        if name not in results:
            return "na"
        return f"{results[name]['vs_fp32']['median']:.2f}"

    summary = (
        f"SUMMARY recipe={recipe_name} device={device.type} batch={batch} "
        f"ganzoo_img_s={base['images_per_s']['median']:.1f} "
        f"plain_img_s={_fmt(results['plain']['images_per_s']['median'] if plain_side else None, '.1f')} "
        f"ratio={_fmt(ratio['median'] if ratio else None, '.3f')} "
        f"flops_per_step={base['flops_per_step']:.4g} "
        f"achieved_tflops={base['achieved_flops'] / 1e12:.4f} "
        f"peak_tflops={base['peak_flops'] / 1e12:.4f} "
        f"peak_fraction={base['peak_fraction']:.4f} "
        f"data_wait={100 * base['data_fraction']:.2f}% "
        + " ".join(f"{v}={variant_field(v)}" for v in ("bf16", "channels_last", "compile"))
    )

    report: dict[str, Any] = {
        "summary": summary,
        "recipe": args.recipe,
        "recipe_name": recipe.name,
        "overrides": list(args.overrides),
        "date": started.isoformat(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": str(device),
        "device_name": device_name(device),
        "threads": threads,
        "load_average": {"start": load_start, "end": load_end},
        "interop_threads": torch.get_num_interop_threads(),
        "batch_size": batch,
        "images_per_step": baseline.images_per_step,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "order": [s.name for s in sides],
        "round_orders": round_orders,
        "matmul_peak_flops": peaks,
        # FP32 "peak" and convolutions on CUDA depend on the TF32 switches: record them.
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "equivalence": equivalence,
        "ganzoo_over_plain": ratio,
        "results": results,
        "failed_variants": failed,
        "argv": list(argv) if argv is not None else sys.argv[1:],
    }
    print(summary)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _cli() -> None:
    from ganzoo.errors import UserError

    try:
        main()
    except (NotSameComputation, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    _cli()
