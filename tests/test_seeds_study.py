"""benchmarks/seeds_study.py on cached runs: no training, only the tabulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import load_benchmark

study = load_benchmark("seeds_study")
load_benchmark("zoo_study")  # its spread formatting; a script's own folder is on its path


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


def _clustered_row(seed: int, accuracy: float, confusion: list[list[int]], mapping: dict[int, int]) -> dict:
    return {"variant": "default", "seed": seed, "step": 100, "accuracy": accuracy,
            "codes": {"digit": {"kind": "categorical", "confusion": confusion,
                                "mapping": {str(k): v for k, v in mapping.items()},
                                "class_names": ["shirt", "shoe", "bag"]}}}


def test_the_confusion_matrix_follows_the_hungarian_matching():
    # code values 0, 1, 2 stand for classes 2, 0, 1; 10 test images per class
    confusion = [[0, 1, 8],   # value 0: mostly bags
                 [9, 0, 2],   # value 1: mostly shirts
                 [1, 9, 0]]   # value 2: mostly shoes
    table = study.confusion_markdown(_clustered_row(1, 0.87, confusion, {0: 2, 1: 0, 2: 1}))
    lines = table.splitlines()
    assert lines[0] == "| true class | shirt | shoe | bag |"
    assert lines[2] == "| shirt | 0.90 | 0.10 | 0.00 |"  # the diagonal is each class's recall
    assert lines[3] == "| shoe | 0.00 | 0.90 | 0.10 |"
    assert lines[4] == "| bag | 0.20 | 0.00 | 0.80 |"


def test_code_values_left_unmatched_get_their_own_column():
    confusion = [[5, 0, 0], [0, 4, 0], [0, 0, 4], [0, 1, 1]]  # 4 values, 3 classes
    table = study.confusion_markdown(_clustered_row(1, 0.87, confusion, {0: 0, 1: 1, 2: 2}))
    assert table.splitlines()[0].endswith("| unmatched |")
    assert table.splitlines()[3] == "| shoe | 0.00 | 0.80 | 0.00 | 0.20 |"


def test_results_show_the_confusion_matrix_of_the_median_seed():
    confusion = [[10, 0, 0], [0, 10, 0], [0, 0, 10]]
    rows = [_clustered_row(seed, acc, confusion, {0: 0, 1: 1, 2: 2}) for seed, acc in ((1, 0.5), (2, 0.9), (3, 0.7))]
    results = {"machine": "m", "command": "c", "runs": rows, "summary": {"default": study.aggregate(rows)}}
    text = study.markdown(results)
    assert "Confusion matrix of default, seed 3 (the median categorical accuracy, 0.700)" in text
    assert "| bag | 0.00 | 0.00 | 1.00 |" in text
    assert study.confusion_markdown({"codes": {"style": {"kind": "continuous"}}}) is None


def test_a_variant_can_name_its_own_recipe(tmp_path, monkeypatch):
    import subprocess

    trained = []

    def fake_ganzoo(*args, log=None):
        trained.append(args)
        return subprocess.CompletedProcess(args, 1)  # a failed run: no evaluation follows

    monkeypatch.setattr(study, "_ganzoo", fake_ganzoo)
    results = study.main(["recipes/infogan_shapes2d.toml", "--seeds", "1", "--out", str(tmp_path),
                          "--variant", "infogan:data.size=32",
                          "--variant", "cr@recipes/infogan_cr_shapes2d.toml:data.size=32,train.steps=9"])
    recipe_of = {Path(args[args.index("--out") + 1]).parent.name: args[1] for args in trained}
    assert recipe_of == {"infogan": "recipes/infogan_shapes2d.toml", "cr": "recipes/infogan_cr_shapes2d.toml"}
    cr = next(args for args in trained if args[1].endswith("cr_shapes2d.toml"))
    assert "train.steps=9" in cr and "seed=1" in cr
    assert results["recipes"] == recipe_of
    assert [r["error"].startswith("training failed") for r in results["runs"]] == [True, True]


def test_the_summary_gives_each_variant_a_line_of_means_and_spreads(tmp_path, monkeypatch):
    import subprocess

    monkeypatch.setattr(study, "_ganzoo", lambda *args, log=None: subprocess.CompletedProcess(args, 1))
    rows = {("infogan", 1): {"mig": 0.10, "factor_vae_score": 0.60},
            ("infogan", 2): {"mig": 0.20, "factor_vae_score": 0.70},
            ("infogan_cr", 1): {"mig": 0.30, "factor_vae_score": 0.80}}
    for (variant, seed), values in rows.items():
        run_dir = tmp_path / variant / f"seed-{seed}"
        run_dir.mkdir(parents=True)
        (run_dir / "study.json").write_text(json.dumps(
            {"variant": variant, "seed": seed, "step": 100, "train_seconds": 50.0, **values}))
    study.main(["recipes/infogan_shapes2d.toml", "--seeds", "1", "2", "--out", str(tmp_path),
                "--variant", "infogan:data.size=32",
                "--variant", "infogan_cr@recipes/infogan_cr_shapes2d.toml:data.size=32"])
    lines = (tmp_path / "summary.md").read_text().splitlines()
    assert lines[0] == "| variant | recipe | seeds | MIG | FactorVAE |"  # no cost column
    assert lines[2] == "| infogan | `infogan_shapes2d` | 1, 2 | 0.150 ± 0.071 | 0.650 ± 0.071 |"
    # seed 2 of the CR variant is not cached: its (failed) run is not counted
    assert lines[3].startswith("| infogan_cr | `infogan_cr_shapes2d` | 1 | 0.300 | 0.800 |")


@pytest.mark.parametrize(("options", "expected"), [(["--threads", "3"], "3"), (["--parallel", "2"], "1")])
def test_every_run_gets_the_studys_thread_count(tmp_path, monkeypatch, options, expected):
    """CPU runs of one seed agree bit for bit only at equal OMP_NUM_THREADS, so the study pins it."""
    import os
    import subprocess

    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # restored after the test; main() overrides it
    seen = []

    def fake_ganzoo(*args, log=None):
        seen.append(os.environ["OMP_NUM_THREADS"])
        return subprocess.CompletedProcess(args, 1)

    monkeypatch.setattr(study, "_ganzoo", fake_ganzoo)
    study.main(["recipes/infogan_dcgan.toml", "--seeds", "1", "--out", str(tmp_path), *options])
    assert seen == [expected]
