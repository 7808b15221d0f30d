"""shapes2d: dSprites's factor grid drawn by ganzoo: determinism, ranges, and that each
factor changes the image as it should."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import SMOKE_RECIPE
from ganzoo.plugins import load_plugins
from ganzoo.recipe import RecipeError, read_toml, resolve
from ganzoo.testing import check_image_data
from ganzoo_plugins.datasets import ganzoo_datasets
from ganzoo_plugins.datasets import shapes2d as s2d

SPEC = {s.name: s for s in ganzoo_datasets()}["shapes2d"]


def build(split="train", root="unused", **cfg):
    return SPEC.build(SPEC.config(**cfg), root=root, split=split, download=False)


def moments(images):
    """Ink area, centroid (x, y) and principal-axis angle of binary images [N, 1, S, S]."""
    w = images[:, 0].double() / 255
    s = w.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(s).double(), torch.arange(s).double(), indexing="ij")
    area = w.sum(dim=(1, 2))
    cx, cy = (w * xs).sum(dim=(1, 2)) / area, (w * ys).sum(dim=(1, 2)) / area
    dx, dy = xs - cx.view(-1, 1, 1), ys - cy.view(-1, 1, 1)
    mu20, mu02, mu11 = (
        (w * dx * dx).sum(dim=(1, 2)),
        (w * dy * dy).sum(dim=(1, 2)),
        (w * dx * dy).sum(dim=(1, 2)),
    )
    return area, cx, cy, 0.5 * torch.atan2(2 * mu11, mu20 - mu02)


def test_grid_is_dsprites_and_indices_round_trip():
    assert s2d.FACTOR_SIZES == (3, 6, 40, 32, 32) and s2d.GRID_SIZE == 737_280
    index = torch.tensor([0, 1, 32, 1024, 40960, 245760, s2d.GRID_SIZE - 1])
    factors = s2d.grid_factors(index)
    assert factors[1].tolist() == [0, 0, 0, 0, 1] and factors[2].tolist() == [0, 0, 0, 1, 0]
    assert factors[-1].tolist() == [2, 5, 39, 31, 31]
    assert torch.equal(s2d.grid_index(factors), index)
    values = s2d.factor_values()
    assert values["scale"][0] == 0.5 and values["scale"][-1] == 1.0
    assert values["orientation"][-1] == pytest.approx(2 * math.pi)


@pytest.mark.parametrize("size", [64, 32])
def test_subset_shapes_ranges_factors_and_determinism(size):
    data = build(size=size, count=300, seed=3)
    check_image_data(data)
    assert data.images.shape == (300, 1, size, size) and data.labels is None
    assert set(data.images.unique().tolist()) == {0, 255}  # binary, like dSprites
    values = data.factors.values()
    assert values.shape == (300, 5) and data.factors.names == s2d.FACTOR_NAMES
    assert (values.min(axis=0) >= 0).all() and (
        values.max(axis=0) < np.array(s2d.FACTOR_SIZES)
    ).all()
    assert torch.equal(data.images, s2d.render(values, size))  # the images are their factors'
    again = build(size=size, count=300, seed=3)
    assert torch.equal(again.images, data.images)
    other = build(split="test", size=size, count=300, seed=3)
    assert not np.array_equal(other.factors.values(), values)
    assert (data.images.flatten(1).sum(dim=1) > 0).all()  # every shape is visible


def test_x_and_y_shift_the_centroid():
    base = [2, 3, 7, 0, 16]
    xs = torch.tensor([base[:3] + [x, 16] for x in range(0, 32, 4)])
    ys = torch.tensor([base[:3] + [16, y] for y in range(0, 32, 4)])
    _, cx, cy, _ = moments(s2d.render(xs, 64))
    assert (cx.diff() > 0.8).all() and cy.std() < 0.1  # 32 positions over 0.6 of 64 px
    _, cx, cy, _ = moments(s2d.render(ys, 64))
    assert (cy.diff() > 0.8).all() and cx.std() < 0.1
    step = 0.6 * 64 / 31 * 4
    assert cy.diff().mean().item() == pytest.approx(step, rel=0.05)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_scale_changes_the_area_as_its_square(shape):
    factors = torch.tensor([[shape, sc, 5, 16, 16] for sc in range(6)])
    area, *_ = moments(s2d.render(factors, 64))
    assert (area.diff() > 0).all()
    assert (area[-1] / area[0]).item() == pytest.approx(4.0, rel=0.1)  # scale 1 vs 0.5


def test_orientation_rotates_the_ellipse_axis_and_changes_the_heart():
    angles = torch.arange(0, 10)  # 0 .. 9 of 40 steps of 2 pi / 39
    ellipse = torch.tensor([[1, 5, int(o), 16, 16] for o in angles])
    *_, theta = moments(s2d.render(ellipse, 64))
    expected = angles.double() * 2 * math.pi / 39
    assert torch.allclose(theta, expected, atol=0.05)  # the long axis turns with orientation
    heart = s2d.render(torch.tensor([[2, 5, o, 16, 16] for o in (0, 10, 20, 30, 39)]), 64)
    assert not torch.equal(heart[0], heart[1]) and not torch.equal(heart[1], heart[2])
    assert (heart[0] != heart[4]).sum() <= 2  # 0 and 2 pi coincide, as in dSprites
    area, *_ = moments(heart)
    assert area.std() / area.mean() < 0.03  # rotation keeps the area


def test_factors_sample_and_render_for_the_scores():
    data = build(size=32, count=100)
    rng = np.random.default_rng(0)
    drawn = data.factors.sample(1000, rng)
    assert drawn.shape == (1000, 5) and (drawn.max(axis=0) == np.array(s2d.FACTOR_SIZES) - 1).all()
    images = data.factors.render(drawn[:10])
    assert images.shape == (10, 1, 32, 32) and images.dtype == torch.uint8
    with pytest.raises(ValueError, match="orientation"):
        s2d.render(np.array([[0, 0, 40, 0, 0]]))


def test_whole_grid_is_cached_with_its_hash_and_rerendered_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setattr(s2d, "GRID_SIZE", 400)  # a small "grid" keeps the test fast
    first = build(root=tmp_path, size=32)
    files = list((tmp_path / "shapes2d").glob("shapes2d-32-*.pt"))
    assert len(files) == 1 and first.images.shape == (400, 1, 32, 32)
    calls = []
    monkeypatch.setattr(
        s2d, "render", lambda *a: calls.append(1) or torch.zeros(400, 1, 32, 32, dtype=torch.uint8)
    )
    assert torch.equal(build(root=tmp_path, size=32).images, first.images) and not calls  # cached
    saved = torch.load(files[0], weights_only=True)
    saved["images"][0, 0, 0, 0] ^= 255  # corrupt one pixel: the SHA-256 no longer matches
    torch.save(saved, files[0])
    build(root=tmp_path, size=32)
    assert calls  # rendered again


def test_config_refuses_other_sizes():
    raw = read_toml(SMOKE_RECIPE)
    raw["data"] = {"type": "shapes2d", "size": 48, "batch_size": 16}
    with pytest.raises(RecipeError, match="data.size"):
        resolve(raw, load_plugins(autoload="first-party").registry())
