"""What a new user hit outside the repository: resume without $GANZOO_DATA_ROOT, eval without
data, sample --label, and codes whose columns belong together."""

from __future__ import annotations

import math

import torch
from click.testing import CliRunner

from conftest import REPO, SMOKE_RECIPE
from ganzoo import checkpoint as ckpt
from ganzoo.cli import main
from ganzoo.latent import LatentCode, LatentSpace
from ganzoo.recipe import read_toml
from ganzoo.sampling import parse_traverse, sweep_latents


def _train(out, recipe=SMOKE_RECIPE, *extra):
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(recipe),
            "--out",
            str(out),
            "--set",
            "train.steps=2",
            "--set",
            "train.sample_every=0",
            *extra,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_run_saves_the_data_root_it_used_so_resume_needs_no_environment(tmp_path, monkeypatch):
    data = tmp_path / "shared-data"
    monkeypatch.setenv("GANZOO_DATA_ROOT", str(data))
    out = _train(tmp_path / "run")
    assert read_toml(out / "recipe.toml")["data"]["root"] == str(data.absolute())
    monkeypatch.delenv("GANZOO_DATA_ROOT")
    monkeypatch.chdir(tmp_path)
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out), "--set", "train.steps=3"])
    assert resumed.exit_code == 0, resumed.output
    _, payload, _ = ckpt.newest_valid_checkpoint(out)
    assert payload["step"] == 3 and payload["recipe"]["data"]["root"] == str(data.absolute())


def test_an_explicit_data_root_is_kept(tmp_path):
    out = _train(tmp_path / "run", SMOKE_RECIPE, "--set", "data.root=somewhere")
    assert read_toml(out / "recipe.toml")["data"]["root"] == "somewhere"


def test_eval_without_its_data_exits_2_once_with_where_it_looked(tmp_path):
    out = _train(tmp_path / "run")
    path, payload, _ = ckpt.newest_valid_checkpoint(out)
    payload["recipe"]["data"] = {
        "type": "mnist",
        "root": str(tmp_path / "nowhere"),
        "download": False,
        "batch_size": 16,
    }
    payload.pop("format")
    ckpt.save_checkpoint(path, payload)
    result = CliRunner().invoke(main, ["eval", str(out), "--samples", "64", "--device", "cpu"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "MNIST (test) not found: looked in" in errors[0]
    assert result.output.count("not found: looked in") == 1
    assert "needed by categorical_accuracy" in result.output
    assert "Downloading is off" in result.output and "Traceback" not in result.output


def test_sample_label_on_conditional_and_unconditional_runs(tmp_path):
    cgan = _train(tmp_path / "cgan", REPO / "recipes" / "smoke" / "cgan_synthetic.toml")
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for label, out in ((1, a), (2, b)):
        result = CliRunner().invoke(
            main, ["sample", str(cgan), "--out", str(out), "--n", "4", "--label", str(label)]
        )
        assert result.exit_code == 0 and f"class {label}" in result.output, result.output
    # (after 2 steps the images are near-flat grey in PNG; test_api compares the tensors)
    bad = CliRunner().invoke(main, ["sample", str(cgan), "--out", str(a), "--label", "7"])
    assert bad.exit_code == 2 and "out of range; this run's data has 4 classes" in bad.output
    plain = _train(tmp_path / "plain")
    refused = CliRunner().invoke(main, ["sample", str(plain), "--out", str(a), "--label", "1"])
    assert refused.exit_code == 2 and "unconditional" in refused.output


class Angle(LatentCode):
    """A von Mises-like angle fed to G as (cos, sin): one factor in two columns."""

    width = posterior_size = 2

    def sample(self, batch, generator, device):
        theta = torch.rand(batch, generator=generator, device=device) * 2 * math.pi
        return torch.stack([theta.cos(), theta.sin()], dim=1)

    def log_likelihood(self, value, posterior):
        return -(value - posterior).pow(2).sum(dim=1)

    def traversals(self, steps, span):
        theta = torch.linspace(0, 2 * math.pi, steps)
        return [("", torch.stack([theta.cos(), theta.sin()], dim=1))]


def test_a_multi_column_code_is_swept_as_one_code():
    latent = LatentSpace([("noise", Angle(), False, 1.0), ("angle", Angle(), True, 1.0)])
    plan = parse_traverse(latent, "angle")
    z, sweep = sweep_latents(latent, plan, rows=2, seed=0, fixed={}, steps=5, span=(-2, 2))
    block = z.reshape(2, 5, -1)[:, :, latent.entry("angle").columns]
    assert (
        sweep.shape == (5, 2)
        and torch.allclose(block[0], sweep)
        and torch.allclose(block[1], sweep)
    )
    assert torch.allclose(block.pow(2).sum(-1), torch.ones(2, 5))  # on the circle, never cos alone


def test_continuous_factors_scores_each_of_a_codes_own_sweeps(tmp_path):
    from ganzoo.evaluation import evaluate, load_run

    out = _train(tmp_path / "run")
    report = evaluate(load_run(out), ["continuous_factors"], samples=64)
    style = report["codes"]["style"]
    assert style["sweep_labels"] == ["0", "1"] and style["dims"] == 2
    assert all(len(rhos) == 2 for rhos in style["factors"].values())
