"""Precision/recall, density/coverage and the kernel distance on constructed point sets whose
answers are known (by hand for a tiny case), and the chunking that bounds their memory."""

from __future__ import annotations

import pytest
import torch

from ganzoo_plugins.measures import (
    density_coverage,
    kernel_distance,
    kth_neighbour_radii,
    manifold_overlap,
    polynomial_mmd,
    precision_recall,
)
from ganzoo_plugins.measures import manifold as manifold_module


def _points(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).unsqueeze(1)  # [N, 1]


def test_a_tiny_case_by_hand():
    # real 0, 1, 3 (k = 1 radii: 1, 1, 2); fake 0.5, 5.5 (radii: 5, 5)
    real, fake = _points(0, 1, 3), _points(0.5, 5.5)
    assert kth_neighbour_radii(real, 1).tolist() == [1.0, 1.0, 2.0]
    assert kth_neighbour_radii(fake, 1).tolist() == [5.0, 5.0]
    precision, recall = precision_recall(real, fake, k=1)
    assert precision == 0.5  # 0.5 lies in the balls of 0 and 1; 5.5 is 2.5 from 3 (radius 2)
    assert recall == 1.0  # the fake balls (radius 5) hold every real point
    density, coverage = density_coverage(real, fake, k=1)
    assert density == 1.0  # (2 balls hold 0.5 + none holds 5.5) / (k = 1 x 2 fakes)
    assert coverage == pytest.approx(2 / 3)  # the balls of 0 and 1 hold a fake; 3's does not
    # a point exactly on a ball's boundary counts as inside
    assert precision_recall(real, _points(0.5, 5.0), k=1)[0] == 1.0


@pytest.mark.parametrize("k", [1, 3, 5])
def test_identical_sets(k):
    points = torch.randn(300, 6, generator=torch.Generator().manual_seed(k))
    overlap = manifold_overlap(points, points.clone(), k, k)
    assert overlap.precision == 1.0 and overlap.recall == 1.0 and overlap.coverage == 1.0
    # each point lies in its own ball and in those of the k points it is a neighbour of
    assert overlap.density == pytest.approx((k + 1) / k)


def test_two_samples_of_one_distribution():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(1500, 8, generator=g), torch.randn(1500, 8, generator=g)
    precision, recall = precision_recall(real, fake, k=3)
    density, coverage = density_coverage(real, fake, k=5)
    assert precision > 0.7 and recall > 0.7
    assert density == pytest.approx(1.0, abs=0.12)
    assert coverage > 0.9


def test_disjoint_far_apart_sets_score_zero():
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(200, 4, generator=g), torch.randn(200, 4, generator=g) + 100.0
    overlap = manifold_overlap(real, fake)
    assert (overlap.precision, overlap.recall, overlap.density, overlap.coverage) == (0, 0, 0, 0)


def _modes(count: int, modes: list[int], generator: torch.Generator) -> torch.Tensor:
    """``count`` points spread evenly over well-separated modes (centres 50 e_i in 10-D, each
    a 2-D Gaussian, so k-NN balls describe it well with a few hundred points)."""
    centres = 50.0 * torch.eye(10, dtype=torch.float64)[modes]  # [m, 10]
    which = torch.arange(count) % len(modes)
    spread = torch.zeros(count, 10, dtype=torch.float64)
    spread[:, :2] = torch.randn(count, 2, generator=generator, dtype=torch.float64)
    return centres[which] + spread


def test_a_generator_covering_half_the_modes():
    g = torch.Generator().manual_seed(2)
    real = _modes(2000, list(range(10)), g)
    every = manifold_overlap(real, _modes(2000, list(range(10)), g))
    half = manifold_overlap(real, _modes(2000, list(range(5)), g))
    assert every.recall > 0.95 and every.coverage > 0.95
    assert half.precision > 0.95  # what it draws looks real
    assert half.recall == pytest.approx(0.5, abs=0.03)
    assert half.coverage == pytest.approx(0.5, abs=0.03)
    assert half.density == pytest.approx(1.0, abs=0.15)  # within its modes it matches the data


def test_duplicated_fake_points_raise_density_and_lose_coverage():
    # a generator that replays 50 real images, each 20 times: every copy lies in its original's
    # ball and in those of the points it is a k-nearest neighbour of, (k + 1) / k on average
    g = torch.Generator().manual_seed(3)
    real = torch.randn(1000, 2, generator=g)
    spread = torch.randn(1000, 2, generator=g)
    copies = real[:50].repeat(20, 1)
    density_spread, coverage_spread = density_coverage(real, spread, k=5)
    density_copies, coverage_copies = density_coverage(real, copies, k=5)
    assert density_spread == pytest.approx(1.0, abs=0.1)
    assert density_copies == pytest.approx(6 / 5, abs=0.1) and density_copies > density_spread + 0.1
    assert coverage_copies < 0.3 < 0.9 < coverage_spread
    precision, recall = precision_recall(real, copies, k=3)
    assert precision == 1.0 and recall < 0.3  # real-looking, but few distinct images


def test_distances_come_in_chunks_and_chunking_does_not_change_results(monkeypatch):
    g = torch.Generator().manual_seed(4)
    real, fake = torch.randn(300, 5, generator=g), torch.randn(250, 5, generator=g) * 1.3
    whole = manifold_overlap(real, fake, chunk=10_000)
    shapes = []
    distances = manifold_module._distances

    def recording(a, b):
        shapes.append((len(a), len(b)))
        return distances(a, b)

    monkeypatch.setattr(manifold_module, "_distances", recording)
    chunked = manifold_overlap(real, fake, chunk=64)
    assert max(rows for rows, _ in shapes) <= 64  # never a full N x M matrix
    assert chunked == whole


def test_bad_point_sets_are_refused():
    with pytest.raises(ValueError, match="k must be in"):
        precision_recall(torch.randn(3, 2), torch.randn(3, 2), k=3)
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        density_coverage(torch.randn(5), torch.randn(5, 1))
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(torch.full((4, 2), float("nan")), torch.randn(4, 2), k=1)


def test_polynomial_mmd_by_hand():
    # k(x, y) = (x y + 1)^3 in 1-D: within a = 1, within b = 343, across = (1 + 1 + 27 + 64) / 4
    a, b = _points(0, 1), _points(2, 3)
    assert polynomial_mmd(a, b) == pytest.approx(1 + 343 - 2 * 93 / 4)


def test_kernel_distance_near_zero_for_one_distribution_large_for_two():
    g = torch.Generator().manual_seed(5)
    a, b = torch.randn(400, 16, generator=g), torch.randn(400, 16, generator=g)
    same, same_std = kernel_distance(a, b, subsets=20, subset_size=200, generator=g)
    shifted, _ = kernel_distance(a, b + 1.0, subsets=20, subset_size=200, generator=g)
    assert abs(same) < 0.05 and same_std >= 0
    assert shifted > 20 * max(abs(same), 0.01)
    again = kernel_distance(a, b, subsets=20, subset_size=200, generator=torch.Generator().manual_seed(9))
    assert again == kernel_distance(a, b, subsets=20, subset_size=200, generator=torch.Generator().manual_seed(9))
