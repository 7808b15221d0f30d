"""Latent codes and the latent space that stacks them into the generator's input.

A ``LatentCode`` is a distribution over a block of the generator's input. The same type
serves as plain noise or, when the recipe marks it ``regularized``, as a code whose value the
training step must recover from the generated image (InfoGAN's Q, a BiGAN encoder); the
recipe also gives its weight λ.
"""

from __future__ import annotations

import abc
import math

import attrs
import torch
from torch import Tensor


class LatentCode(abc.ABC):
    """One block of the generator's input.

    Subclasses set ``width`` (columns fed to G), ``posterior_size`` (outputs a recovering
    network needs to describe its posterior for this code) and, for discrete codes, ``categories``.
    """

    width: int
    posterior_size: int
    categories: int | None = None

    @abc.abstractmethod
    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        """Draw ``[batch, width]`` values with the given random generator."""

    @abc.abstractmethod
    def log_likelihood(self, value: Tensor, posterior: Tensor) -> Tensor:
        """log Q(c | x) per sample: ``value [B, width]``, ``posterior [B, posterior_size]``
        (raw Q outputs, e.g. logits) -> ``[B]`` in nats."""

    def entropy(self) -> float | None:
        """H(c) in nats (differential entropy for continuous codes); None if undefined."""
        return None

    @abc.abstractmethod
    def traversals(self, steps: int, span: tuple[float, float]) -> list[tuple[str, Tensor]]:
        """Labelled sweeps for traversal images: each ``[S, width]``, one column per image."""

    def point_estimate(self, posterior: Tensor) -> Tensor:
        """The code value Q believes in most, ``[B, width]`` (argmax / mean)."""
        return posterior[:, : self.width]

    def confident_posterior(self, value: Tensor) -> Tensor | None:
        """Q outputs that put nearly all belief on ``value`` (for conformance checks), or None."""
        return None


@attrs.frozen
class LatentEntry:
    name: str
    code: LatentCode
    regularized: bool
    weight: float
    columns: slice  # where this code sits in G's input
    posterior: slice  # where its parameters sit in a posterior (empty if not regularized)


class LatentSpace:
    """The ordered latent codes of a model: sampling, slicing and code likelihoods."""

    def __init__(self, codes: list[tuple[str, LatentCode, bool, float]]):
        entries, column, post = [], 0, 0
        for name, code, regularized, weight in codes:
            size = code.posterior_size if regularized else 0
            entries.append(
                LatentEntry(
                    name,
                    code,
                    regularized,
                    weight,
                    slice(column, column + code.width),
                    slice(post, post + size),
                )
            )
            column += code.width
            post += size
        self.entries: list[LatentEntry] = entries
        self.width = column
        self.posterior_size = post

    @property
    def regularized(self) -> list[LatentEntry]:
        return [e for e in self.entries if e.regularized]

    def entry(self, name: str) -> LatentEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def sample(self, batch: int, generator: torch.Generator, device: torch.device) -> Tensor:
        """``[batch, width]``: every code drawn in order and concatenated."""
        return torch.cat([e.code.sample(batch, generator, device) for e in self.entries], dim=1)

    def negative_log_likelihoods(
        self, z: Tensor, posterior: Tensor, entries: list[LatentEntry] | None = None
    ) -> dict[str, Tensor]:
        """Mean −log Q(c|x) of each regularised code (or of ``entries``; unweighted)."""
        return {
            e.name: -e.code.log_likelihood(z[:, e.columns], posterior[:, e.posterior]).mean()
            for e in (self.regularized if entries is None else entries)
        }


def traversal_latents(base: Tensor, columns: slice, values: Tensor) -> Tensor:
    """The one traversal builder: ``base [R, D]`` draws with ``columns`` replaced by each row
    of ``values [S, width]`` -> ``[R, S, D]`` (row r keeps draw r, column s the s-th value).
    Image grids, ``ganzoo sample --traverse`` and the continuous-factor metric all use it."""
    steps = values.shape[0]
    z = base.unsqueeze(1).repeat(1, steps, 1)  # [R, S, D]
    z[:, :, columns] = values.to(base.device, base.dtype).unsqueeze(0)
    return z


def gaussian_log_likelihood(value: Tensor, mean: Tensor, log_std: Tensor | None) -> Tensor:
    """Factored Gaussian log density summed over columns: ``[B, D] -> [B]``.

    ``log_std=None`` means std fixed to 1 (the official InfoGAN code), which makes the term
    half a squared error plus a constant.
    """
    if log_std is None:
        return (-0.5 * (value - mean).pow(2) - 0.5 * math.log(2 * math.pi)).sum(dim=1)
    inv_var = torch.exp(-2 * log_std)
    return (-0.5 * (value - mean).pow(2) * inv_var - log_std - 0.5 * math.log(2 * math.pi)).sum(
        dim=1
    )
