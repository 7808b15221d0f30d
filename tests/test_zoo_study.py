"""benchmarks/zoo_study.py end to end on synthetic data: rows, EMA vs raw on the same run,
the tables, and continuing a finished study without retraining."""

from __future__ import annotations

import json
import tomllib

from conftest import load_benchmark

zoo = load_benchmark("zoo_study")

ARGS = [
    "--families", "dcgan", "infogan", "--datasets", "synthetic", "--other-seeds", "3",
    "--steps", "3", "--ema", "0.9", "--eval-samples", "64",
    "--set", "train.sample_every=0", "--set", "train.eval_every=0",
    "--set", "model.backbone.base_channels=8", "--set", "model.backbone.hidden=64",
]


def test_every_family_is_trained_measured_with_and_without_ema_and_tabulated(tmp_path):
    out = tmp_path / "zoo"
    results = zoo.main(["--out", str(out), *ARGS])
    rows = results["runs"]
    assert [(r["family"], r["dataset"], r["seed"]) for r in rows] == [
        ("dcgan", "synthetic", 3), ("infogan", "synthetic", 3)]
    for row in rows:
        assert "error" not in row, row
        assert row["step"] == 3 and row["generator_weights"] == "ema"
        assert isinstance(row["frechet_distance"], float)
        assert isinstance(row["frechet_distance_raw"], float)
        assert row["frechet_distance"] != row["frechet_distance_raw"]  # two weights, one run
        assert isinstance(row["frechet_distance_recomputed"], float)  # EMA, its own BN statistics
        assert row["frechet_distance_recomputed"] != row["frechet_distance"]
        assert row["gflop_per_step"] > 0 and row["images_per_second"] > 0
    infogan, dcgan = rows[1], rows[0]
    assert infogan["gflop_per_step"] > dcgan["gflop_per_step"]  # Q head and MI terms cost
    assert infogan["accuracy"] is not None and dcgan["accuracy"] is None  # codes only in InfoGAN
    # the swapped-in dataset and the common schedule are in the written recipe
    recipe = (out / "synthetic" / "dcgan" / "recipe.toml").read_text()
    assert 'type = "synthetic"' in recipe
    saved = json.loads((out / "results.json").read_text())
    table = saved["tables"]["synthetic"]["families"]
    assert set(table) == {"dcgan", "infogan"}
    assert table["dcgan"]["frechet_distance"]["n"] == 1
    assert table["dcgan"]["ema_lowers_fd"]["n"] == 1
    text = (out / "results.md").read_text()
    assert "### synthetic (3 generator steps per run)" in text and "| dcgan | 1 |" in text
    summary = (out / "summary.md").read_text()
    assert "| dcgan | `dcgan_mnist` | 1 |" in summary and "| infogan | `infogan_dcgan` | 1 |" in summary

    # run again: finished rows are reused, nothing is retrained
    stamp = (out / "synthetic" / "dcgan" / "seed-3" / "study.json").stat().st_mtime_ns
    again = zoo.main(["--out", str(out), *ARGS, "--no-flops"])
    assert again["runs"] == rows
    assert (out / "synthetic" / "dcgan" / "seed-3" / "study.json").stat().st_mtime_ns == stamp

    # a row from before the recomputed-statistics column gets it from its checkpoint alone
    cached = out / "synthetic" / "dcgan" / "seed-3" / "study.json"
    old = json.loads(cached.read_text())
    old.pop("frechet_distance_recomputed")
    cached.write_text(json.dumps(old))
    checkpoints = sorted((out / "synthetic" / "dcgan" / "seed-3" / "checkpoints").glob("*.pt"))
    stamps = [c.stat().st_mtime_ns for c in checkpoints]
    filled = zoo.main(["--out", str(out), *ARGS, "--no-flops"])
    assert filled["runs"] == rows  # the same value again, nothing retrained
    assert [c.stat().st_mtime_ns for c in checkpoints] == stamps
    assert "frechet_distance_recomputed" in json.loads(cached.read_text())
    assert filled["tables"]["synthetic"]["families"]["dcgan"]["recomputed_lowers_fd"]["n"] == 1

    # --table-only tabulates the finished rows and trains none of the missing ones
    seeds = ARGS.index("--other-seeds") + 1
    wider = ARGS[:seeds] + ["3", "4"] + ARGS[seeds + 1:]
    table_only = zoo.main(["--out", str(out), *wider, "--table-only"])
    assert table_only["runs"] == rows
    assert not (out / "synthetic" / "dcgan" / "seed-4").exists()

    # another schedule is another row: trained again from scratch, never the cached one
    changed = ["--families", "dcgan", *ARGS[3:]]
    changed[changed.index("--ema") + 1] = "0.5"
    redone = zoo.main(["--out", str(out), *changed, "--no-flops"])
    assert (out / "synthetic" / "dcgan" / "seed-3" / "study.json").stat().st_mtime_ns != stamp
    assert redone["ema_decay"] == 0.5 and redone["runs"][0]["step"] == 3
    saved_recipe = tomllib.loads((out / "synthetic" / "dcgan" / "seed-3" / "recipe.toml").read_text())
    assert saved_recipe["train"]["ema_decay"] == 0.5  # the run itself was made again


