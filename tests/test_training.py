"""End to end on synthetic data: TensorBoard contents, checkpoints, exact resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import SMOKE_RECIPE
from ganzoo.checkpoint import list_checkpoints, load_checkpoint
from ganzoo.cli import main


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _events(run_dir: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _scalars(acc: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in acc.Scalars(tag)]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke") / "run"
    _run("run", SMOKE_RECIPE, "--out", out)
    return out


def test_run_writes_recipe_checkpoints_and_samples(smoke_run):
    assert (smoke_run / "recipe.toml").exists()
    assert [p.name for p in list_checkpoints(smoke_run)] == ["step_00000003.pt", "step_00000006.pt"]
    assert (smoke_run / "samples" / "step_00000006.png").exists()
    assert (smoke_run / "samples" / "traversal_digit_step_00000006.png").exists()


def test_checkpoint_loads_with_weights_only_and_holds_everything(smoke_run):
    path = smoke_run / "checkpoints" / "step_00000006.pt"
    payload = torch.load(path, weights_only=True)
    assert payload["step"] == 6
    assert set(payload["models"]) == {"generator", "discriminator", "q_head"}  # the step's networks
    assert payload["num_classes"] == 4  # the synthetic data's labels, for rebuilding
    assert set(payload["optimizers"]) == {"generator", "discriminator"}
    assert {"python", "numpy", "torch", "latent"} <= set(payload["rng"])
    assert payload["recipe"]["name"] == "smoke-infogan"
    assert payload["components"]["model.latent.digit"]["distribution"] == "torch-ganzoo"
    assert payload["data"] == {"epoch": 0, "position": 6}


def test_tensorboard_holds_losses_mi_bounds_and_images(smoke_run):
    acc = _events(smoke_run)
    tags = acc.Tags()
    for tag in (
        "loss/discriminator/adversarial",
        "loss/discriminator/mutual_information/digit",
        "loss/generator/adversarial",
        "loss/generator/mutual_information/style",
        "d_output/real",
        "d_output/fake",
        "mi_lower_bound/digit",
        "mi_lower_bound/style",
        "learning_rate/generator",
        "speed/images_per_second",
    ):
        assert tag in tags["scalars"], tag
    # every log_every (2) steps, at each checkpoint (3) so a resume never loses an interval, and at the end
    assert [s for s, _ in _scalars(acc, "loss/generator/adversarial")] == [2, 3, 4, 6]
    assert all(v <= 1.3863 + 1e-4 for _, v in _scalars(acc, "mi_lower_bound/digit"))  # <= ln 4
    assert _scalars(acc, "learning_rate/generator")[0][1] == pytest.approx(1e-3)
    for tag in ("samples/fixed_noise", "traversal/digit", "traversal/style_0", "traversal/style_1"):
        assert tag in tags["images"], tag
    digit = acc.Images("traversal/digit")[-1]
    assert digit.width > digit.height  # one column per category, 2 rows
    assert "custom_scalars__config__" in tags["tensors"]


def _crash_after(step_to_crash):
    class Crash(Exception):
        pass

    def on_step(step, logged):
        if step == step_to_crash:
            raise Crash()

    return Crash, on_step


def test_resume_after_a_crash_is_exact_and_tensorboard_stays_continuous(tmp_path, registry):
    from ganzoo.recipe import read_toml, resolve, write_recipe
    from ganzoo.training import Trainer, prepare_run_dir

    straight = tmp_path / "straight"
    _run("run", SMOKE_RECIPE, "--out", straight)

    crashed = tmp_path / "crashed"
    recipe = resolve(read_toml(SMOKE_RECIPE), registry)
    prepare_run_dir(crashed, overwrite=False)
    write_recipe(recipe, crashed / "recipe.toml")
    trainer = Trainer(recipe, registry, crashed, torch.device("cpu"))
    crash, on_step = _crash_after(5)  # after the step-3 checkpoint and the step-4 log
    with pytest.raises(crash):
        trainer.fit(on_step=on_step)
    _run("run", "--resume", crashed)

    a = load_checkpoint(straight / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(crashed / "checkpoints" / "step_00000006.pt")
    for part in ("generator", "discriminator"):
        for key, value in a["models"][part].items():
            assert torch.equal(value, b["models"][part][key]), f"{part}.{key}"
    assert a["optimizers"]["generator"]["state"][0]["exp_avg"].equal(
        b["optimizers"]["generator"]["state"][0]["exp_avg"]
    )
    tag = "loss/discriminator/total"
    assert _scalars(_events(crashed), tag) == _scalars(_events(straight), tag)


def test_resume_skips_a_damaged_newest_checkpoint(tmp_path):
    out = tmp_path / "run"
    _run("run", SMOKE_RECIPE, "--out", out)
    newest = out / "checkpoints" / "step_00000006.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated
    result = CliRunner().invoke(main, ["run", "--resume", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "skipping" in result.output and "step_00000006.pt" in result.output
    assert "from step_00000003.pt" in result.output
    assert load_checkpoint(newest)["step"] == 6  # rewritten whole


def test_sigkill_at_a_random_moment_then_resume_matches_an_uninterrupted_run(tmp_path):
    """A real process killed with SIGKILL mid-training resumes to the same weights."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["--set", "train.steps=12", "--set", "train.checkpoint_every=2"]
    cmd = [sys.executable, "-m", "ganzoo", "run", str(SMOKE_RECIPE)]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run([*cmd, "--out", str(straight), *args], check=True, env=env, capture_output=True)

    process = subprocess.Popen([*cmd, "--out", str(killed), *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (killed / "checkpoints" / "step_00000004.pt").exists():
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = subprocess.run([sys.executable, "-m", "ganzoo", "run", "--resume", str(killed)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    a = load_checkpoint(straight / "checkpoints" / "step_00000012.pt")
    b = load_checkpoint(killed / "checkpoints" / "step_00000012.pt")
    for key, value in a["models"]["generator"].items():
        assert torch.equal(value, b["models"]["generator"][key]), key


def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganzoo", "run", str(SMOKE_RECIPE), "--out", str(out),
           "--set", "train.steps=100000", "--set", "train.checkpoint_every=0",
           "--set", "train.sample_every=0"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(out.glob("events.out.tfevents.*")):
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert "resume with: ganzoo run --resume" in stderr
    (checkpoint,) = list_checkpoints(out)
    assert load_checkpoint(checkpoint)["step"] > 0


def test_nonfinite_loss_stops_with_the_step_and_term(tmp_path, monkeypatch):
    # A learning rate that overflows is a recipe error now (lr <= 10), so diverge for real
    # another way: after step 2 one generator weight becomes inf, and the losses follow.
    from ganzoo.training import Trainer

    original = Trainer.train_step

    def step_then_poison(self, step):
        stats = original(self, step)
        if step == 2:
            with torch.no_grad():
                next(self.system.networks["generator"].parameters()).fill_(float("inf"))
        return stats

    monkeypatch.setattr(Trainer, "train_step", step_then_poison)
    result = CliRunner().invoke(
        main, ["run", str(SMOKE_RECIPE), "--out", str(tmp_path / "r"), "--set", "train.steps=50"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert "non-finite value at step 3" in result.output and "loss/" in result.output
    huge = CliRunner().invoke(main, ["check", str(SMOKE_RECIPE), "--set", "train.optimizer.generator.lr=1e30"])
    assert huge.exit_code == 2 and "train.optimizer.generator.lr: must be > 0 and <= 10" in huge.output


def test_resume_is_exact_with_the_real_data_term(tmp_path):
    # The real-data and invariance terms draw their random transforms from the global torch
    # RNG, which checkpoints hold.
    iic = ["--set", 'train.terms.real_data_information.codes=["digit"]',
           "--set", 'train.terms.invariant_information.codes=["digit"]']
    straight, split = tmp_path / "straight", tmp_path / "split"
    _run("run", SMOKE_RECIPE, "--out", straight, "--set", "train.steps=6", *iic)
    _run("run", SMOKE_RECIPE, "--out", split, "--set", "train.steps=3", *iic)
    _run("run", "--resume", split, "--set", "train.steps=6")
    a = load_checkpoint(straight / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(split / "checkpoints" / "step_00000006.pt")
    for key, value in a["models"]["discriminator"].items():
        assert torch.equal(value, b["models"]["discriminator"][key]), key
    tag = "loss/discriminator/real_data_information/digit"
    assert len(_scalars(_events(straight), tag)) > 0
    assert len(_scalars(_events(straight), "loss/generator/invariant_information/digit")) > 0


def test_a_second_writer_in_the_same_second_is_read_after_the_first(tmp_path):
    """TensorBoard reads event files in name order; ".10" sorts before ".9" as text. The
    resumed writer must still come last, or purge_step drops the wrong events."""
    import time

    from ganzoo.tensorboard import open_writer

    first = open_writer(tmp_path)
    for step in (1, 2, 3, 4):
        first.add_scalar("x", float(step), step)
    first.close()
    (old,) = tmp_path.glob("events.out.tfevents.*")
    # This second, and a name that sorts after any other file opened in it (like ".9" > ".10").
    trap = f"events.out.tfevents.{int(time.time()):010d}.zzzz.1.9"
    old.rename(tmp_path / trap)
    resumed = open_writer(tmp_path, purge_step=3)
    for step in (3, 4):
        resumed.add_scalar("x", 10.0 * step, step)
    resumed.close()
    names = sorted(p.name for p in tmp_path.glob("events.out.tfevents.*"))
    assert names[0] == trap
    assert _scalars(_events(tmp_path), "x") == [(1, 1.0), (2, 2.0), (3, 30.0), (4, 40.0)]
