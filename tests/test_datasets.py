"""Tests for the first-party dataset plugins (ganzoo_plugins.datasets).

Factories are called through the spec objects the hook returns, as the core does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
from pathlib import Path

import attrs
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import mnist_root
from ganzoo.data import DataUnavailable, ImageData
from ganzoo.errors import UserError
from ganzoo_plugins.datasets import ganzoo_datasets

SPECS = {spec.name: spec for spec in ganzoo_datasets()}
MNIST_ROOT = mnist_root() or Path("/nonexistent")
COMMON_KEYS = {"root", "batch_size", "download"}


def build(name, split="train", root=None, download=False, **cfg):
    """Build dataset ``name`` through its spec, as the core does."""
    spec = SPECS[name]
    root = root or Path("unused")
    return spec.build(spec.config(**cfg), root=root, split=split, download=download)


# --------------------------------------------------------------------------- #
# The hook and the configs
# --------------------------------------------------------------------------- #


def test_hook_lists_every_dataset_with_lazy_factories():
    assert set(SPECS) == {"mnist", "fashion_mnist", "cifar10", "image_folder", "synthetic",
                          "shapes2d"}
    for spec in SPECS.values():
        assert isinstance(spec.factory, str) and spec.factory.startswith("ganzoo_plugins.datasets.")
        assert callable(spec.load_factory())
        assert spec.summary


def test_configs_build_with_defaults_and_avoid_common_keys():
    for name, spec in SPECS.items():
        names = {f.name for f in attrs.fields(spec.config)}
        assert not names & COMMON_KEYS, name
        for field in attrs.fields(spec.config):
            assert field.metadata.get("help"), f"{name}.{field.name} has no help"
        if name == "image_folder":
            with pytest.raises(TypeError):
                spec.config()  # path is required
            assert spec.config(path="x").size == 64
        else:
            spec.config()


def test_listing_datasets_does_not_import_torch():
    code = (
        "import sys, ganzoo_plugins.datasets as d; d.ganzoo_datasets(); "
        "heavy = [m for m in ('torch', 'torchvision', 'PIL') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_unknown_split_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="split"):
        build("synthetic", split="validation")
    with pytest.raises(UserError, match="split"):
        build("mnist", split="val", root=tmp_path)


# --------------------------------------------------------------------------- #
# synthetic
# --------------------------------------------------------------------------- #


def test_synthetic_shape_dtype_range_and_labels():
    data = build("synthetic", count=500, classes=7, size=20)
    assert isinstance(data, ImageData)
    assert data.images.dtype == torch.uint8 and data.images.shape == (500, 1, 20, 20)
    assert data.labels.dtype == torch.int64 and data.labels.shape == (500,)
    assert set(data.labels.tolist()) == set(range(7))
    assert data.classes is not None and len(data.classes) == 7
    assert data.images.max() == 255 and data.images.min() == 0
    # white strokes on a black background: mostly black, and black at the border
    assert (data.images == 0).float().mean() > 0.5
    border = torch.cat([data.images[..., 0, :], data.images[..., -1, :]], dim=-1)
    assert border.float().mean() < 1.0


def test_synthetic_is_deterministic_per_seed_and_differs_across_seeds_and_splits():
    a = build("synthetic", seed=3, count=64)
    b = build("synthetic", seed=3, count=64)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    c = build("synthetic", seed=4, count=64)
    assert not torch.equal(a.images, c.images)
    threads = torch.get_num_threads()
    test = build("synthetic", split="test", seed=3, count=64)
    assert torch.get_num_threads() == threads  # the one-thread section restores the setting
    assert not torch.equal(a.images, test.images)
    assert torch.equal(test.images, build("synthetic", split="test", seed=3, count=64).images)


def test_synthetic_rgb_and_sizes():
    data = build("synthetic", channels=3, size=64, count=32)
    assert data.images.shape == (32, 3, 64, 64)
    assert torch.equal(data.images[:, 0], data.images[:, 1])  # white strokes
    small = build("synthetic", size=8, count=16)
    assert small.images.shape == (16, 1, 8, 8) and small.images.max() > 0


def test_synthetic_is_fast():
    import time

    start = time.perf_counter()
    build("synthetic", count=2048, size=28)
    assert time.perf_counter() - start < 2.0  # typically ~0.1 s


def test_synthetic_classes_are_visually_distinct():
    train = build("synthetic", count=2000)
    test = build("synthetic", split="test", count=1000)
    flat = train.images.flatten(1).float() / 255
    means = torch.stack([flat[train.labels == k].mean(0) for k in range(10)])
    gaps = torch.cdist(means, means) + torch.eye(10) * 1e3
    assert gaps.min() > 0.5  # every pair of class-mean images differs clearly
    # a nearest-class-mean classifier, fitted on train, separates test classes (chance: 0.1)
    predicted = torch.cdist(test.images.flatten(1).float() / 255, means).argmin(1)
    assert (predicted == test.labels).float().mean() > 0.7


# --------------------------------------------------------------------------- #
# image_folder
# --------------------------------------------------------------------------- #


def _stripes(width: int, height: int) -> Image.Image:
    """Red, green, blue thirds along the longer side (left to right, or top to bottom)."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    view = array if width >= height else array.transpose(1, 0, 2)  # [short, long, 3]
    third = view.shape[1] // 3
    view[:, :third, 0] = 255
    view[:, third : 2 * third, 1] = 255
    view[:, 2 * third :, 2] = 255
    return Image.fromarray(array, "RGB")


