"""Per-step scalars: summed on the device, checked for non-finite values without a host sync,
averaged once per logging interval.

A step records the same tags every step in the common case; those are stacked into one
tensor per step and added to one running sum (two small ops, no per-tag work). A step whose
tags vary (a lazy regulariser that runs every k steps) gets one running sum per distinct tag
set, and each tag's mean is over the steps that recorded it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganzoo.errors import TrainingError


class NonFiniteLoss(TrainingError):
    def __init__(self, step: int, terms: list[str]):
        self.step, self.terms = step, terms
        super().__init__(
            f"non-finite value at step {step} in {', '.join(terms) or 'a loss term'}; "
            "lower the learning rates, or set train.on_nonfinite = \"rollback\""
        )


class _Group:
    """Running sum of the steps that recorded exactly these tags."""

    def __init__(self, names: tuple[str, ...], values: Tensor):
        self.names = names
        self.total = torch.zeros_like(values)  # [S]
        self.count = 0


class ScalarLog:
    def __init__(self, device: torch.device):
        self.device = device
        self._groups: dict[tuple[str, ...], _Group] = {}
        self._bad_step = torch.full((), -1, dtype=torch.long, device=device)
        self._bad_values: Tensor | None = None
        self._bad_names: tuple[str, ...] = ()

    def add(self, step: int, stats: dict[str, Tensor]) -> None:
        names = tuple(stats)
        values = torch.stack([stats[n].float() for n in names])  # [S]
        group = self._groups.get(names)
        if group is None:
            group = self._groups[names] = _Group(names, values)
        group.total += values
        group.count += 1
        if self._bad_values is None or self._bad_values.shape != values.shape:
            self._bad_values = torch.zeros_like(values)
            self._bad_names = names
        # Remember the first step with a non-finite value, on the device (no host sync).
        newly_bad = (~torch.isfinite(values).all()) & (self._bad_step < 0)
        self._bad_step = torch.where(newly_bad, torch.full_like(self._bad_step, step), self._bad_step)
        if names == self._bad_names:
            self._bad_values = torch.where(newly_bad, values, self._bad_values)

    def check_finite(self, dist_enabled: bool = False) -> None:
        """Raise ``NonFiniteLoss`` if any step so far recorded a NaN or inf."""
        if dist_enabled:  # every rank stops together
            import torch.distributed as dist

            dist.all_reduce(self._bad_step, op=dist.ReduceOp.MAX)
        bad_step = int(self._bad_step)
        if bad_step < 0:
            return
        values = self._bad_values.tolist() if self._bad_values is not None else []
        names = [n for n, v in zip(self._bad_names, values, strict=True) if not math.isfinite(v)]
        raise NonFiniteLoss(bad_step, names)

    def means(self, world_size: int = 1) -> dict[str, float]:
        """Each tag's mean since the last call (over processes too); then start afresh."""
        parts: dict[str, list[tuple[float, int]]] = {}
        for group in self._groups.values():
            if world_size > 1:
                import torch.distributed as dist

                dist.all_reduce(group.total)
                group.total /= world_size
            if group.count:
                means = (group.total / group.count).tolist()
                for name, mean in zip(group.names, means, strict=True):
                    parts.setdefault(name, []).append((mean, group.count))
            group.total.zero_()
            group.count = 0
        # a tag recorded in several tag sets: its mean over all the steps that recorded it
        return {
            name: items[0][0] if len(items) == 1
            else sum(m * c for m, c in items) / sum(c for _, c in items)
            for name, items in parts.items()
        }

    def reset(self) -> None:
        self._groups.clear()
        self._bad_step.fill_(-1)
        self._bad_values = None
        self._bad_names = ()
