"""A short real-MNIST run (skipped with a reason when the data is absent)."""

from __future__ import annotations

from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import RECIPES, mnist_root, requires_mnist
from ganzoo.checkpoint import load_checkpoint
from ganzoo.cli import main


@requires_mnist
def test_short_infogan_run_on_real_mnist(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "run", str(RECIPES / "infogan_dcgan.toml"), "--out", str(out),
            "--set", f"data.root={mnist_root()}",
            "--set", "train.steps=40", "--set", "train.log_every=20",
            "--set", "train.sample_every=40", "--set", "train.checkpoint_every=40",
        ],
    )
    assert result.exit_code == 0, result.output
    assert load_checkpoint(out / "checkpoints" / "step_00000040.pt")["step"] == 40
    events = EventAccumulator(str(out))
    events.Reload()
    bound = [e.value for e in events.Scalars("mi_lower_bound/digit")]
    # The categorical code is learned quickly: the bound rises well above its start.
    assert bound[-1] > 0.5, bound
    assert "traversal/digit" in events.Tags()["images"]
