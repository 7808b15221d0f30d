"""One training step on a fixed global batch, in one process or as one of several torchrun
ranks; rank 0 saves every gradient to the file named by argv[1]."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

from ganzoo.plugins import load_plugins
from ganzoo.recipe import read_toml, resolve
from ganzoo.runtime import distributed_from_env, process_group
from ganzoo.training import Trainer

HERE = Path(__file__).resolve().parent
SMOKE = HERE.parents[1] / "recipes" / "smoke" / "infogan_synthetic.toml"
GLOBAL_BATCH = 16


def main(out: str) -> None:
    dist_info = distributed_from_env()
    device = torch.device("cpu")
    registry = load_plugins([str(HERE / "mlp_backbone.py")], autoload="first-party").registry()
    raw = read_toml(SMOKE)
    raw["model"]["backbone"] = {"type": "test_mlp"}
    raw["train"]["step"]["q_head"] = {"hidden": 16, "batch_norm": False}
    raw["data"]["batch_size"] = GLOBAL_BATCH // dist_info.world_size
    recipe = resolve(raw, registry)
    with process_group(dist_info, device), tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(recipe, registry, Path(run_dir), device, dist_info=dist_info)
        # The same global batch everywhere; each rank takes its contiguous share.
        gen = torch.Generator().manual_seed(1234)
        real = torch.rand(GLOBAL_BATCH, 1, 28, 28, generator=gen) * 2 - 1
        z = trainer.latent.sample(GLOBAL_BATCH, gen, device)
        share = GLOBAL_BATCH // dist_info.world_size
        rows = slice(dist_info.rank * share, (dist_info.rank + 1) * share)
        trainer.batches.next = lambda: (real[rows], None)
        trainer.latent.sample = lambda *args, **kwargs: z[rows]
        trainer.train_step(1)
        grads = {
            f"{name}.{n}": p.grad.clone()
            for name, network in trainer.system.networks.items()
            for n, p in network.named_parameters()
            if p.grad is not None
        }
        if dist_info.is_main:
            torch.save(grads, out)


if __name__ == "__main__":
    main(sys.argv[1])
