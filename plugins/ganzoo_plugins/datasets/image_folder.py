"""A folder of your own images, loaded once into memory.

Every image under ``path`` (searched recursively) is converted to grey (``channels = 1``)
or RGB (``channels = 3``; transparency is composited over black), its shorter side resized
to ``size`` with antialiased bilinear filtering, and the centre ``size`` x ``size`` square
cropped. Images are taken in sorted path order. When every image sits in a subfolder, the
first-level subfolder names are the classes (sorted) and give the labels; otherwise the
data is unlabelled. There is no held-out part: the "test" split is the same images as
"train".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import attrs

from ganzoo import param

EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp")


@attrs.frozen
class ImageFolderConfig:
    """Images from a folder (recursively), resized and centre-cropped to squares."""

    path: str = param(help="folder of images: absolute, or relative to the current directory")
    size: int = param(64, "side of the square images after resize and centre crop", ge=8, le=1024)
    channels: Literal[1, 3] = param(3, "1: greyscale, 3: RGB")
    limit: int = param(0, "keep only the first N images in sorted order (0: all)", ge=0, le=10**9)


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder``, recursively, in sorted (relative path) order."""
    found = [
        p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file()
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def load_square(path: Path, size: int, channels: int) -> Any:
    """One image as a uint8 numpy array [size, size, channels]."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        if img.mode.startswith("I") or img.mode == "F":  # 16-bit or float greyscale
            values = np.asarray(img, dtype=np.float64)
            if values.max(initial=0.0) > 255.0:
                values = values / 257.0  # 16-bit range -> 8-bit
            img = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            img.alpha_composite(rgba)
        img = img.convert("L" if channels == 1 else "RGB")
    w, h = img.size
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR)  # antialiased when shrinking
    left, top = (new_w - size) // 2, (new_h - size) // 2
    img = img.crop((left, top, left + size, top + size))
    array = np.asarray(img, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def build(config: ImageFolderConfig, *, root: Path, split: str, download: bool) -> Any:
    import numpy as np
    import torch

    from ganzoo.data import DataUnavailable, ImageData
    from ganzoo_plugins.datasets._torchvision import apply_limit, check_split

    check_split(split)  # "test" is the same images as "train": a folder has no held-out part
    if not config.path:
        raise DataUnavailable("image_folder: data.path is empty; give the folder of images")
    folder = Path(config.path).expanduser()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataUnavailable(f"image_folder: {folder.absolute()} {what} (data.path)")
    paths = find_images(folder)
    if not paths:
        raise DataUnavailable(
            f"image_folder: no images found in {folder.absolute()} or its subfolders "
            f"(accepted extensions: {', '.join(EXTENSIONS)}, any case)"
        )

    labelled = all(len(p.relative_to(folder).parts) > 1 for p in paths)
    classes = sorted({p.relative_to(folder).parts[0] for p in paths}) if labelled else None
    paths = paths[: apply_limit(len(paths), config.limit)]

    images = np.empty((len(paths), config.size, config.size, config.channels), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            images[i] = load_square(path, config.size, config.channels)
        except Exception as exc:  # PIL's UnidentifiedImageError, truncated files, ...
            raise DataUnavailable(f"image_folder: could not read {path}: {exc}") from None

    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # [N, C, S, S]
    labels = None
    if classes is not None:
        index = {name: k for k, name in enumerate(classes)}
        labels = torch.tensor(
            [index[p.relative_to(folder).parts[0]] for p in paths], dtype=torch.int64
        )
    return ImageData(images=tensor, labels=labels, classes=classes)
