"""ganzoo.api: the Python interface the CLI is built on, and the README's example."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch

from conftest import REPO, SMOKE_RECIPE
from ganzoo import api
from ganzoo.errors import UserError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "run"
    result = api.train(
        SMOKE_RECIPE,
        overrides={"train.steps": 3, "train.sample_every": 0},
        out=out,
        device="cpu",
        progress=False,
    )
    return result


def test_importing_ganzoo_and_the_api_does_no_work():
    code = "import ganzoo, ganzoo.api, sys; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_overrides_as_a_dict_or_as_set_strings():
    assert api.override_strings(
        {"train.steps": 5, "model.backbone.type": "resnet", "x.y": [0.5, 0.9]}
    ) == ["train.steps=5", 'model.backbone.type="resnet"', "x.y=[0.5, 0.9]"]
    assert api.override_strings(["train.steps=5"]) == ["train.steps=5"]


def test_train_returns_the_run_and_load_run_finds_its_newest_checkpoint(trained):
    assert trained.step == 3 and "loss/generator/total" in trained.scalars
    run = api.load_run(trained.run_dir)
    assert run.step == 3 and run.checkpoint.name == "step_00000003.pt"
    assert run.weights == "raw" and not run.conditional  # no moving average kept
    assert run.recipe.train.steps == 3


def test_train_by_name_with_string_overrides(tmp_path):
    result = api.train(
        "smoke_infogan", ["train.steps=1"], out=tmp_path / "r", device="cpu", progress=False
    )
    assert result.step == 1


def test_sample_with_fixed_codes_is_seeded_and_the_code_matters(trained):
    run = api.load_run(trained.run_dir)
    a = api.sample(run, 6, seed=1, codes={"digit": 2, "style": [0.5, -1.0]})
    assert a.shape == (6, 1, 28, 28) and 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, api.sample(run, 6, seed=1, codes={"digit": 2, "style": [0.5, -1.0]}))
    assert not torch.equal(a, api.sample(run, 6, seed=1, codes={"digit": 3, "style": [0.5, -1.0]}))
    with pytest.raises(UserError, match="category 9 is out of range"):
        api.sample(run, 2, codes={"digit": 9})


def test_labels_on_an_unconditional_run_are_refused(trained):
    with pytest.raises(UserError, match="unconditional"):
        api.sample(trained.run_dir, 2, labels=1)


def test_traverse_uses_the_codes_own_sweeps(trained):
    run = api.load_run(trained.run_dir)
    digit = api.traverse(run, "digit", rows=2)
    assert list(digit) == [""] and digit[""].shape == (2, 4, 1, 28, 28)  # 4 categories
    style = api.traverse(run, "style", rows=3, steps=5)
    assert list(style) == ["0", "1"] and style["1"].shape == (3, 5, 1, 28, 28)


def test_evaluate_returns_the_report_and_writes_its_json(trained, tmp_path):
    report = api.evaluate(
        trained.run_dir, metrics=["mutual_information"], samples=64, out_dir=tmp_path
    )
    assert report["step"] == 3 and report["metrics"]["mutual_information"]["status"] == "ok"
    assert (tmp_path / "eval_step_00000003.json").exists()


def test_conditional_run_samples_the_given_class(tmp_path):
    result = api.train(
        REPO / "recipes" / "smoke" / "cgan_synthetic.toml",
        {"train.steps": 2, "train.sample_every": 0},
        tmp_path / "c",
        device="cpu",
        progress=False,
    )
    run = api.load_run(result.run_dir)
    assert run.conditional
    same = api.sample(run, 4, labels=1)
    assert torch.equal(same, api.sample(run, 4, labels=[1, 1, 1, 1]))
    assert not torch.equal(same, api.sample(run, 4, labels=2))
    with pytest.raises(UserError, match="out of range"):
        api.sample(run, 2, labels=99)


def _readme_python_example() -> str:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    example = [b for b in blocks if "from ganzoo import api" in b]
    assert example, "README has no Python API example"
    return example[0]


def test_the_readme_python_example_runs(tmp_path):
    """Pasted into ``python`` in an empty directory, as a new user would."""
    done = subprocess.run(
        [sys.executable, "-c", _readme_python_example()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(tmp_path.glob("runs/*/checkpoints/*.pt"))
