"""The training-step protocol: what a step plugin implements and what the loop hands it.

pytest's own test protocol is a hook that a built-in plugin implements; ganzoo's training
step is likewise a component (kind ``step``) that first-party plugins implement through the
same entry points as anyone else's. A step

- declares in its ``StepSpec`` its optimiser roles (one ``train.optimizer.<role>`` table
  each) and what its phases offer to loss terms;
- builds its networks by name (``build_networks``) from the recipe's backbone;
- says which parameters each optimiser role owns (``parameters``);
- runs one training step (``run``) with a :class:`StepContext`.

The loop owns everything else: learning-rate schedules, backward passes, the AMP scaler,
gradient averaging across processes, non-finite checks, logging, checkpoints of the named
networks, exact resume, rollback, signals and progress (``ganzoo.training``).

Loss terms (kind ``term``) are the other half: a recipe adds them to a step by name, and
the step asks each for its share of every phase (``LossTerm``).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import torch
from torch import Tensor, nn

from ganzoo.latent import LatentSpace

if TYPE_CHECKING:
    from ganzoo.data import ImageData, InMemoryBatches
    from ganzoo.recipe import Recipe
    from ganzoo.system import Backbone, Discriminator, GANSystem


class AdversarialLoss(abc.ABC):
    """An adversarial loss on D's logits. Both methods return scalar means.

    G's loss also receives the real batch's logits when the loss sets
    ``needs_real_logits_for_generator`` (relativistic losses); otherwise the step does not
    score real images in G's phase and passes None.
    """

    needs_real_logits_for_generator: ClassVar[bool] = False

    @abc.abstractmethod
    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """``[B]``, ``[B]`` -> scalar loss D minimises."""

    @abc.abstractmethod
    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        """``[B]`` (and ``[B]`` or None) -> scalar loss G minimises."""


@attrs.frozen
class Batch:
    """One batch of real data. ``labels`` only when the step uses them and the data has them."""

    images: Tensor  # [B, C, H, W] in [-1, 1]
    labels: Tensor | None = None  # [B] int64


@attrs.frozen
class NetworkParts:
    """What ``TrainingStep.build_networks`` builds from: the recipe's backbone and the sizes.

    ``backbone()`` builds a fresh generator/trunk pair each call (a second discriminator or an
    encoder is another call); ``discriminator(backbone)`` puts the adversarial head on a trunk.
    """

    image_shape: tuple[int, int, int]
    latent: LatentSpace
    num_classes: int  # label classes of the dataset; 0 when it has none
    make_backbone: Callable[[int], Backbone]
    make_discriminator: Callable[[Backbone, int], Discriminator]

    def backbone(self, num_classes: int = 0) -> Backbone:
        return self.make_backbone(num_classes)

    def discriminator(self, backbone: Backbone, num_classes: int = 0) -> Discriminator:
        return self.make_discriminator(backbone, num_classes)


class LossTerm:
    """Named loss terms (and logged statistics) a term adds to a step's phases.

    Each method gets the phase's view (its fields are the step's: the adversarial steps pass
    ``ganzoo_plugins.steps.Phase``) and returns ``(terms, stats)``: ``terms`` maps a name to
    a scalar the phase's optimiser minimises (already weighted), ``stats`` maps a TensorBoard
    tag to a scalar that is only logged. A term never calls ``backward()``.
    """

    def discriminator_terms(self, phase: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return {}, {}

    def generator_terms(self, phase: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return {}, {}

    networks_role: ClassVar[str] = "discriminator"
    """The optimiser role that trains the networks this term builds (``build_networks``)."""

    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        """Networks this term needs of its own, by name (a head on D's trunk, say); built after
        the step's, checkpointed and moved like them, and trained by ``networks_role``'s
        optimiser. The term keeps its own reference to them. Default: none."""
        return {}

    def lazy_intervals(self) -> dict[str, int]:
        """Roles this term regularises lazily, with the interval k (StyleGAN2): on steps
        divisible by k the term is its own optimiser step of that role, and the loop scales
        the role's learning rate by k/(k+1) and its Adam betas to β^(k/(k+1)). Empty (the
        default): the term is part of every step's phase. Steps that provide "adversarial"
        run lazy terms (``lazy_term_shares``)."""
        return {}


def lazy_ratio(terms: dict[str, LossTerm], role: str) -> float:
    """StyleGAN2's optimiser correction for lazy regularisation of ``role``: k/(k+1) per
    lazy term (1.0 when none), so lr and betas over k+1 optimiser steps match k plain ones."""
    ratio = 1.0
    for term in terms.values():
        interval = term.lazy_intervals().get(role, 1)
        if interval > 1:
            ratio *= interval / (interval + 1)
    return ratio


def lazy_term_shares(
    terms: dict[str, LossTerm], phase_name: str, step: int, phase: Any
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The shares of the terms that regularise ``phase_name`` lazily and are due at ``step``;
    the step minimises them as a separate optimiser step (empty when none is due)."""
    due = {
        name: term
        for name, term in terms.items()
        if (k := term.lazy_intervals().get(phase_name, 1)) > 1 and step % k == 0
    }
    losses: dict[str, Tensor] = {}
    stats: dict[str, Tensor] = {}
    if due:
        add_term_shares(due, phase_name, phase, losses, stats, lazy=True)
    return losses, stats


