"""Multi-process training with torchrun (gloo on the CPU)."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from conftest import REPO, SMOKE_RECIPE
from ganzoo.checkpoint import load_checkpoint

WORKER = REPO / "tests" / "support" / "distributed_worker.py"


def _torchrun(*args, nproc=2, timeout=300):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *map(str, args)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def test_two_processes_give_the_gradients_of_one_process_on_the_combined_batch(tmp_path):
    single = tmp_path / "single.pt"
    subprocess.run([sys.executable, str(WORKER), str(single)], check=True, capture_output=True)
    double = tmp_path / "double.pt"
    result = _torchrun(WORKER, double)
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = torch.load(single, weights_only=True), torch.load(double, weights_only=True)
    assert a.keys() == b.keys()
    assert any(k.startswith("q_head.") for k in a)  # the MI term reached Q
    assert any(k.startswith("generator.") for k in a)
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=1e-4, atol=1e-6), key


def test_a_two_process_run_writes_a_checkpoint_one_process_can_resume(tmp_path):
    out = tmp_path / "run"
    result = _torchrun("-m", "ganzoo", "run", SMOKE_RECIPE, "--out", out,
                       "--set", "train.steps=4", "--set", "train.checkpoint_every=2")
    assert result.returncode == 0, result.stderr[-3000:]
    payload = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    assert len(payload["latent_rng_per_rank"]) == 2
    resumed = subprocess.run(
        [sys.executable, "-m", "ganzoo", "run", "--resume", str(out), "--set", "train.steps=6"],
        capture_output=True, text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(out / "checkpoints" / "step_00000006.pt")["step"] == 6
