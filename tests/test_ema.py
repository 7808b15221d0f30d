"""The moving average of G (train.ema_decay): its arithmetic, checkpoints and exact resume,
which weights eval/sample use, and the per-class grid of conditional runs."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import RECIPES, SMOKE_RECIPE
from ganzoo.checkpoint import load_checkpoint
from ganzoo.cli import main
from ganzoo.errors import UserError
from ganzoo.recipe import read_toml, resolve
from ganzoo.system import EMA_NETWORK, load_system
from ganzoo.training import Trainer

CGAN = RECIPES / "smoke" / "cgan_synthetic.toml"
EMA = ["--set", "train.ema_decay=0.9", "--set", "train.ema_start=2"]


def _cli(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def _trainer(registry, tmp_path, decay=0.9, start=2, recipe=SMOKE_RECIPE):
    raw = read_toml(recipe)
    raw["train"].update(ema_decay=decay, ema_start=start)
    return Trainer(resolve(raw, registry), registry, tmp_path, torch.device("cpu"))


def _floats(module):
    return [t.detach().clone() for t in list(module.parameters()) + list(module.buffers())
            if t.is_floating_point()]


def test_the_average_starts_as_a_copy_then_moves_decay_of_the_way(registry, tmp_path):
    trainer = _trainer(registry, tmp_path)
    system, generator = trainer.system, trainer.system.networks["generator"]
    assert system.ema is not None and EMA_NETWORK not in system.networks  # not trained by a step
    trainer.train_step(1)
    assert system.generator_weights == "raw"  # before ema_start nothing is averaged
    trainer.train_step(2)
    assert system.generator_weights == "ema" and int(system.ema.n_averaged) == 1
    for a, g in zip(_floats(system.ema.module), _floats(generator), strict=True):
        assert torch.equal(a, g)  # the first update copies G (batch-norm statistics too)
    moved = 0
    for step in (3, 4):
        before = _floats(system.ema.module)
        trainer.train_step(step)
        after, now = _floats(system.ema.module), _floats(generator)
        n = step - 2  # updates so far before this one
        d = min(0.9, (1 + n) / (10 + n))  # the warm-up: 2/11, then 3/12
        for b, a, g in zip(before, after, now, strict=True):
            assert torch.allclose(a, d * b + (1 - d) * g, atol=1e-6)
            moved += int(not torch.equal(a, g))
    assert moved > 0  # the average now differs from G
    assert system.generator is not None
    z = system.latent.sample(4, torch.Generator().manual_seed(0), torch.device("cpu"))
    ema_images = system.generator.eval()(z)
    system.use_ema = False
    assert system.generator_weights == "raw"
    assert not torch.equal(ema_images, system.generator.eval()(z))


def test_off_by_default_and_checkpoints_hold_it_only_when_on(registry, tmp_path):
    plain = Trainer(resolve(read_toml(SMOKE_RECIPE), registry), registry, tmp_path / "a",
                    torch.device("cpu"))
    assert plain.system.ema is None and EMA_NETWORK not in plain.system.state_dicts()
    trainer = _trainer(registry, tmp_path / "b")
    assert EMA_NETWORK in trainer.system.state_dicts()


def test_resume_is_exact_with_the_average(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _cli("run", SMOKE_RECIPE, "--out", straight, *EMA)
    _cli("run", SMOKE_RECIPE, "--out", resumed, *EMA, "--set", "train.steps=3")
    _cli("run", "--resume", resumed, "--set", "train.steps=6")
    a = load_checkpoint(straight / "checkpoints" / "step_00000006.pt")["models"][EMA_NETWORK]
    b = load_checkpoint(resumed / "checkpoints" / "step_00000006.pt")["models"][EMA_NETWORK]
    assert a["n_averaged"].item() == 5  # steps 2..6
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_eval_and_sample_use_the_average_and_say_so(tmp_path):
    run = tmp_path / "run"
    _cli("run", SMOKE_RECIPE, "--out", run, *EMA)
    loaded, raw = load_system(run), load_system(run, weights="raw")
    assert loaded.system.generator_weights == "ema"
    assert raw.system.generator_weights == "raw"
    z = loaded.system.latent.sample(4, torch.Generator().manual_seed(0), torch.device("cpu"))
    with torch.no_grad():
        assert not torch.equal(loaded.system.generator(z), raw.system.generator(z))

    ema_png, raw_png = tmp_path / "ema.png", tmp_path / "raw.png"
    result = _cli("sample", run, "--out", ema_png, "--n", "4")
    assert "generator weights: EMA (decay 0.9" in result.output
    result = _cli("sample", run, "--out", raw_png, "--n", "4", "--weights", "raw")
    assert "raw G" in result.output and raw_png.exists()

    result = _cli("eval", run, "--json", "--samples", "64", "--metric", "mutual_information",
                  "--weights", "raw")
    assert json.loads(result.stdout)["generator_weights"] == "raw"
    result = _cli("eval", run, "--json", "--samples", "64", "--metric", "mutual_information")
    assert json.loads(result.stdout)["generator_weights"] == "ema"


def test_asking_for_an_average_a_run_does_not_hold_is_a_clear_error(tmp_path):
    run = tmp_path / "run"
    _cli("run", SMOKE_RECIPE, "--out", run)
    with pytest.raises(UserError, match="holds no moving average of G"):
        load_system(run, weights="ema")
    result = _cli("sample", run, "--out", tmp_path / "x.png", "--weights", "ema", code=2)
    assert "train.ema_decay" in result.output
    assert "generator weights" not in _cli(
        "sample", run, "--out", tmp_path / "y.png", "--n", "4").output  # nothing to choose


def test_decay_out_of_range_is_a_recipe_error(tmp_path):
    result = _cli("check", SMOKE_RECIPE, "--set", "train.ema_decay=1.0", code=2)
    assert "train.ema_decay" in result.output


def test_conditional_runs_log_a_per_class_grid(tmp_path):
    run = tmp_path / "run"
    _cli("run", CGAN, "--out", run, *EMA)
    png = run / "samples" / "per_class_step_00000004.png"
    assert png.exists()
    acc = EventAccumulator(str(run), size_guidance={"images": 0})
    acc.Reload()
    image = acc.Images("samples/per_class")[-1]
    # 4 classes (rows) x 10 columns of 28 px tiles with 2 px padding
    assert (image.height, image.width) == (4 * 30 + 2, 10 * 30 + 2)
    unconditional = tmp_path / "plain"
    _cli("run", SMOKE_RECIPE, "--out", unconditional)
    assert not list((unconditional / "samples").glob("per_class_*"))


def test_the_average_cannot_be_switched_on_or_off_by_a_resume(tmp_path):
    run = tmp_path / "run"
    _cli("run", SMOKE_RECIPE, "--out", run, "--set", "train.steps=3")
    result = _cli("run", "--resume", run, "--set", "train.ema_decay=0.9", code=2)
    assert "train.ema_decay: cannot change on resume" in result.output


def test_the_warm_up_follows_num_updates_and_stops_at_the_decay():
    from ganzoo.system import ema_with_warmup

    average = ema_with_warmup(0.999)
    for n, d in ((1, 2 / 11), (100, 101 / 110), (10_000, 0.999)):
        a, c = [torch.zeros(3)], [torch.ones(3)]
        average(a, c, torch.tensor(n))
        assert torch.allclose(a[0], torch.full((3,), 1 - d)), n
    counts = [torch.tensor([3])], [torch.tensor([7])]  # integer buffers take G's value
    average(*counts, torch.tensor(5))
    assert counts[0][0].item() == 7


# -- train.ema_batch_norm = "recomputed": the average's own batch-norm statistics ------------
def _norms(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def test_recomputed_statistics_are_the_average_of_the_ema_s_own_batches(tmp_path, monkeypatch):
    import ganzoo.system as system_module

    monkeypatch.setattr(system_module, "RECOMPUTE_SAMPLES", 64)
    monkeypatch.setattr(system_module, "RECOMPUTE_BATCH", 32)
    run = tmp_path / "run"
    _cli("run", SMOKE_RECIPE, "--out", run, *EMA)
    loaded = load_system(run, ema_batch_norm="recomputed")
    system = loaded.system
    stored = {k: v.clone() for k, v in system.ema.state_dict().items()}
    recomputing = system.ema_generator()
    assert recomputing is not system.ema.module and system.ema_generator() is recomputing  # cached
    assert _norms(recomputing), "the smoke generator has batch norm"
    first = _norms(recomputing)[0]

    # what the first batch norm sees: the inputs of its forward on the same two batches
    seen = []
    probe = copy.deepcopy(system.ema.module)
    handle = _norms(probe)[0].register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
    rng = torch.Generator().manual_seed(system_module.RECOMPUTE_SEED)
    with torch.no_grad():
        probe.eval()
        for _ in range(2):
            probe(system.latent.sample(32, rng, torch.device("cpu")))
    handle.remove()
    dims = [0] + list(range(2, seen[0].dim()))
    mean = torch.stack([x.mean(dim=dims) for x in seen]).mean(0)  # per channel, equal batches
    assert torch.allclose(first.running_mean, mean, atol=1e-5)
    assert not torch.allclose(first.running_mean, _norms(system.ema.module)[0].running_mean)
    assert first.momentum == _norms(system.ema.module)[0].momentum and not first.training

    # the average itself (what checkpoints hold and training updates) is untouched
    for key, value in system.ema.state_dict().items():
        assert torch.equal(value, stored[key]), key
    z = system.latent.sample(4, torch.Generator().manual_seed(0), torch.device("cpu"))
    with torch.no_grad():
        recomputed = system.generator.eval()(z)
        system.ema_batch_norm = "averaged"
        averaged = system.generator.eval()(z)
    assert not torch.equal(recomputed, averaged)


def test_recomputed_statistics_change_sampling_but_not_training(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _cli("run", SMOKE_RECIPE, "--out", a, *EMA, "--set", "train.eval_every=3")
    _cli("run", SMOKE_RECIPE, "--out", b, *EMA, "--set", "train.eval_every=3",
         "--set", "train.ema_batch_norm=recomputed")
    left = load_checkpoint(a / "checkpoints" / "step_00000006.pt")["models"]
    right = load_checkpoint(b / "checkpoints" / "step_00000006.pt")["models"]
    for name in left:
        for key in left[name]:
            assert torch.equal(left[name][key], right[name][key]), (name, key)
    result = _cli("eval", b, "--json", "--samples", "64", "--metric", "mutual_information")
    assert json.loads(result.stdout)["ema_batch_norm"] == "recomputed"
    assert "recomputed from 10240" in result.stderr
    result = _cli("eval", b, "--json", "--samples", "64", "--metric", "mutual_information",
                  "--ema-batch-norm", "averaged")
    assert json.loads(result.stdout)["ema_batch_norm"] == "averaged"
    out = tmp_path / "s.png"
    result = _cli("sample", a, "--out", out, "--n", "4", "--ema-batch-norm", "recomputed")
    assert "batch-norm statistics recomputed" in result.output and out.exists()


def test_an_unknown_ema_batch_norm_is_a_recipe_error(tmp_path):
    result = _cli("check", SMOKE_RECIPE, "--set", "train.ema_batch_norm=standing", code=2)
    assert "train.ema_batch_norm" in result.output and "recomputed" in result.output
