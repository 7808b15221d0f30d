"""Latent codes and the latent space that stacks them into the generator's input.

A ``LatentCode`` is a distribution over a block of the generator's input. The same type
serves as plain noise or, when the recipe marks it ``regularized``, as an InfoGAN code whose
value Q must recover from the generated image; the recipe also gives its weight λ.
"""

from __future__ import annotations

import abc
import math

import attrs
import torch
from torch import Tensor


class LatentCode(abc.ABC):
    """One block of the generator's input.

    Subclasses set ``width`` (columns fed to G), ``posterior_size`` (outputs Q needs to
    describe its posterior for this code) and, for discrete codes, ``categories``.
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

    def real_data_information(self, posterior: Tensor, paired: Tensor | None = None) -> Tensor | None:
        """An information measure in nats from Q's posterior on a batch of *real* images
        (``[B, posterior_size]`` -> differentiable scalar), or None if the code has none.

        Without ``paired``: I(x; c), maximal when Q splits real data confidently and evenly
        (RIM). With ``paired`` (Q's posterior on transformed copies of the same images):
        I(c; c'), maximal when the split is also the same for both copies (IIC)."""
        return None


@attrs.frozen
class LatentEntry:
    name: str
    code: LatentCode
    regularized: bool
    weight: float
    columns: slice  # where this code sits in G's input
    posterior: slice  # where its parameters sit in Q's output (empty if not regularized)
    real_data_weight: float = 0.0  # weight of the real-data term (see LatentCode)
    invariance_weight: float = 0.0  # weight of the MI term on affine copies of G's images


class LatentSpace:
    """The ordered latent codes of a model: sampling, slicing and mutual-information terms."""

    def __init__(
        self,
        codes: list[tuple[str, LatentCode, bool, float]],
        real_data_weights: dict[str, float] | None = None,
        invariance_weights: dict[str, float] | None = None,
    ):
        real_data_weights = real_data_weights or {}
        invariance_weights = invariance_weights or {}
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
                    real_data_weights.get(name, 0.0) if regularized else 0.0,
                    invariance_weights.get(name, 0.0) if regularized else 0.0,
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

    @property
    def clusters_real_data(self) -> list[LatentEntry]:
        """Regularised codes with a real-data term."""
        return [e for e in self.entries if e.real_data_weight > 0]

    @property
    def invariant(self) -> list[LatentEntry]:
        """Regularised codes that must also be recovered from affine copies of G's images."""
        return [e for e in self.entries if e.invariance_weight > 0]

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

    def real_data_information(
        self, posterior: Tensor, paired: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Each real-data term's information measure (see ``LatentCode``), in nats."""
        out = {}
        for e in self.clusters_real_data:
            pair = paired[:, e.posterior] if paired is not None else None
            value = e.code.real_data_information(posterior[:, e.posterior], pair)
            if value is not None:
                out[e.name] = value
        return out

    def mutual_information_bounds(self, nll: dict[str, Tensor]) -> dict[str, Tensor]:
        """Variational lower bound of I(c; G(z, c)) = H(c) − E[−log Q(c|x)] per code."""
        out = {}
        for e in self.regularized:
            h = e.code.entropy()
            if h is not None:
                out[e.name] = h - nll[e.name].detach()
        return out


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