def test_a_family_without_a_recipe_is_refused(tmp_path, monkeypatch, capsys):
    import pytest

    monkeypatch.setitem(zoo.FAMILIES, "nope", ("nope_mnist.toml", "missing"))
    with pytest.raises(SystemExit):
        zoo.main(["--out", str(tmp_path), "--families", "nope", "--datasets", "synthetic"])
    assert "no recipe for nope" in capsys.readouterr().err


def test_runs_start_wave_by_wave_costliest_first():
    def job(family, dataset, rank, gflop):
        return {"family": family, "dataset": dataset, "seed": rank + 1, "rank": rank, "gflop": gflop}

    jobs = [job("dcgan", "mnist", 0, 1.0), job("dcgan", "mnist", 1, 1.0), job("wgan_gp", "mnist", 0, 9.0),
            job("wgan_gp", "mnist", 1, 9.0), job("dcgan", "fashion_mnist", 0, 1.0), job("lsgan", "mnist", 0, None)]
    order = [(j["family"], j["dataset"], j["rank"]) for j in zoo.schedule(jobs)]
    assert order == [("wgan_gp", "mnist", 0), ("dcgan", "mnist", 0), ("dcgan", "fashion_mnist", 0),
                     ("lsgan", "mnist", 0), ("wgan_gp", "mnist", 1), ("dcgan", "mnist", 1)]


def test_the_readme_summary_shows_mean_and_sd_at_the_means_precision():
    assert zoo._mean_sd({"mean": 130.4, "std": 14.933, "n": 2}) == "130 ± 15"
    assert zoo._mean_sd({"mean": 6.2241, "std": 0.4719, "n": 3}) == "6.224 ± 0.472"
    assert zoo._mean_sd({"mean": 3.353, "std": 0.0, "n": 1}) == "3.353"
    results = {"command": "python benchmarks/zoo_study.py", "steps": 500,
               "families": {"acgan": {"recipe": "recipes/acgan_mnist.toml"}},
               "tables": {"mnist": {"floor": {"frechet_distance": 1.955, "recall": 0.891},
                                    "families": {"acgan": {
                                        "recall": {"mean": 0.356, "std": 0.039, "n": 2},
                                        "conditional_accuracy": {"mean": 0.999, "std": 0.001, "n": 2},
                                        "gflop_per_step": {"mean": 36.744, "std": 0.0, "n": 2},
                                        "frechet_distance_recomputed": {"mean": 5.5, "std": 0.0, "n": 1},
                                        "ema_lowers_fd": {"mean": 2, "std": 0.0, "n": 2}}}}}}
    lines = zoo.summary_markdown(results).splitlines()
    assert "**MNIST**, 500 generator steps per run, mean ± sd over seeds:" in lines
    header = next(line for line in lines if line.startswith("| family"))
    row = next(line for line in lines if line.startswith("| acgan"))
    floor = next(line for line in lines if line.startswith("| *floor"))
    cells = dict(zip(header.split(" | "), row.split(" | "), strict=True))
    assert cells["R"] == "0.356 ± 0.039" and cells["cond. acc."] == "0.999 ± 0.001"
    assert cells["seeds"] == "2" and cells["EMA < raw"] == "2/2" and cells["GFLOP/step"] == "36.744"
    assert cells["FD (EMA, BN rec.)"] == "5.500 (1 of 2 seeds)"  # a column with fewer seeds says so
    assert row.count("|") == header.count("|") == floor.count("|")
