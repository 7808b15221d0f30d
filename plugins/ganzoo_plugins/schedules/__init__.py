"""Learning-rate schedules: multipliers of every optimiser's base learning rate."""

from __future__ import annotations

import math

import attrs

from ganzoo import ScheduleSpec, hookimpl, param


@attrs.frozen
class LinearDecayConfig:
    start: float = param(0.5, "fraction of training after which the decay begins", ge=0, lt=1)
    final: float = param(0.0, "multiplier reached at the last step", ge=0, le=1)


@attrs.frozen
class CosineConfig:
    final: float = param(0.0, "multiplier reached at the last step", ge=0, le=1)
    warmup: int = param(0, "steps of linear warm-up from 0", ge=0, le=10**9)


def constant(config: object, total_steps: int):
    return lambda step: 1.0


def linear_decay(config: LinearDecayConfig, total_steps: int):
    begin = config.start * total_steps

    def multiplier(step: int) -> float:
        if step <= begin:
            return 1.0
        frac = (step - begin) / max(total_steps - begin, 1)
        return 1.0 - min(frac, 1.0) * (1.0 - config.final)

    return multiplier


def cosine(config: CosineConfig, total_steps: int):
    def multiplier(step: int) -> float:
        if step < config.warmup:
            return (step + 1) / config.warmup
        frac = min((step - config.warmup) / max(total_steps - config.warmup, 1), 1.0)
        return config.final + (1 - config.final) * 0.5 * (1 + math.cos(math.pi * frac))

    return multiplier


@hookimpl
def ganzoo_schedules():
    return [
        ScheduleSpec(name="constant", summary="the base learning rate throughout", factory=constant),
        ScheduleSpec(
            name="linear_decay",
            summary="constant, then linear decay to `final` over the rest of training",
            config=LinearDecayConfig,
            factory=linear_decay,
        ),
        ScheduleSpec(
            name="cosine",
            summary="optional linear warm-up, then cosine decay to `final`",
            config=CosineConfig,
            factory=cosine,
        ),
    ]
