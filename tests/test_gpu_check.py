"""benchmarks/gpu_check.py: its CPU path (the rehearsal a lent GPU's script gets first)."""

from __future__ import annotations

import json

import pytest

from conftest import load_benchmark

gpu_check = load_benchmark("gpu_check")


@pytest.mark.slow  # two torchrun launches of the full-size model: about a minute
def test_the_torchrun_stage_all_reduces_through_gloo_and_trains_on_the_cpu(tmp_path):
    report = gpu_check.main(["--device", "cpu", "--quick", "--synthetic", "--out", str(tmp_path / "out"),
                             "--stages", "environment", "torchrun"])
    assert report["data"].startswith("synthetic")
    stages = report["stages"]
    assert stages["environment"]["result"]["device"] == "cpu"
    assert stages["torchrun"]["result"]["allreduce"]["exit"] == 0
    assert stages["torchrun"]["result"]["run"]["exit"] == 0
    assert "backend gloo: all_reduce ok" in (tmp_path / "out" / "torchrun.log").read_text()
    saved = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert set(saved["stages"]) == {"environment", "torchrun"}
    assert "torchrun (1 process(es)): all-reduce exit 0, ganzoo run exit 0" in (
        tmp_path / "out" / "gpu_check.md").read_text()


def test_a_failing_stage_is_recorded_and_the_next_one_still_runs(tmp_path):
    report = gpu_check.main(["--device", "cuda:99", "--quick", "--out", str(tmp_path),
                             "--stages", "environment"])
    assert "error" in report["stages"]["environment"]
    assert "stage environment failed" in (tmp_path / "gpu_check.md").read_text()


def test_the_table_reports_the_best_speedup_over_the_eager_plain_loop():
    report = {"device": "cuda", "data": "MNIST", "command": "x", "seconds": 1.0, "stages": {
        "throughput": {"result": {"64": {
            "images_per_s": {"plain": 5000.0, "fp32": 5100.0, "graphs": 30000.0},
            "speedup_vs_plain_eager": {"plain": 1.0, "fp32": 1.02, "graphs": 6.0}}}}}}
    text = gpu_check.markdown(report)
    assert "| 64 | 5000 | 5100 | 30000 | 6.00x |" in text


@pytest.mark.slow
def test_the_whole_cpu_rehearsal_runs_end_to_end(tmp_path):
    report = gpu_check.main(["--device", "cpu", "--quick", "--out", str(tmp_path)])
    assert all("error" not in stage for stage in report["stages"].values()), report["stages"]
