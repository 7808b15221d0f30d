"""Tests for ganzoo_plugins.measures: each checks a known answer or a documented property."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch
import torch.nn.functional as F
from PIL import Image

from ganzoo_plugins.measures import (
    MatchResult,
    average_ranks,
    confusion_image,
    confusion_matrix,
    correlation_table,
    frechet_distance,
    frechet_from_stats,
    gaussian_stats,
    matched_accuracy,
    normalized_mutual_information,
    render_confusion_png,
    slant,
    spearman,
    thickness,
    width,
)

SIZE = 32


# --------------------------------------------------------------------------- #
# Synthetic digits (ink weights in [0, 1], background 0)
# --------------------------------------------------------------------------- #


def _bar(t: int, length: int = 20, size: int = SIZE) -> torch.Tensor:
    """Vertical bar, ``t`` pixels thick, centred: ink weights ``[H, W]``."""
    w = torch.zeros(size, size)
    top, left = (size - length) // 2, size // 2 - t // 2
    w[top : top + length, left : left + t] = 1.0
    return w


def _ring(radius_x: float = 6.0, radius_y: float = 9.0, t: float = 2.5, size: int = SIZE) -> torch.Tensor:
    """A "0": elliptical outline ``t`` pixels thick, centred: ``[H, W]``."""
    c = torch.arange(size, dtype=torch.float32) + 0.5 - size / 2
    ys, xs = torch.meshgrid(c, c, indexing="ij")
    outer = (xs / radius_x) ** 2 + (ys / radius_y) ** 2 <= 1.0
    inner = (xs / (radius_x - t)) ** 2 + (ys / (radius_y - t)) ** 2 <= 1.0
    return (outer & ~inner).float()


def _affine(w: torch.Tensor, theta: list[list[float]]) -> torch.Tensor:
    """Resample ink ``w [H, W]`` with an ``affine_grid`` matrix (output -> input coordinates)."""
    grid = F.affine_grid(torch.tensor([theta], dtype=torch.float32), [1, 1, *w.shape], align_corners=False)
    out = F.grid_sample(w[None, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[0, 0]  # [H, W]


def _shear(w: torch.Tensor, k: float) -> torch.Tensor:
    """Shear so the top moves right by ``k`` per unit of height (k > 0 leans right)."""
    return _affine(w, [[1.0, k, 0.0], [0.0, 1.0, 0.0]])


def _stretch_x(w: torch.Tensor, s: float) -> torch.Tensor:
    return _affine(w, [[1.0 / s, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _rotate(w: torch.Tensor, degrees: float) -> torch.Tensor:
    a = math.radians(degrees)
    return _affine(w, [[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])


def _images(inks: list[torch.Tensor]) -> torch.Tensor:
    """Stack ink weights into generator-style images ``[B, 1, H, W]`` in [-1, 1]."""
    return torch.stack(inks)[:, None] * 2.0 - 1.0


# --------------------------------------------------------------------------- #
# Clustering
# --------------------------------------------------------------------------- #


def test_confusion_matrix_counts() -> None:
    pred = torch.tensor([0, 0, 1, 2, 2, 2])
    lab = np.array([1, 1, 0, 0, 1, 1])
    conf = confusion_matrix(pred, lab)
    expected = np.array([[0, 2], [1, 0], [1, 2]])
    np.testing.assert_array_equal(conf, expected)
    big = confusion_matrix(pred, lab, num_clusters=5, num_classes=3)
    assert big.shape == (5, 3)
    assert big.sum() == 6
    with pytest.raises(ValueError):
        confusion_matrix(pred, lab, num_clusters=2)
    with pytest.raises(ValueError):
        confusion_matrix(pred, lab[:-1])


def test_confusion_counts_sum_to_n() -> None:
    rng = np.random.default_rng(0)
    pred, lab = rng.integers(0, 12, 5000), rng.integers(0, 10, 5000)
    conf = confusion_matrix(pred, lab)
    assert conf.shape == (12, 10)
    assert conf.sum() == 5000
    np.testing.assert_array_equal(conf.sum(axis=0), np.bincount(lab, minlength=10))
    np.testing.assert_array_equal(conf.sum(axis=1), np.bincount(pred, minlength=12))


def test_permuted_predictor_is_perfect() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 2000)
    perm = rng.permutation(10)
    predicted = torch.from_numpy(perm[labels])  # cluster id = perm[label]
    result = matched_accuracy(predicted, labels)
    assert isinstance(result, MatchResult)
    assert result.accuracy == 1.0
    assert result.mapping == {int(perm[c]): c for c in range(10)}
    assert normalized_mutual_information(predicted, labels) == pytest.approx(1.0, abs=1e-12)


def test_random_predictor_scores_low() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 10, 10_000)
    predicted = rng.integers(0, 10, 10_000)
    assert normalized_mutual_information(predicted, labels) < 0.05
    assert matched_accuracy(predicted, labels).accuracy < 0.2


def test_more_clusters_than_classes() -> None:
    # Label 0 split over clusters 0 and 3; label 1 -> cluster 1; label 2 -> cluster 2.
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    predicted = np.array([0, 0, 0, 3, 1, 1, 1, 2, 2, 2])
    result = matched_accuracy(predicted, labels)
    assert result.confusion.shape == (4, 3)
    assert result.mapping == {0: 0, 1: 1, 2: 2}  # cluster 3 is left unmatched
    assert result.accuracy == pytest.approx(0.9)


def test_fewer_clusters_than_classes() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2])
    predicted = np.array([1, 1, 0, 0, 0, 0])
    result = matched_accuracy(predicted, labels)
    assert result.mapping[1] == 0
    assert result.accuracy == pytest.approx(4 / 6)


def test_nmi_matches_known_value_and_is_symmetric() -> None:
    # Hand-computed: H(U) = H(V) = ln 2, I = ln 2 - H(1/4, 3/4) for this 2x2 table.
    pred = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    lab = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    expected = (math.log(2) - h) / math.log(2)
    assert normalized_mutual_information(pred, lab) == pytest.approx(expected, rel=1e-12)
    assert normalized_mutual_information(lab, pred) == pytest.approx(expected, rel=1e-12)


def test_nmi_degenerate_cases() -> None:
    labels = np.array([0, 1, 2, 0, 1, 2])
    single = np.zeros(6, dtype=np.int64)
    assert normalized_mutual_information(single, labels) == 0.0
    assert normalized_mutual_information(single, single) == 1.0
    # Unused cluster ids do not change anything.
    assert normalized_mutual_information(labels + 5, labels) == pytest.approx(1.0)


def test_clustering_rejects_bad_ids() -> None:
    with pytest.raises(ValueError):
        matched_accuracy(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError):
        normalized_mutual_information(np.array([-1, 0]), np.array([0, 1]))
    with pytest.raises(ValueError):
        matched_accuracy(np.array([], dtype=np.int64), np.array([], dtype=np.int64))


def test_confusion_png_written(tmp_path) -> None:
    conf = np.diag([5000, 4000, 3000]).astype(np.int64)
    conf[0, 1] = 12
    conf = np.vstack([conf, np.zeros((1, 3), dtype=np.int64)])  # [4, 3] with an empty row
    path = tmp_path / "sub" / "confusion.png"
    render_confusion_png(conf, path)
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.mode == "RGB"
        w, h = img.size
        pixels = np.asarray(img.convert("RGB"))
    assert 3 * 20 < w < 1000 and 4 * 20 < h < 1000
    np.testing.assert_array_equal(pixels, confusion_image(conf))


def test_confusion_image_shading_follows_row_fractions() -> None:
    empty = confusion_image(np.zeros((10, 10), dtype=np.int64))
    full = confusion_image(np.eye(10, dtype=np.int64) * 100)
    assert empty.dtype == np.uint8 and empty.ndim == 3 and empty.shape[2] == 3
    assert empty.shape == full.shape
    # Diagonal cells are fully shaded: many more dark-blue pixels than the zero matrix.

    def dark_blue(a: np.ndarray) -> int:
        return int(((a[..., 2] > 90) & (a[..., 0] < 40)).sum())

    assert dark_blue(full) > dark_blue(empty) + 10 * 100
    # A wider layout for more columns.
    assert confusion_image(np.ones((3, 12))).shape[1] > confusion_image(np.ones((3, 4))).shape[1]


# --------------------------------------------------------------------------- #
# Digit shape
# --------------------------------------------------------------------------- #


def test_slant_follows_shear_with_documented_sign() -> None:
    shears = [-0.4, -0.2, 0.0, 0.2, 0.4]
    bar = slant(_images([_shear(_bar(3), k) for k in shears]))
    ring = slant(_images([_shear(_ring(), k) for k in shears]))
    for measured in (bar, ring):
        assert torch.all(measured[1:] > measured[:-1])  # monotone increasing
        # Top pushed right by k per unit height -> slant == k (leaning right is positive).
        np.testing.assert_allclose(measured.numpy(), shears, atol=0.02)


def test_slant_sign_on_hand_drawn_diagonal() -> None:
    w = torch.zeros(SIZE, SIZE)
    for row in range(4, 28):
        col = 24 - (row - 4) // 2  # top rows sit further right: "/"
        w[row, col - 1 : col + 1] = 1.0
    value = slant(_images([w, w.flip(-1)]))
    assert value[0] == pytest.approx(0.5, abs=0.02)
    assert value[1] == pytest.approx(-0.5, abs=0.02)


def test_width_grows_with_horizontal_stretch() -> None:
    stretches = [1.0, 1.25, 1.5, 2.0]
    measured = width(_images([_stretch_x(_ring(), s) for s in stretches]))
    assert torch.all(measured[1:] > measured[:-1])
    # Roughly proportional to the stretch.
    np.testing.assert_allclose((measured / measured[0]).numpy(), stretches, rtol=0.05)


def test_width_nearly_unchanged_by_shear() -> None:
    base = _ring()
    measured = width(_images([base] + [_shear(base, k) for k in (-0.4, -0.2, 0.2, 0.4)]))
    np.testing.assert_allclose(measured[1:].numpy(), measured[0].item(), rtol=0.02)
    # Without deskewing, the raw horizontal spread of the sheared shape would grow by >5%.
    w = _shear(base, 0.4)
    xs = torch.arange(SIZE, dtype=torch.float32)
    col_mass = w.sum(0)
    cx = (col_mass * xs).sum() / col_mass.sum()
    raw = torch.sqrt(12 * (col_mass * (xs - cx) ** 2).sum() / col_mass.sum())
    assert raw > 1.05 * measured[0]


def test_width_of_uniform_band_is_exact() -> None:
    # An n-pixel-wide filled band has variance (n^2 - 1) / 12 -> width sqrt(n^2 - 1).
    measured = width(_images([_bar(n) for n in (2, 4, 6)]))
    np.testing.assert_allclose(measured.numpy(), [math.sqrt(n * n - 1) for n in (2, 4, 6)], rtol=1e-5)


def test_thickness_grows_with_stroke_thickness() -> None:
    measured = thickness(_images([_bar(t) for t in range(1, 6)]))
    assert torch.all(measured[1:] > measured[:-1])
    # ~ t * L / (t + L) for an open stroke of length L = 20.
    expected = [t * 20 / (t + 20) for t in range(1, 6)]
    np.testing.assert_allclose(measured.numpy(), expected, rtol=0.05)
    rings = thickness(_images([_ring(t=t) for t in (1.5, 2.5, 3.5)]))
    assert torch.all(rings[1:] > rings[:-1])


def test_thickness_roughly_rotation_invariant() -> None:
    # The 2x2-window outline counts diagonal edges at their true length.
    upright = thickness(_images([_bar(4)]))[0]
    turned = thickness(_images([_rotate(_bar(4), a) for a in (20.0, 45.0, 70.0)]))
    np.testing.assert_allclose(turned.numpy(), upright.item(), rtol=0.05)


def test_blank_images_give_zero() -> None:
    blank = -torch.ones(3, 1, 28, 28)
    mixed = torch.cat([blank[:1], _images([_bar(3, size=28)])])  # blank next to real ink
    for fn in (slant, width, thickness):
        out = fn(blank)
        assert out.shape == (3,)
        assert torch.all(torch.isfinite(out)) and torch.all(out == 0)
        both = fn(mixed)
        assert torch.isfinite(both).all() and both[0] == 0
    # Ink confined to one row: undefined shear -> 0, width still measured.
    line = torch.zeros(SIZE, SIZE)
    line[10, 5:15] = 1.0
    assert slant(_images([line]))[0] == 0
    assert width(_images([line]))[0] == pytest.approx(math.sqrt(99), rel=1e-5)


def test_shape_measures_are_batched_and_accept_3d() -> None:
    inks = [_shear(_bar(t), k) for t, k in ((1, 0.3), (3, -0.1), (5, 0.0))]
    batch = _images(inks)  # [3, 1, H, W]
    for fn in (slant, width, thickness):
        together = fn(batch)
        alone = torch.cat([fn(batch[i : i + 1]) for i in range(3)])
        torch.testing.assert_close(together, alone)
        torch.testing.assert_close(fn(batch[:, 0]), together)
        assert together.dtype == torch.float32
    with pytest.raises(ValueError):
        slant(torch.zeros(2, 3, 8, 8))


# --------------------------------------------------------------------------- #
# Rank correlation
# --------------------------------------------------------------------------- #


def test_spearman_monotone_relations() -> None:
    x = np.linspace(-3, 3, 50)
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert spearman(torch.from_numpy(x), torch.from_numpy(x**3)) == pytest.approx(1.0)
    assert spearman(x, -np.exp(2 * x)) == pytest.approx(-1.0)


def test_spearman_ties_and_constants() -> None:
    assert average_ranks([10, 20, 20, 30]).tolist() == [1.0, 2.5, 2.5, 4.0]
    a = [1, 2, 2, 3, 4, 4, 4, 5]
    b = [2, 1, 3, 3, 5, 4, 6, 6]
    assert spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a, b).statistic, abs=1e-12)
    assert spearman([1, 1, 1, 1], [1, 2, 3, 4]) == 0.0
    assert spearman([1, 2, 3], [7, 7, 7]) == 0.0
    assert spearman([1.0], [2.0]) == 0.0
    with pytest.raises(ValueError):
        spearman([1, 2, 3], [1, 2])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spearman_agrees_with_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=300)
    b = 0.5 * a + rng.normal(size=300)
    c = rng.integers(0, 6, 300)  # heavy ties
    assert spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a, b).statistic, abs=1e-12)
    assert spearman(c, b) == pytest.approx(scipy.stats.spearmanr(c, b).statistic, abs=1e-12)


def test_correlation_table() -> None:
    rng = np.random.default_rng(3)
    codes = torch.from_numpy(rng.uniform(-1, 1, size=(400, 3)))  # [N, C]
    props = {
        "slant": torch.tanh(2 * codes[:, 0]),  # monotone in code 0
        "width": -(codes[:, 2] ** 3),  # reversed in code 2
    }
    table = correlation_table(codes, props)
    assert set(table) == {"slant", "width"}
    assert all(len(row) == 3 for row in table.values())
    assert table["slant"][0] == pytest.approx(1.0)
    assert table["width"][2] == pytest.approx(-1.0)
    assert abs(table["slant"][1]) < 0.2 and abs(table["width"][0]) < 0.2
    with pytest.raises(ValueError):
        correlation_table(codes, {"bad": torch.zeros(10)})


# --------------------------------------------------------------------------- #
# Fréchet distance
# --------------------------------------------------------------------------- #


def test_frechet_self_distance_is_zero() -> None:
    rng = np.random.default_rng(4)
    feats = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    mu, sigma = gaussian_stats(feats)
    assert frechet_distance(feats, feats) <= 1e-6 * np.trace(sigma)
    assert frechet_distance(torch.from_numpy(feats).float(), torch.from_numpy(feats).float()) <= 1e-6 * np.trace(sigma)


def test_frechet_shifted_copy_is_mean_shift_squared() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(400, 8))
    shift = np.arange(8, dtype=np.float64) / 4
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_frechet_independent_gaussian_samples() -> None:
    rng = np.random.default_rng(6)
    shift = np.array([2.0, -1.0, 0.5, 0.0])
    a = rng.normal(size=(20_000, 4))
    b = rng.normal(size=(20_000, 4)) + shift
    assert frechet_distance(a, b) == pytest.approx(float(shift @ shift), abs=0.05)


def test_frechet_closed_form_from_stats() -> None:
    # Diagonal covariances: ||dmu||^2 + sum (sqrt(s_a) - sqrt(s_b))^2.
    mu_a, mu_b = np.array([0.0, 1.0]), np.array([3.0, -3.0])
    value = frechet_from_stats(mu_a, np.diag([1.0, 4.0]), mu_b, np.diag([9.0, 1.0]))
    assert value == pytest.approx(25.0 + 4.0 + 1.0, rel=1e-12)
    # General SPD covariances against a direct scipy.linalg.sqrtm evaluation.
    rng = np.random.default_rng(7)
    m, n = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    sa, sb = m @ m.T + 0.1 * np.eye(6), n @ n.T + 0.1 * np.eye(6)
    ma, mb = rng.normal(size=6), rng.normal(size=6)
    direct = np.sum((ma - mb) ** 2) + np.trace(sa + sb) - 2 * np.trace(scipy.linalg.sqrtm(sa @ sb).real)
    assert frechet_from_stats(ma, sa, mb, sb) == pytest.approx(direct, rel=1e-9)


def test_frechet_symmetric_positive_and_rank_deficient() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(size=(300, 5))
    b = rng.normal(size=(200, 5)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0]) + 0.3
    d_ab, d_ba = frechet_distance(a, b), frechet_distance(b, a)
    assert d_ab > 0.5
    assert d_ab == pytest.approx(d_ba, rel=1e-9)
    # Fewer samples than dimensions: singular covariances, still finite and >= 0.
    small_a, small_b = rng.normal(size=(10, 32)), rng.normal(size=(12, 32))
    value = frechet_distance(small_a, small_b)
    assert math.isfinite(value) and value > 0
    with pytest.raises(ValueError):
        frechet_distance(a, rng.normal(size=(10, 4)))
