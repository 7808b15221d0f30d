"""TensorBoard: opening a run's writer safely, and a custom-scalars dashboard that groups
what a GAN user watches."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

_EVENT_FILE = re.compile(r"events\.out\.tfevents\.(\d+)\.")


def open_writer(run_dir: Path, **kwargs: Any) -> Any:
    """A ``SummaryWriter`` on ``run_dir`` whose event file sorts after the ones already there.

    TensorBoard reads a directory's event files in name order, and the name starts with the
    creation second, then host, pid and a per-process counter (compared as text, so ".10"
    sorts before ".9"). A second file opened within the same second as an earlier one, by the
    same process, can therefore be read first; a resumed run's purge_step would then drop the
    wrong events. Waiting for the next second (at most one) keeps the order right.
    """
    from torch.utils.tensorboard import SummaryWriter

    seconds = [int(m.group(1)) for f in Path(run_dir).glob("events.out.tfevents.*")
               if (m := _EVENT_FILE.match(f.name))]
    if seconds:
        while int(time.time()) <= max(seconds):
            time.sleep(0.05)
    return SummaryWriter(str(run_dir), **kwargs)


def write_layout(writer: Any, extra: dict[str, dict[str, list[Any]]] | None = None) -> None:
    """TensorBoard's custom-scalars dashboard: what every GAN user watches, plus the sections
    the training step adds (``TrainingStep.tensorboard_layout``)."""
    layout: dict[str, dict[str, list[Any]]] = {
        "losses": {
            "discriminator": ["Multiline", [r"loss/discriminator/.*"]],
            "generator": ["Multiline", [r"loss/generator/.*"]],
        },
        "discriminator output": {
            "mean logit on real and generated images": ["Multiline", [r"d_output/.*"]],
        },
        "training": {
            "learning rates": ["Multiline", [r"learning_rate/.*"]],
            "images per second": ["Multiline", [r"speed/images_per_second"]],
        },
    }
    layout.update(extra or {})
    writer.add_custom_scalars(layout)
