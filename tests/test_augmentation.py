"""The random affine transform behind the categorical code's real-data term."""

from __future__ import annotations

import torch

from ganzoo_plugins.infogan.augmentation import random_affine


def _digit_like(batch: int = 8) -> torch.Tensor:
    images = torch.full((batch, 1, 28, 28), -1.0)  # background at -1, as ganzoo's pixels
    images[:, :, 6:22, 12:16] = 1.0  # an upright bar
    return images


def test_shape_dtype_and_background_are_kept():
    torch.manual_seed(0)
    images = _digit_like()
    out = random_affine(images)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert (out[:, :, 0, :] == -1).all() and (out[:, :, :, 0] == -1).all()  # borders stay blank
    assert out.min() >= -1 - 1e-5 and out.max() <= 1 + 1e-5


def test_each_sample_gets_its_own_transform_and_ink_survives():
    torch.manual_seed(0)
    images = _digit_like()
    out = random_affine(images)
    ink_before = (images + 1).sum(dim=(1, 2, 3))  # [B]
    ink_after = (out + 1).sum(dim=(1, 2, 3))
    # Scaling by at most 1.2 per axis changes the ink by at most 1.44×; nothing is lost at the edges.
    assert ((ink_after / ink_before) > 1 / 1.5).all() and ((ink_after / ink_before) < 1.5).all()
    differences = [(out[i] - out[0]).abs().sum().item() for i in range(1, 8)]
    assert all(d > 1.0 for d in differences), "samples must not share one transform"


def test_uses_the_global_rng_so_resumed_runs_replay_it():
    images = _digit_like()
    torch.manual_seed(3)
    a = random_affine(images)
    torch.manual_seed(3)
    b = random_affine(images)
    assert torch.equal(a, b)


def test_strength_scales_how_far_the_copies_move():
    from ganzoo_plugins.measures.digit_shape import slant

    images = _digit_like(256)
    torch.manual_seed(0)
    assert torch.allclose(random_affine(images, strength=0.0), images, atol=1e-5)  # identity
    spread = []
    for strength in (0.5, 1.0, 2.0):
        torch.manual_seed(0)  # the same random draws, scaled
        spread.append(slant(random_affine(images, strength=strength)).std().item())
    assert spread[0] < spread[1] < spread[2]
