"""``ganzoo sample``: grids, fixed codes, traversals, GIFs and the error paths."""

from __future__ import annotations

import shutil

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from conftest import SMOKE_RECIPE
from ganzoo import checkpoint as ckpt
from ganzoo.cli import main
from ganzoo.sampling import (
    load_generator,
    parse_codes,
    parse_traverse,
    sample_latents,
    sweep_latents,
)

CELL = 28 + 2  # smoke images are 28 px; make_grid pads by 2


def _calibrate_batch_norm(run_dir) -> None:
    """After 2 steps the running statistics are still the initial ones, so the eval-mode
    generator draws flat gray images. Give them the statistics of a real batch instead."""
    path, payload, _ = ckpt.newest_valid_checkpoint(run_dir)
    loaded = load_generator(path, torch.device("cpu"))
    generator = loaded.generator
    for module in generator.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the calibration batch
    generator.train()
    with torch.no_grad():
        generator(sample_latents(loaded.latent, 256, seed=123))
    payload["models"]["generator"] = generator.state_dict()
    payload.pop("format")
    ckpt.save_checkpoint(path, payload)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sampling") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
        result = CliRunner().invoke(
            main,
            ["run", str(SMOKE_RECIPE), "--out", str(out), "--set", "train.steps=2"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        _calibrate_batch_norm(out)
    return out


@pytest.fixture(scope="module")
def loaded(run_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
        return load_generator(run_dir, torch.device("cpu"))


@pytest.fixture
def sample():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, ["sample", *[str(a) for a in args]], catch_exceptions=False)

    return invoke


def _size(path):
    with Image.open(path) as image:
        return image.size


def test_grid_has_the_pixel_size_of_n_and_nrow(sample, run_dir, tmp_path):
    out = tmp_path / "new" / "folder" / "grid.png"
    result = sample(run_dir, "--out", out, "--n", 10, "--nrow", 4, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert _size(out) == (4 * CELL + 2, 3 * CELL + 2)  # 4 columns, ceil(10 / 4) rows
    assert result.output.count("\n") == 1 and f"wrote {out}" in result.output
    assert "step_00000002.pt" in result.output
    default = sample(run_dir / "checkpoints" / "step_00000002.pt", "--out", tmp_path / "d.png")
    assert default.exit_code == 0, default.output
    assert _size(tmp_path / "d.png") == (8 * CELL + 2, 8 * CELL + 2)  # 64 samples, 8 per row


def test_same_seed_same_bytes_other_seed_other_bytes(sample, run_dir, tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert sample(run_dir, "--out", tmp_path / f"{name}.png", "--n", 16, "--seed", seed).exit_code == 0
    a, b, c = ((tmp_path / f"{n}.png").read_bytes() for n in "abc")
    assert a == b
    assert a != c


def test_overwrite_replaces_the_file_and_leaves_no_temporary(sample, run_dir, tmp_path):
    out = tmp_path / "grid.png"
    out.write_bytes(b"old")
    assert sample(run_dir, "--out", out, "--n", 4).exit_code == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_fixed_categorical_code_is_one_hot(loaded):
    latent = loaded.latent
    digit = latent.entry("digit")
    free = sample_latents(latent, 6, seed=1)
    fixed = sample_latents(latent, 6, seed=1, fixed=parse_codes(latent, ["digit=2"]))
    assert torch.equal(fixed[:, digit.columns], torch.eye(4)[2].expand(6, 4))
    others = torch.ones(latent.width, dtype=torch.bool)
    others[digit.columns] = False
    assert torch.equal(fixed[:, others], free[:, others])  # nothing else changes
    style = parse_codes(latent, ["style=0.5,-1"])["style"]
    assert style.tolist() == [0.5, -1.0]


def test_fixed_code_changes_the_images(sample, run_dir, tmp_path):
    for value in (0, 2):
        result = sample(run_dir, "--out", tmp_path / f"d{value}.png", "--n", 8, "--code", f"digit={value}")
        assert result.exit_code == 0, result.output
    assert (tmp_path / "d0.png").read_bytes() != (tmp_path / "d2.png").read_bytes()


def test_categorical_traversal_has_one_column_per_category(sample, run_dir, tmp_path, loaded):
    out = tmp_path / "digit.png"
    result = sample(run_dir, "--out", out, "--traverse", "digit", "--n", 3, "--code", "style=0,0")
    assert result.exit_code == 0, result.output
    assert _size(out) == (4 * CELL + 2, 3 * CELL + 2)
    latent = loaded.latent
    plan = parse_traverse(latent, "digit")
    z, _ = sweep_latents(latent, plan, 3, 0, parse_codes(latent, ["style=0,0"]), 10, (-2, 2))
    z = z.reshape(3, 4, -1)
    assert torch.equal(z[:, :, latent.entry("digit").columns], torch.eye(4).expand(3, 4, 4))
    assert torch.equal(z[:, :, latent.entry("style").columns], torch.zeros(3, 4, 2))
    assert not torch.equal(z[0, 0], z[1, 0])  # rows are different draws


def test_continuous_traversal_columns_and_gif_frames(sample, run_dir, tmp_path, loaded):
    out, gif = tmp_path / "style.png", tmp_path / "anim" / "style.gif"
    result = sample(
        run_dir, "--out", out, "--traverse", "style:1", "--steps", 5, "--range", -1, 1, "--n", 2, "--gif", gif
    )
    assert result.exit_code == 0, result.output
    assert _size(out) == (5 * CELL + 2, 2 * CELL + 2)
    with Image.open(gif) as image:
        assert image.n_frames == 5
    latent = loaded.latent
    z, _ = sweep_latents(latent, parse_traverse(latent, "style:1"), 2, 0, {}, 5, (-1.0, 1.0))
    block = z.reshape(2, 5, -1)[:, :, latent.entry("style").columns]
    assert torch.allclose(block[:, :, 1], torch.linspace(-1, 1, 5).expand(2, 5))
    assert torch.equal(block[:, :, 0], block[:, :1, 0].expand(2, 5))  # dimension 0 is held


def test_damaged_newest_checkpoint_is_skipped(sample, run_dir, tmp_path):
    copy = tmp_path / "run" / "checkpoints"
    copy.mkdir(parents=True)
    shutil.copy(run_dir / "checkpoints" / "step_00000002.pt", copy)
    (copy / "step_00000009.pt").write_bytes(b"truncated")
    result = sample(tmp_path / "run", "--out", tmp_path / "g.png", "--n", 4)
    assert result.exit_code == 0, result.output
    assert "skipping" in result.output and "step_00000002.pt (step 2)" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--code", "digt=1"], "unknown code 'digt' (did you mean 'digit'?); this model's codes: noise, digit, style"),
        (["--code", "digit=4"], "category 4 is out of range; digit has 4 categories, valid values are 0..3"),
        (["--code", "digit=-1"], "valid values are 0..3"),
        (["--code", "digit=two"], "'two' is not a category"),
        (["--code", "style=0.5,abc"], "'abc' is not a number"),
        (["--code", "style=0.5"], "style is continuous with 2 dimensions; give 2 comma-separated numbers"),
        (["--code", "style"], "expected NAME=VALUE"),
        (["--traverse", "styel"], "unknown code 'styel' (did you mean 'style'?)"),
        (["--traverse", "style:2"], "dimension 2 is out of range; style has 2 dimensions (0..1)"),
        (["--traverse", "digit", "--code", "digit=1"], "also fixed with --code"),
        (["--gif", "x.gif"], "--gif needs --traverse"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(sample, run_dir, tmp_path, args, message):
    result = sample(run_dir, "--out", tmp_path / "x.png", "--n", 2, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.png").exists()


def test_missing_or_empty_run_and_unwritable_out_exit_2(sample, run_dir, tmp_path):
    missing = sample(tmp_path / "nope", "--out", tmp_path / "x.png")
    assert missing.exit_code == 2 and "no such run directory or checkpoint" in missing.output
    empty = sample(tmp_path, "--out", tmp_path / "x.png")
    assert empty.exit_code == 2 and "no checkpoint found" in empty.output
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unwritable = sample(run_dir, "--out", blocker / "x.png", "--n", 2)
    assert unwritable.exit_code == 2 and f"--out: cannot write {blocker / 'x.png'}" in unwritable.output
    assert "Traceback" not in unwritable.output
