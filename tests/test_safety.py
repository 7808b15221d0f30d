"""Crash safety: full disks, unwritable folders, non-finite losses and rollbacks."""

from __future__ import annotations

import errno
import os

import pytest
import torch
from click.testing import CliRunner

from conftest import SMOKE_RECIPE
from ganzoo import checkpoint as ckpt
from ganzoo.cli import main


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_atomic_write_leaves_the_old_file_when_the_disk_is_full(tmp_path, monkeypatch):
    target = tmp_path / "step_00000001.pt"
    ckpt.save_checkpoint(target, {"step": 1, "recipe": {}, "models": {}})
    before = target.read_bytes()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        ckpt.save_checkpoint(target, {"step": 2, "recipe": {}, "models": {}})
    assert target.read_bytes() == before  # the complete old checkpoint survives
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left


def test_a_full_disk_during_training_fails_clearly_and_keeps_earlier_checkpoints(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_save = ckpt.save_checkpoint
    calls = []

    def save_then_fill_disk(path, payload):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(path, payload)

    monkeypatch.setattr(ckpt, "save_checkpoint", save_then_fill_disk)
    result = _invoke("run", SMOKE_RECIPE, "--out", out)
    assert result.exit_code == 1
    assert "could not write checkpoint" in result.output and "No space left" in result.output
    assert "earlier checkpoints are intact" in result.output
    assert ckpt.load_checkpoint(out / "checkpoints" / "step_00000003.pt")["step"] == 3


def test_unwritable_out_folder_is_a_user_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")  # fails even for root
    result = _invoke("run", SMOKE_RECIPE, "--out", blocker / "run")
    assert result.exit_code == 2 and "cannot write there" in result.output
    assert "Traceback" not in result.output


def test_out_path_that_is_a_file_is_a_user_error(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    result = _invoke("run", SMOKE_RECIPE, "--out", afile)
    assert result.exit_code == 2 and "is a file" in result.output


def test_rollback_reloads_the_last_checkpoint_with_a_lower_learning_rate(tmp_path, monkeypatch):
    from ganzoo.training import Trainer

    original = Trainer.train_step
    poisoned = {"done": False}

    def step_with_one_nan(self, step):
        stats = original(self, step)
        if step == 5 and not poisoned["done"]:
            poisoned["done"] = True
            stats["loss/generator/adversarial"] = torch.tensor(float("nan"))
        return stats

    monkeypatch.setattr(Trainer, "train_step", step_with_one_nan)
    out = tmp_path / "run"
    result = _invoke("run", SMOKE_RECIPE, "--out", out, "--set", "train.on_nonfinite=rollback",
                     "--set", "train.rollback_lr_factor=0.5")
    assert result.exit_code == 0, result.output
    assert "rolled back to step_00000003.pt" in result.output
    final = ckpt.load_checkpoint(out / "checkpoints" / "step_00000006.pt")
    assert final["lr_factor"] == 0.5 and final["rollbacks"] == 1
    group = final["optimizers"]["generator"]["param_groups"][0]
    assert group["lr"] == pytest.approx(1e-3 * 0.5)


def test_nonfinite_without_a_checkpoint_to_roll_back_to_stops(tmp_path, monkeypatch):
    from ganzoo.training import Trainer

    original = Trainer.train_step

    def always_nan(self, step):
        stats = original(self, step)
        stats["loss/discriminator/adversarial"] = torch.tensor(float("inf"))
        return stats

    monkeypatch.setattr(Trainer, "train_step", always_nan)
    result = _invoke("run", SMOKE_RECIPE, "--out", tmp_path / "run", "--set", "train.on_nonfinite=rollback")
    assert result.exit_code == 1
    assert "non-finite value at step 1 in loss/discriminator/adversarial" in result.output