def add_term_shares(
    terms: dict[str, LossTerm],
    phase_name: str,
    phase: Any,
    losses: dict[str, Tensor],
    stats: dict[str, Tensor],
    *,
    lazy: bool = False,
) -> None:
    """Add every loss term's share of one phase to ``losses`` and ``stats``, in recipe order.

    ``phase_name`` is "discriminator" or "generator" (which method of each term to call). A
    loss name already in ``losses`` (two tables of one term, say) is a ``UserError`` naming
    the table; every step that has terms calls this rather than writing the loop again.
    Terms that regularise this phase lazily are left out (``lazy_term_shares`` runs them)
    unless ``lazy``.
    """
    from ganzoo.errors import UserError

    for name, term in terms.items():
        if not lazy and term.lazy_intervals().get(phase_name, 1) > 1:
            continue
        method = term.discriminator_terms if phase_name == "discriminator" else term.generator_terms
        extra, extra_stats = method(phase)
        clash = sorted(set(extra) & set(losses))
        if clash:
            raise UserError(
                f"train.terms.{name}: adds a loss named '{clash[0]}' that this phase already "
                "has (two tables of the same term?)"
            )
        losses.update(extra)
        stats.update(extra_stats)


@attrs.frozen
class TermBuild:
    """What a term factory gets besides its config."""

    name: str  # the recipe table's name: train.terms.<name>
    weight: float  # train.terms.<name>.weight
    latent: LatentSpace
    recipe: Recipe


@attrs.frozen
class StepBuild:
    """What a step factory gets besides its config."""

    loss: AdversarialLoss
    terms: dict[str, LossTerm]  # in recipe order
    latent: LatentSpace
    recipe: Recipe


class TrainingStep(abc.ABC):
    """One training step of a GAN family (see the module docstring)."""

    uses_labels: ClassVar[bool] = False
    """Batches carry labels (the dataset must have them); unconditional steps pay nothing."""
    progress_labels: ClassVar[dict[str, str]] = {}
    """Logged scalars shown on the progress line beside D's and G's totals: tag prefix ->
    short label (``{"mi_lower_bound/": "MI"}`` shows ``MI[digit] 2.29``)."""

    @abc.abstractmethod
    def build_networks(self, parts: NetworkParts) -> dict[str, nn.Module]:
        """Every network by name; ``"generator"`` maps latents ``[B, D]`` to images."""

    @abc.abstractmethod
    def parameters(self, role: str, networks: dict[str, nn.Module]) -> list[nn.Parameter]:
        """The parameters the optimiser of ``role`` updates."""

    @abc.abstractmethod
    def run(self, ctx: StepContext) -> None:
        """One training step: draw batches and latents, ``ctx.backward_step`` each role."""

    # -- optional capabilities -----------------------------------------------------------------
    def images_per_step(self, batch_size: int) -> int:
        """Real images one step consumes (for images/s)."""
        return batch_size

    def sampler(self, networks: dict[str, nn.Module]) -> nn.Module:
        """What maps latents ``[N, D]`` alone to images, for grids, evaluation and ``ganzoo
        sample``: the generator, or for a conditional step a module called as
        ``sampler(z, labels=None)`` that draws the given classes ``[N]`` (cycling through
        the classes when labels is None)."""
        return networks["generator"]

    def posterior(self, networks: dict[str, nn.Module], images: Tensor) -> Tensor | None:
        """What the model infers about the latent codes of ``images`` (``[N, P]``, laid out as
        ``LatentSpace`` posteriors), or None if it infers nothing. Used by evaluation."""
        return None

    def evaluate_during_training(
        self, system: GANSystem, test_data: ImageData | None, samples: int, generator: torch.Generator
    ) -> dict[str, float]:
        """Cheap numbers logged as ``eval/<tag>`` every ``train.eval_every`` steps."""
        return {}

    def tensorboard_layout(self) -> dict[str, dict[str, list[Any]]]:
        """Extra sections of TensorBoard's custom-scalars dashboard."""
        return {}


