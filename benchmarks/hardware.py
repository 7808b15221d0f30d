"""Hardware and FLOP utilities for the ganzoo benchmarks.

Nothing in here imports ganzoo: the helpers are meant to be shared by the
plain-PyTorch reference loop and the ganzoo side of a benchmark.

* :func:`measure_matmul_peak` -- achieved FLOP/s of a dense square matmul on a
  device, used as the "peak" denominator for utilisation figures.
* :func:`count_step_flops` -- FLOPs of one call of a closure (forward and
  backward) as counted by ``torch.utils.flop_counter.FlopCounterMode``.
* :func:`timed` / :func:`summarize` -- wall-clock timing with CUDA
  synchronisation and robust summary statistics.

Note on what "FLOPs" means here: ``FlopCounterMode`` only counts the heavy
operators it has formulas for (matmul/addmm/bmm, convolutions and their
backward passes, attention).  Elementwise work -- batch norm, activations,
losses, the optimiser update -- is not counted.  For the small conv/MLP GANs in
this project that is a small fraction of the arithmetic but a large fraction of
the wall time, which is why utilisation on such models is far below 100%.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

__all__ = [
    "sync",
    "measure_matmul_peak",
    "count_step_flops",
    "timed",
    "summarize",
    "device_description",
]


def sync(device: torch.device | str | None) -> None:
    """Block until queued work on ``device`` has finished (no-op off CUDA)."""
    if device is None:
        return
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _default_matmul_size(device: torch.device) -> int:
    if device.type == "cuda":
        return 8192
    # On a CPU a 2048^3 matmul is ~17 GFLOP: plenty to saturate BLAS with many
    # threads, but slow with very few, where 1024 already reaches the plateau.
    return 2048 if torch.get_num_threads() > 4 else 1024


def measure_matmul_peak(
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
    size: int | None = None,
    seconds: float = 1.0,
) -> float:
    """Best achieved FLOP/s of ``C = A @ B`` with square ``size x size`` operands.

    The operands are random and the output buffer is preallocated, so only the
    GEMM itself is timed.  After a warm-up the time budget ``seconds`` is split
    into several trials of a few matmuls each; the best trial is returned (the
    usual convention for a "measured peak").  One matmul counts ``2 * size**3``
    FLOPs, the same convention ``FlopCounterMode`` uses.

    CPU work runs with whatever ``torch.get_num_threads()`` currently is; the
    thread count is not changed.  On CUDA the result depends on the current
    TF32 setting (``torch.backends.cuda.matmul.allow_tf32`` /
    ``torch.get_float32_matmul_precision()``) for ``float32``, so measure under
    the same setting as the workload being compared against it.
    """
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    n = int(size) if size is not None else _default_matmul_size(device)
    if n <= 0:
        raise ValueError(f"size must be positive, got {n}")
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")

    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    c = torch.empty(n, n, device=device, dtype=dtype)
    flops_per_mm = 2.0 * n**3

    def run(k: int) -> float:
        sync(device)
        t0 = time.perf_counter()
        for _ in range(k):
            torch.mm(a, b, out=c)
        sync(device)
        return time.perf_counter() - t0

    # Warm-up: library initialisation, kernel selection, thread-pool start-up.
    # Its duration also calibrates how many matmuls one trial should contain.
    run(1)
    t_one = max(run(1), 1e-9)

    n_trials = 5
    per_trial = seconds / n_trials
    k = max(1, min(1000, int(per_trial / t_one)))
    best = math.inf
    deadline = time.perf_counter() + seconds
    trials = 0
    while trials < 2 or (trials < n_trials and time.perf_counter() < deadline):
        best = min(best, run(k) / k)
        trials += 1
    return flops_per_mm / best


class _CountFlops(TorchDispatchMode):
    """Totals ``FlopCounterMode``'s formulas over every operator a call runs. Not
    ``FlopCounterMode`` itself: its per-module tracking hooks autograd, which raises on a
    double backward (``autograd.grad(..., create_graph=True)``, as a gradient penalty does)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def count_step_flops(fn: Callable[[], None]) -> int:
    """FLOPs of one call of ``fn`` (forward and any backward it runs, double backward too).

    ``fn`` is called exactly once under a dispatch mode that applies
    ``torch.utils.flop_counter``'s formulas; every counted operator executed during the call
    -- including autograd backward kernels triggered by ``loss.backward()`` inside ``fn`` --
    is included.  Note that ``fn`` really runs, so e.g. an optimiser step inside it mutates
    the parameters.
    """
    with _CountFlops() as counter:
        fn()
    return int(counter.total)


def timed(
    fn: Callable[[], object],
    repeats: int,
    warmup: int = 0,
    device: torch.device | str | None = None,
) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Returns the per-call wall times in seconds.  On a CUDA device the queue is
    synchronised before and after every timed call, so each time covers the
    GPU work that call launched.
    """
    if repeats < 0 or warmup < 0:
        raise ValueError("repeats and warmup must be non-negative")
    for _ in range(warmup):
        fn()
    sync(device)
    times: list[float] = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return times


def summarize(times) -> dict[str, float]:
    """Median, 10th/90th percentile, interquartile range and mean of ``times``.

    Percentiles use linear interpolation between order statistics (numpy's
    default), so the median of an even-length list is the mean of the two
    middle values.
    """
    arr = np.asarray(list(times), dtype=np.float64)
    if arr.size == 0:
        raise ValueError("summarize() needs at least one value")
    p10, p25, p50, p75, p90 = np.percentile(arr, [10, 25, 50, 75, 90])
    return {
        "median": float(p50),
        "p10": float(p10),
        "p90": float(p90),
        "iqr": float(p75 - p25),
        "mean": float(arr.mean()),
    }


def device_description(device: torch.device | str) -> str:
    """A one-line human description of ``device`` for benchmark reports."""
    device = torch.device(device)
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(idx)} (cuda:{idx})"
    return f"{device.type} ({torch.get_num_threads()} threads)"
