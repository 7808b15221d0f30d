"""Parameters of InfoGAN's step and terms, and the recipe checks that involve other tables.
Imported when components are listed, so nothing here builds or imports networks."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ganzoo import param


@attrs.frozen
class QHeadConfig:
    """InfoGAN's Q head: FC-BN-lReLU-FC on D's trunk features (the paper's)."""

    hidden: int = param(128, "width of Q's hidden layer (FC-BN-lReLU-FC)", ge=1, le=65536)
    batch_norm: bool = param(True, "batch norm in Q's hidden layer (the paper's choice)")
    optimizer: Literal["discriminator", "generator"] = param(
        "discriminator",
        "who trains Q: 'discriminator' (the official code: the MI term also enters D's "
        "loss on generated images) or 'generator' (Q's head steps with G's optimiser)",
    )
    trains_trunk: bool = param(
        True, "with optimizer='discriminator', let the MI term train D's shared trunk too"
    )


@attrs.frozen
class InfoGANConfig:
    discriminator_steps: int = param(1, "discriminator updates per generator update", ge=1, le=100)
    q_head: QHeadConfig = param(factory=QHeadConfig, help="Q's head on D's trunk ([train.step.q_head])")


@attrs.frozen
class MutualInformationTermConfig:
    """Each regularised code's λ is its model.latent.<code>.weight."""


Augmentation = Literal["none", "affine"]
STRENGTH_HELP = (
    "scales every range of the affine copies: at 1, rotation ±15°, shear ±0.3, "
    "stretch ×1.2^±1 per axis, shift ±10 % of the side"
)


@attrs.frozen
class RealDataInformationConfig:
    codes: list[str] = param(
        factory=list, help="regularised categorical codes it applies to; empty: all of them"
    )
    augmentation: Augmentation = param(
        "affine",
        "'affine' asks Q's category of a real image to agree with that of a randomly slanted, "
        "stretched and shifted copy (IIC); 'none' only asks for confident, balanced "
        "categories (RIM)",
    )
    augmentation_strength: float = param(1.0, STRENGTH_HELP, ge=0, le=3)


@attrs.frozen
class InvariantInformationConfig:
    codes: list[str] = param(
        factory=list, help="regularised codes it applies to; empty: every categorical one"
    )
    augmentation_strength: float = param(1.0, STRENGTH_HELP, ge=0, le=3)


def check_infogan(config: InfoGANConfig, recipe: Any) -> list[tuple[str, str]]:
    if not recipe.regularized_codes:
        return [("model.latent", "the infogan step needs at least one code with "
                 "regularized = true for Q to recover")]
    return []


def chosen_codes(codes: list[str], recipe_latent: dict[str, Any]) -> list[str]:
    """The codes a term applies to: ``codes`` or, if empty, every regularised categorical one."""
    if codes:
        return list(codes)
    return [
        name for name, c in recipe_latent.items()
        if c.settings.regularized and c.type == "categorical"
    ]


def check_codes(config: Any, recipe: Any) -> list[tuple[str, str]]:
    problems = []
    for name in config.codes:
        table = recipe.latent.get(name)
        if table is None:
            problems.append(("codes", f"no code '{name}' in model.latent; codes: "
                             f"{', '.join(recipe.latent) or '(none)'}"))
        elif not table.settings.regularized:
            problems.append(("codes", f"code '{name}' is not regularized: Q has no posterior "
                             f"for it; set model.latent.{name}.regularized = true"))
    if not config.codes and not chosen_codes([], recipe.latent):
        problems.append(("codes", "no regularised categorical code to apply to; name the codes"))
    return problems


def check_real_data(config: RealDataInformationConfig, recipe: Any) -> list[tuple[str, str]]:
    problems = check_codes(config, recipe)
    q_head = getattr(recipe.step.config, "q_head", None)
    if q_head is not None and q_head.optimizer != "discriminator":
        problems.append(("train.step.q_head.optimizer", "the real-data term trains Q in D's "
                         "phase; it needs train.step.q_head.optimizer = 'discriminator'"))
    if config.augmentation_strength != 1.0 and config.augmentation != "affine":
        problems.append(("augmentation_strength", "only scales the 'affine' copies; set "
                         "augmentation = 'affine', or leave the strength at 1"))
    return problems


@attrs.frozen
class ContrastiveConfig:
    """InfoGAN-CR's contrastive regulariser (Lin et al. 2020); defaults: its dSprites setting."""

    hidden: int = param(256, "width of the CR head's hidden layer on D's trunk features", ge=1, le=65536)
    start_weight: float = param(0.0, "G's CR weight at the start (the paper: 0)", ge=0, le=1e6)
    increase: float = param(2.0, "added to G's CR weight at each increase (the paper: 2)", ge=0, le=1e6)
    increase_every: int = param(
        288000, "steps between increases (the paper: 288,000 of 322,560, i.e. after 25 of 28 epochs)", ge=1, le=10**9
    )
    increase_times: int = param(1, "how many increases (the paper: 1)", ge=0, le=10**9)
    gap_start: float = param(
        0.0, "contrastive gap: other uniform codes of a pair differ by at least this at first", ge=0, le=1e6
    )
    gap_decrease: float = param(0.0, "subtracted from the gap at each decrease", ge=0, le=1e6)
    gap_decrease_every: int = param(1, "steps between gap decreases", ge=1, le=10**9)
    gap_decrease_times: int = param(0, "how many decreases (the paper's dSprites run: none)", ge=0, le=10**9)
    discriminator_weight: float = param(
        1.0, "weight of the CR head's own cross-entropy in D's phase (the paper's CR classifier "
        "minimises it unweighted)", ge=0, le=1e6
    )
    trains_trunk: bool = param(True, "let the CR loss in D's phase train D's shared trunk too")


def check_contrastive(config: ContrastiveConfig, recipe: Any) -> list[tuple[str, str]]:
    problems = []
    if len(recipe.regularized_codes) < 2:
        problems.append(("model.latent", "the contrastive term needs at least two regularised "
                         "codes: it predicts which one a pair of images shares"))
    if config.gap_start > 0:
        for name, code in recipe.latent.items():
            if code.settings.regularized and code.type != "uniform":
                problems.append(("gap_start", f"a contrastive gap needs bounded codes; code "
                                 f"'{name}' is {code.type}, not uniform; set gap_start = 0"))
    return problems
