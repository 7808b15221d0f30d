"""Track runs in MLflow: a first-party plugin on ganzoo's lifecycle hooks.

Off unless asked for: it is installed as an *optional* entry point (group
``ganzoo.optional``, never autoloaded). Switch it on in the recipe with ``plugins =
["mlflow"]`` (then ``eval`` and ``--resume`` of the run track too), or for one command with
``-p ganzoo_plugins.mlflow_tracking``.
Needs ``pip install "torch-ganzoo[mlflow]"``. Where it writes: ``$MLFLOW_TRACKING_URI``
(e.g. ``sqlite:///mlflow.db`` or ``file:/abs/mlruns``), else ``file:`` ``./mlruns``;
experiment: ``$MLFLOW_EXPERIMENT_NAME``, else the recipe's name.

What it records: the resolved recipe as parameters (dotted keys), every scalar the run logs
as a metric at its step (``eval/*`` included), every sample and traversal grid and each
``ganzoo eval`` report (JSON) as artifacts, and the status at the end: FINISHED, KILLED
(SIGINT/SIGTERM) or FAILED. The MLflow run id is kept in ``RUN_DIR/mlflow.json``, so
``--resume`` continues the same MLflow run; steps it had already logged (a run killed
between a log and its checkpoint repeats them) are not logged twice.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ganzoo import hookimpl

STATE_FILE = "mlflow.json"
STATUS = {"completed": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a parameter value


def _client(uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        from ganzoo.errors import UserError

        raise UserError(
            "plugin ganzoo_plugins.mlflow_tracking needs MLflow: pip install 'torch-ganzoo[mlflow]'"
        ) from None
    if uri.startswith("file:"):
        # MLflow 3 keeps the file store but refuses it unless told; it is the one backend
        # that needs no database server or SQLAlchemy.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=uri)


def default_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or (Path("mlruns").absolute().as_uri())


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """``{"train": {"steps": 3}}`` -> ``{"train.steps": "3"}`` (MLflow parameters)."""
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    text = json.dumps(data) if not isinstance(data, str) else data
    return {prefix: text[:MAX_PARAM_LENGTH]}


class Tracker:
    """One run directory's MLflow run: its id, client and the last step it logged."""

    def __init__(self, run_dir: Path, state: dict[str, Any]):
        self.run_dir = run_dir
        self.state = state
        self.client = _client(state["tracking_uri"])

    @property
    def run_id(self) -> str:
        return self.state["run_id"]

    @classmethod
    def open(cls, run_dir: Path) -> Tracker | None:
        path = Path(run_dir) / STATE_FILE
        if not path.is_file():
            return None
        return cls(Path(run_dir), json.loads(path.read_text()))

    def save(self) -> None:
        path = self.run_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2) + "\n")
        tmp.replace(path)


def start(run_dir: Path, recipe: dict[str, Any], step: int) -> Tracker:
    """A new MLflow run for a new run directory, or the saved one for a resumed run."""
    tracker = Tracker.open(run_dir)
    if tracker is not None:
        tracker.client.update_run(tracker.run_id, status="RUNNING")
        tracker.client.set_tag(tracker.run_id, "ganzoo.resumed_from_step", str(step))
        return tracker
    uri = default_uri()
    client = _client(uri)
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or str(recipe.get("name") or "ganzoo")
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    run = client.create_run(
        experiment_id,
        run_name=Path(run_dir).name,
        tags={"ganzoo.run_dir": str(Path(run_dir).absolute())},
    )
    tracker = Tracker(
        Path(run_dir), {"tracking_uri": uri, "run_id": run.info.run_id, "last_step": -1}
    )
    from mlflow.entities import Param

    params = [Param(k, v) for k, v in flatten(recipe).items()]
    for i in range(0, len(params), 100):  # MLflow takes at most 100 parameters per batch
        client.log_batch(tracker.run_id, params=params[i : i + 100])
    tracker.save()
    return tracker


@hookimpl
def ganzoo_run_start(run_dir: Path, recipe: dict[str, Any], step: int) -> None:
    start(Path(run_dir), recipe, step)


@hookimpl
def ganzoo_log_scalars(run_dir: Path, step: int, scalars: dict[str, float]) -> None:
    tracker = Tracker.open(run_dir)
    if tracker is None:
        return
    # eval/* arrive separately at a step whose losses were already logged: track by tag
    logged = tracker.state.setdefault("last_steps", {})
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = []
    for tag, value in scalars.items():
        if step <= logged.get(tag, -1):
            continue  # logged before a kill; the resumed run repeats it bitwise
        metrics.append(Metric(tag, float(value), now, int(step)))
        logged[tag] = int(step)
    for i in range(0, len(metrics), 1000):
        tracker.client.log_batch(tracker.run_id, metrics=metrics[i : i + 1000])
    tracker.state["last_step"] = max(int(step), int(tracker.state.get("last_step", -1)))
    tracker.save()


@hookimpl
def ganzoo_images_saved(run_dir: Path, step: int, paths: list[Path]) -> None:
    tracker = Tracker.open(run_dir)
    if tracker is None:
        return
    for path in paths:
        tracker.client.log_artifact(tracker.run_id, str(path), artifact_path="samples")


@hookimpl
def ganzoo_evaluated(run_dir: Path, step: int, report: dict[str, Any], path: Path | None) -> None:
    tracker = Tracker.open(run_dir)
    if tracker is None:
        return
    name = f"eval_step_{step:08d}.json"
    tracker.client.log_text(tracker.run_id, json.dumps(report, indent=2) + "\n", f"eval/{name}")


@hookimpl
def ganzoo_run_end(run_dir: Path, step: int, status: str) -> None:
    tracker = Tracker.open(run_dir)
    if tracker is None:
        return
    tracker.client.set_terminated(tracker.run_id, status=STATUS.get(status, "FAILED"))
