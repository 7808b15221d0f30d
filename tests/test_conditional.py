"""Labels reach the step when it asks for them; unconditional recipes never gather them."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from conftest import RECIPES, SMOKE_RECIPE
from ganzoo.checkpoint import load_checkpoint
from ganzoo.cli import main
from ganzoo.data import ImageData
from ganzoo.errors import UserError
from ganzoo.recipe import read_toml, resolve
from ganzoo.training import Trainer

CGAN = RECIPES / "smoke" / "cgan_synthetic.toml"


def _trainer(registry, tmp_path, recipe_path, data=None):
    recipe = resolve(read_toml(recipe_path), registry)
    return Trainer(recipe, registry, tmp_path, torch.device("cpu"), data=data)


def test_unconditional_steps_never_gather_labels(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, SMOKE_RECIPE)
    assert trainer.data.labels is not None  # the synthetic data has labels ...
    assert trainer.batches.labels is None  # ... but the infogan step does not ask for them
    assert trainer.context.next_batch().labels is None


def test_a_conditional_step_gets_the_batch_labels_and_conditions_both_networks(registry, tmp_path):
    trainer = _trainer(registry, tmp_path, CGAN)
    batch = trainer.context.next_batch()
    images, labels = trainer.data.images, trainer.data.labels
    assert batch.labels is not None and batch.labels.dtype == torch.int64
    # the labels are those of the very images in the batch
    order = trainer.batches._order[: len(batch.labels)]
    assert torch.equal(batch.labels, labels[order])
    assert torch.allclose(batch.images, images[order].float() / 127.5 - 1)
    generator = trainer.system.networks["generator"]
    discriminator = trainer.system.networks["discriminator"]
    z = trainer.context.sample_latent(8)
    a, b = torch.zeros(8, dtype=torch.long), torch.ones(8, dtype=torch.long)
    with torch.no_grad():
        assert not torch.allclose(generator(z, a), generator(z, b))
        x = generator(z, a)
        assert not torch.allclose(discriminator(x, a), discriminator(x, b))
    with pytest.raises(ValueError, match="pass labels"):
        generator(z)
    trainer.train_step(1)
    assert discriminator.projection.weight.grad is not None
    assert generator.embedding.weight.grad is not None


def test_a_conditional_step_needs_labelled_data(registry, tmp_path):
    unlabelled = ImageData(torch.zeros(64, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(UserError, match="needs a dataset with labels|has none"):
        _trainer(registry, tmp_path, CGAN, data=unlabelled)


def test_a_conditional_run_trains_samples_and_checkpoints(tmp_path):
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(CGAN), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    assert payload["num_classes"] == 4
    assert payload["models"]["discriminator"]["projection.weight"].shape == (4, 64)
    assert (out / "samples" / "step_00000004.png").exists()
    sampled = runner.invoke(main, ["sample", str(out), "--out", str(tmp_path / "s.png"), "--n", "8"])
    assert sampled.exit_code == 0, sampled.output


def test_resnet_cannot_condition(tmp_path):
    result = CliRunner().invoke(
        main, ["run", str(CGAN), "--dry-run", "--set", "model.backbone.type=resnet"]
    )
    assert result.exit_code == 2 and "does not condition on labels" in result.output
