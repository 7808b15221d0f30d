"""The MLflow plugin, against a real local MLflow store read back with MLflow's own client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import SMOKE_RECIPE
from ganzoo.cli import main

mlflow = pytest.importorskip(
    "mlflow", reason="MLflow is not installed (pip install 'torch-ganzoo[mlflow]')"
)
from mlflow.tracking import MlflowClient  # noqa: E402

PLUGIN = "ganzoo_plugins.mlflow_tracking"


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "ganzoo-tests")
    return uri


def _run(run_dir, store):
    state = json.loads((run_dir / "mlflow.json").read_text())
    client = MlflowClient(store)
    return client, client.get_run(state["run_id"])


def test_a_run_logs_params_every_scalar_images_eval_and_its_status(tmp_path, store):
    out = tmp_path / "run"
    args = [
        "run",
        str(SMOKE_RECIPE),
        "-p",
        PLUGIN,
        "--out",
        str(out),
        "--set",
        "train.steps=4",
        "--set",
        "train.log_every=2",
        "--set",
        "train.sample_every=4",
        "--set",
        "train.eval_every=4",
        "--set",
        "train.checkpoint_every=4",
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    client, run = _run(out, store)
    assert run.info.status == "FINISHED"
    assert (
        run.data.params["train.steps"] == "4"
        and run.data.params["model.latent.digit.type"] == "categorical"
    )
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss/generator/total")] == [
        2,
        4,
    ]
    assert any(tag.startswith("eval/") for tag in run.data.metrics)  # in-training evaluation too
    artifacts = [a.path for a in client.list_artifacts(run.info.run_id, "samples")]
    assert "samples/step_00000004.png" in artifacts and any(
        "traversal_digit" in a for a in artifacts
    )

    evaluated = CliRunner().invoke(
        main,
        [
            "eval",
            str(out),
            "-p",
            PLUGIN,
            "--metric",
            "mutual_information",
            "--samples",
            "64",
            "--device",
            "cpu",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    (report,) = client.list_artifacts(run.info.run_id, "eval")
    assert report.path == "eval/eval_step_00000004.json"


def test_sigterm_then_resume_continues_the_same_mlflow_run_without_duplicated_steps(
    tmp_path, store
):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "ganzoo",
        "run",
        str(SMOKE_RECIPE),
        "-p",
        PLUGIN,
        "--out",
        str(out),
        "--set",
        "train.steps=100000",
        "--set",
        "train.log_every=1",
        "--set",
        "train.checkpoint_every=0",
        "--set",
        "train.sample_every=0",
        "--set",
        "train.eval_every=0",
    ]
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "mlflow.json").exists():
        time.sleep(0.05)
    time.sleep(2.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    client, run = _run(out, store)
    assert run.info.status == "KILLED"
    stopped = len(client.get_metric_history(run.info.run_id, "loss/generator/total"))
    assert stopped >= 1

    resumed = CliRunner().invoke(
        main,
        ["run", "--resume", str(out), "-p", PLUGIN, "--set", f"train.steps={stopped + 3}"],
        catch_exceptions=False,
    )
    assert resumed.exit_code == 0, resumed.output
    client, again = _run(out, store)
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "loss/generator/total")]
    assert steps == list(range(1, stopped + 4))  # every step once, none twice
    assert again.data.tags["ganzoo.resumed_from_step"] == str(stopped)


def test_without_mlflow_the_plugin_says_how_to_install_it(tmp_path, store, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    from ganzoo.errors import UserError
    from ganzoo_plugins import mlflow_tracking

    with pytest.raises(UserError, match=r"pip install 'torch-ganzoo\[mlflow\]'"):
        mlflow_tracking.start(tmp_path, {"name": "x"}, 0)


def test_a_recipe_switches_it_on_by_name_and_eval_of_that_run_tracks_too(tmp_path, store):
    import tomli_w

    from ganzoo.recipe import read_toml

    raw = read_toml(SMOKE_RECIPE)
    raw["plugins"] = ["mlflow"]  # an optional entry point: never autoloaded, trusted by name
    raw["train"].update(steps=2, log_every=1, sample_every=0, eval_every=0, checkpoint_every=2)
    recipe = tmp_path / "tracked.toml"
    recipe.write_text(tomli_w.dumps(raw))
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(recipe), "--out", str(out)])
    assert result.exit_code == 0, result.output
    client, run = _run(out, store)
    assert run.info.status == "FINISHED" and run.data.params["train.steps"] == "2"
    evaluated = CliRunner().invoke(
        main, ["eval", str(out), "--metric", "mutual_information", "--samples", "64"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert [a.path for a in client.list_artifacts(run.info.run_id, "eval")]

    plain = tmp_path / "plain"  # without the name, nothing is tracked
    result = CliRunner().invoke(main, ["run", str(SMOKE_RECIPE), "--out", str(plain),
                                       "--set", "train.steps=2"])
    assert result.exit_code == 0, result.output
    assert not (plain / "mlflow.json").exists()
