"""benchmarks/seeds_study.py on cached runs: no training, only the tabulation."""

from __future__ import annotations

import json

import pytest

from conftest import load_benchmark

study = load_benchmark("seeds_study")


def _cached_row(seed: int, slant: list[float], width: list[float]) -> dict:
    # the summary values are what an older, per-property "best" would have written
    return {"variant": "default", "seed": seed, "step": 3000, "train_seconds": 60.0,
            "accuracy": 0.9, "nmi": 0.8, "mi_lower_bound": 2.25, "frechet_distance": 9.0,
            "slant_abs_rho": max(map(abs, slant)), "width_abs_rho": max(map(abs, width)),
            "thickness_abs_rho": 0.5,
            "codes": {"digit": {"kind": "categorical"},
                      "style": {"kind": "continuous",
                                "factors": {"slant": slant, "width": width, "thickness": [0.1, 0.5]}}}}


def test_a_cached_study_is_rescored_with_distinct_dimensions(tmp_path):
    rows = {1: _cached_row(1, [0.99, 0.2], [0.9, 0.6]), 2: _cached_row(2, [0.1, -0.98], [0.85, 0.3])}
    for seed, row in rows.items():
        run_dir = tmp_path / "default" / f"seed-{seed}"
        run_dir.mkdir(parents=True)
        (run_dir / "study.json").write_text(json.dumps(row))

    results = study.main(["recipes/infogan_dcgan.toml", "--seeds", "1", "2", "--out", str(tmp_path)])

    by_seed = {r["seed"]: r for r in results["runs"]}
    # seed 1: dim 0 drives both slant and width; width must come from dim 1
    assert by_seed[1]["slant_abs_rho"] == 0.99 and by_seed[1]["width_abs_rho"] == 0.6
    assert by_seed[2]["slant_abs_rho"] == 0.98 and by_seed[2]["width_abs_rho"] == 0.85
    assert by_seed[1]["thickness_abs_rho"] is None  # two dimensions, both taken
    width = results["summary"]["default"]["width_abs_rho"]
    assert width["mean"] == pytest.approx(0.725) and width["min"] == 0.6 and width["max"] == 0.85
    table = (tmp_path / "results.md").read_text()
    assert "| default | 1 | 3000 |" in table and "0.600" in table and "| default | **mean** |" in table
    assert json.loads((tmp_path / "results.json").read_text())["runs"][0]["width_abs_rho"] == 0.6


def test_time_to_accuracy_is_read_from_the_runs_tensorboard_events(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    reached, never = tmp_path / "default" / "seed-1", tmp_path / "default" / "seed-2"
    for run_dir, curve in ((reached, [0.5, 0.93, 0.96, 0.97]), (never, [0.5, 0.6, 0.7, 0.94])):
        writer = SummaryWriter(str(run_dir))
        for i, value in enumerate(curve):
            writer.add_scalar("eval/accuracy/digit", value, (i + 1) * 100)
        writer.close()
        # what `ganzoo eval` logs afterwards (its own events file) is not the training curve
        evaluation = SummaryWriter(str(run_dir), filename_suffix=".eval")
        evaluation.add_scalar("eval/accuracy/digit", 0.99, 400)
        evaluation.add_scalar("eval/summary/accuracy", 0.99, 400)
        evaluation.close()
        (run_dir / "study.json").write_text(json.dumps(_cached_row(1, [0.9, 0.1], [0.2, 0.8])))

    results = study.main(["recipes/infogan_dcgan.toml", "--seeds", "1", "2", "--out", str(tmp_path)])

    first, second = results["runs"]
    assert first["steps_to_target"] == 300  # the first value >= 0.95, not the first logged
    assert 0 <= first["minutes_to_target"] < 1
    assert second["steps_to_target"] == "never" and second["minutes_to_target"] is None
    table = (tmp_path / "results.md").read_text()
    assert "steps to acc." in table and "never" in table
    assert "Frechet (raw G)" not in table  # no row kept an EMA: the column is left out


def test_factor_scores_are_tabulated_where_a_dataset_gives_them(tmp_path):
    # a shapes2d row has FactorVAE/BetaVAE scores and no shape correlations; an MNIST row the reverse
    shapes = {"variant": "s32", "seed": 1, "step": 100, "mig": 0.2, "dci_disentanglement": 0.3,
              "dci_completeness": 0.25, "dci_informativeness": 0.6, "sap": 0.1,
              "factor_vae_score": 0.71, "beta_vae_score": 0.83}
    run_dir = tmp_path / "s32" / "seed-1"
    run_dir.mkdir(parents=True)
    (run_dir / "study.json").write_text(json.dumps(shapes))
    results = study.main(["recipes/infogan_shapes2d.toml", "--seeds", "1", "--out", str(tmp_path),
                          "--variant", "s32:data.size=32"])
    header = (tmp_path / "results.md").read_text().splitlines()[3]
    assert "FactorVAE" in header and "BetaVAE" in header and "DCI compl." in header
    assert "slant" not in header  # no row has it
    assert results["summary"]["s32"]["factor_vae_score"]["mean"] == 0.71