class StepContext:
    """What the loop hands a step: data, latents, precision, freezing and optimiser steps.

    ``networks`` are the callables to use in forwards (compiled when ``train.compile``).
    Scalars recorded here stay on the device; the loop reads them once per logging interval.
    """

    def __init__(
        self,
        *,
        networks: dict[str, nn.Module],
        latent: LatentSpace,
        batches: InMemoryBatches,
        batch_size: int,
        device: torch.device,
        optimizers: dict[str, torch.optim.Optimizer],
        role_parameters: dict[str, list[nn.Parameter]],
        scaler: torch.amp.GradScaler,
        autocast: Callable[[], contextlib.AbstractContextManager],
        memory_format: torch.memory_format,
        latent_generator: torch.Generator,
        average_gradients: Callable[[list[nn.Parameter]], None],
    ):
        self.networks = networks
        self.latent = latent
        self.batch_size = batch_size
        self.device = device
        self.step = 0
        self._batches = batches
        self._optimizers = optimizers
        self._role_parameters = role_parameters
        self._scaler = scaler
        self._autocast = autocast
        self._memory_format = memory_format
        self._latent_generator = latent_generator
        self._average_gradients = average_gradients
        self._stats: dict[str, Tensor] = {}

    def next_batch(self) -> Batch:
        """The next real batch from the checkpointed data stream."""
        images, labels = self._batches.next()
        return Batch(images.contiguous(memory_format=self._memory_format), labels)

    def sample_latent(self, batch: int | None = None) -> Tensor:
        """``[B, D]`` latents from the checkpointed latent stream (B: the recipe's batch size)."""
        return self.latent.sample(batch or self.batch_size, self._latent_generator, self.device)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The recipe's compute precision (``train.precision``)."""
        return self._autocast()

    @contextlib.contextmanager
    def frozen(self, parameters: Iterable[nn.Parameter]) -> Iterator[None]:
        """No gradients for ``parameters`` inside the block (a phase that only reads a network
        spends no backward work on it); restored afterwards, also on an error."""
        parameters = [p for p in parameters if p.requires_grad]
        for p in parameters:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in parameters:
                p.requires_grad_(True)

    def backward_step(self, role: str, terms: dict[str, Tensor]) -> Tensor:
        """Minimise the sum of ``terms`` (in their order) with ``role``'s optimiser; each term
        and the total are logged as ``loss/<role>/<name>``. Returns the total."""
        total = sum(terms.values())
        optimizer = self._optimizers[role]
        optimizer.zero_grad(set_to_none=True)
        self._scaler.scale(total).backward()
        self._average_gradients(self._role_parameters[role])
        self._scaler.step(optimizer)
        self._scaler.update()
        for name, value in terms.items():
            self._stats[f"loss/{role}/{name}"] = value.detach()
        self._stats[f"loss/{role}/total"] = total.detach()
        return total

    def record(self, stats: dict[str, Tensor]) -> None:
        """Scalars to log (averaged over each logging interval), e.g. ``d_output/real``."""
        for tag, value in stats.items():
            self._stats[tag] = value.detach()

    def take_stats(self) -> dict[str, Tensor]:
        stats, self._stats = self._stats, {}
        return stats