def test_image_folder_resizes_and_centre_crops(tmp_path):
    _stripes(60, 20).save(tmp_path / "wide.png")
    _stripes(30, 90).save(tmp_path / "tall.jpg", quality=95)
    data = build("image_folder", path=str(tmp_path), size=10)
    assert data.images.shape == (2, 3, 10, 10) and data.images.dtype == torch.uint8
    assert data.labels is None and data.classes is None
    for image in data.images.float():  # the centre third (green) survives the crop
        red, green, blue = image.mean(dim=(1, 2))
        assert green > 200 and red < 70 and blue < 70


def test_image_folder_modes_sizes_and_labels_from_subfolders(tmp_path):
    (tmp_path / "b_dogs" / "deeper").mkdir(parents=True)
    (tmp_path / "a_cats").mkdir()
    Image.new("L", (12, 40), 200).save(tmp_path / "a_cats" / "grey.png")
    Image.new("RGBA", (50, 30), (255, 0, 0, 255)).save(tmp_path / "a_cats" / "alpha.PNG")
    Image.new("RGB", (33, 33), (0, 0, 255)).save(tmp_path / "b_dogs" / "one.bmp")
    Image.new("P", (16, 64), 3).save(tmp_path / "b_dogs" / "deeper" / "palette.gif")
    sixteen = Image.fromarray(np.full((20, 20), 65535, dtype=np.uint16))
    sixteen.save(tmp_path / "b_dogs" / "sixteen.png")
    (tmp_path / "b_dogs" / "notes.txt").write_text("not an image")

    data = build("image_folder", path=str(tmp_path), size=16, channels=3)
    assert data.images.shape == (5, 3, 16, 16)
    assert data.classes == ["a_cats", "b_dogs"]
    # sorted by path: a_cats/{alpha.PNG, grey.png}, b_dogs/{deeper/palette.gif, one.bmp,
    # sixteen.png}
    assert data.labels.tolist() == [0, 0, 1, 1, 1]
    assert data.images[0, 0].float().mean() == 255 and data.images[0, 1:].max() == 0  # red
    assert data.images[1].float().mean() == 200  # grey copied to all three channels
    assert data.images[4].min() == 255  # 16-bit white stays white

    grey = build("image_folder", path=str(tmp_path), size=8, channels=1, limit=3)
    assert grey.images.shape == (3, 1, 8, 8)
    assert grey.labels.tolist() == [0, 0, 1] and grey.classes == ["a_cats", "b_dogs"]

    test = build("image_folder", split="test", path=str(tmp_path), size=16)
    assert len(test) == 5  # the test split is the same images


def test_image_folder_transparency_becomes_black(tmp_path):
    Image.new("RGBA", (10, 10), (255, 255, 255, 0)).save(tmp_path / "clear.png")
    data = build("image_folder", path=str(tmp_path), size=8)
    assert data.images.max() == 0


def test_image_folder_empty_or_missing_folder_is_data_unavailable(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DataUnavailable) as info:
        build("image_folder", path=str(tmp_path))
    message = str(info.value)
    assert str(tmp_path) in message and ".png" in message and ".jpg" in message
    with pytest.raises(DataUnavailable, match="does not exist"):
        build("image_folder", path=str(tmp_path / "nowhere"))


def test_image_folder_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not really a png")
    with pytest.raises(DataUnavailable, match="broken.png"):
        build("image_folder", path=str(tmp_path))


# --------------------------------------------------------------------------- #
# torchvision datasets
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "folder", "expected_file"),
    [
        ("mnist", "MNIST/raw", "train-images-idx3-ubyte"),
        ("fashion_mnist", "FashionMNIST/raw", "t10k-labels-idx1-ubyte"),
        ("cifar10", "cifar-10-batches-py", "data_batch_1"),
    ],
)
def test_missing_files_without_download_say_where_and_how(
    tmp_path, name, folder, expected_file
):
    with pytest.raises(DataUnavailable) as info:
        build(name, root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / folder) in message
    assert expected_file in message
    assert "data.root" in message and "GANZOO_DATA_ROOT" in message and "download" in message
    assert "\n" not in message


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch):
    import torchvision.datasets

    def no_network(self):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
    with pytest.raises(DataUnavailable) as info:
        build("mnist", root=tmp_path, download=True)
    message = str(info.value)
    assert "Downloading failed" in message and "name resolution" in message
    assert str(tmp_path / "MNIST" / "raw") in message


def test_partly_missing_files_are_listed(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(DataUnavailable, match="missing: train-labels-idx1-ubyte, t10k-images"):
        build("mnist", root=tmp_path)


def test_unreadable_mnist_files_are_reported(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00")
    with pytest.raises(DataUnavailable, match="could not be read"):
        build("mnist", root=tmp_path)


needs_mnist = pytest.mark.skipif(
    mnist_root() is None,
    reason="real MNIST not found in $GANZOO_DATA_ROOT/MNIST/raw or ../shared/data/MNIST/raw",
)


@pytest.mark.mnist
@needs_mnist
def test_real_mnist_train_and_test():
    train = build("mnist", root=MNIST_ROOT)
    test = build("mnist", split="test", root=MNIST_ROOT)
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 1, 28, 28)
    assert train.labels.dtype == torch.int64 and set(train.labels.tolist()) == set(range(10))
    assert len(train.classes) == 10 and train.images.max() == 255
    assert train.images.is_contiguous()


@pytest.mark.mnist
@needs_mnist
def test_real_mnist_limit():
    full = build("mnist", split="test", root=MNIST_ROOT)
    part = build("mnist", split="test", root=MNIST_ROOT, limit=100)
    assert part.images.shape == (100, 1, 28, 28) and part.labels.shape == (100,)
    assert torch.equal(part.images, full.images[:100])
    assert torch.equal(part.labels, full.labels[:100])
