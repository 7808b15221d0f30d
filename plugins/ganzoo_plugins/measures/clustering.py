"""Clustering measures for categorical latent codes.

An InfoGAN categorical code acts as an unsupervised clusterer: each code value
should pick out one digit class.  These functions compare predicted cluster
ids with true labels, independent of how the ids happen to be numbered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from scipy.optimize import linear_sum_assignment

__all__ = [
    "MatchResult",
    "confusion_image",
    "confusion_matrix",
    "matched_accuracy",
    "normalized_mutual_information",
    "render_confusion_png",
]


def _as_ids(values: Any, name: str) -> np.ndarray:
    """Convert a tensor / array / sequence of integer ids to a flat int64 array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values).reshape(-1)  # [N]
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold integer ids, got dtype {arr.dtype}")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer ids, got non-integral values")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative, got {int(arr.min())}")
    return arr


def _id_pair(predicted: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a (predicted, labels) pair of equal, non-zero length."""
    pred = _as_ids(predicted, "predicted")  # [N]
    lab = _as_ids(labels, "labels")  # [N]
    if pred.shape != lab.shape:
        raise ValueError(f"predicted has {pred.size} entries but labels has {lab.size}")
    if pred.size == 0:
        raise ValueError("predicted and labels are empty")
    return pred, lab


def confusion_matrix(
    predicted: Any,
    labels: Any,
    num_clusters: int | None = None,
    num_classes: int | None = None,
) -> np.ndarray:
    """Count matrix ``[clusters, classes]``: entry ``(k, c)`` counts samples with
    predicted cluster ``k`` and true label ``c``.

    ``num_clusters`` / ``num_classes`` default to ``max id + 1``; if given they
    must exceed every id present.
    """
    pred, lab = _id_pair(predicted, labels)
    k = int(pred.max()) + 1 if num_clusters is None else int(num_clusters)
    c = int(lab.max()) + 1 if num_classes is None else int(num_classes)
    if pred.max() >= k:
        raise ValueError(f"cluster id {int(pred.max())} >= num_clusters={k}")
    if lab.max() >= c:
        raise ValueError(f"label {int(lab.max())} >= num_classes={c}")
    flat = np.bincount(pred * c + lab, minlength=k * c)  # [K*C]
    return flat.reshape(k, c).astype(np.int64)  # [K, C]


@dataclass(frozen=True)
class MatchResult:
    """Result of a one-to-one cluster-to-label matching.

    ``mapping`` sends each matched cluster id to its label; clusters left
    unmatched (when there are more clusters than classes) are absent and all
    of their samples count as errors.
    """

    accuracy: float
    mapping: dict[int, int]
    confusion: np.ndarray = field(repr=False)  # [K, C] counts


def matched_accuracy(
    predicted: Any,
    labels: Any,
    num_clusters: int | None = None,
    num_classes: int | None = None,
) -> MatchResult:
    """Accuracy after the best one-to-one relabelling of clusters (Hungarian).

    Works for any numbers of clusters and classes: at most ``min(K, C)`` pairs
    are matched and every sample outside a matched pair counts as an error.
    """
    confusion = confusion_matrix(predicted, labels, num_clusters, num_classes)  # [K, C]
    rows, cols = linear_sum_assignment(confusion, maximize=True)  # [min(K,C)] each
    correct = int(confusion[rows, cols].sum())
    total = int(confusion.sum())
    mapping = {int(r): int(c) for r, c in zip(rows, cols, strict=True)}
    return MatchResult(accuracy=correct / total, mapping=mapping, confusion=confusion)


def _entropy(counts: np.ndarray) -> float:
    """Shannon entropy (nats) of a vector of counts."""
    p = counts[counts > 0].astype(np.float64)
    p /= p.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_information(predicted: Any, labels: Any) -> float:
    """NMI with arithmetic-mean normalisation, ``I(U;V) / ((H(U) + H(V)) / 2)``.

    Invariant to renaming cluster ids; in ``[0, 1]``.  If both partitions are
    a single group the result is 1.0; if only one is, it is 0.0 (no shared
    information), matching scikit-learn's conventions.
    """
    table = confusion_matrix(predicted, labels).astype(np.float64)  # [K, C]
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]  # drop empty ids
    if table.shape[0] == 1 and table.shape[1] == 1:
        return 1.0
    n = table.sum()
    p_joint = table / n  # [K, C]
    p_row = p_joint.sum(axis=1, keepdims=True)  # [K, 1]
    p_col = p_joint.sum(axis=0, keepdims=True)  # [1, C]
    nz = p_joint > 0
    mi = float((p_joint[nz] * np.log(p_joint[nz] / (p_row @ p_col)[nz])).sum())
    h_mean = 0.5 * (_entropy(table.sum(axis=1)) + _entropy(table.sum(axis=0)))
    if mi <= 0.0 or h_mean <= 0.0:
        return 0.0
    return float(min(max(mi / h_mean, 0.0), 1.0))


# --------------------------------------------------------------------------- #
# Rendering
# --------------------------------------------------------------------------- #

_LOW_RGB = np.array([255.0, 255.0, 255.0])
_HIGH_RGB = np.array([8.0, 48.0, 107.0])


def _format_count(value: float) -> str:
    """Cell text: integers plainly, other values with two significant digits."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2g}"


def _text_size(font: Any, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return int(right - left), int(bottom - top)


def _draw_centered(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    text: str,
    font: Any,
    fill: tuple[int, int, int],
) -> None:
    """Draw ``text`` centred inside ``box = (x0, y0, x1, y1)``."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (box[0] + box[2] - (right - left)) / 2 - left
    y = (box[1] + box[3] - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=fill)


def confusion_image(
    confusion: np.ndarray,
    row_label: str = "code value",
    col_label: str = "digit",
) -> np.ndarray:
    """Render a confusion matrix as an RGB heat map, ``[H, W, 3]`` uint8.

    Each cell is shaded by its row-normalised fraction (white = 0, dark blue =
    whole row) and shows the raw count; rows and columns carry their indices
    and axis titles.  The array can be saved with PIL or logged to TensorBoard
    (``dataformats="HWC"``).
    """
    conf = np.asarray(confusion, dtype=np.float64)  # [R, C]
    if conf.ndim != 2 or conf.shape[0] == 0 or conf.shape[1] == 0:
        raise ValueError(f"confusion must be a non-empty 2-D array, got shape {conf.shape}")
    if not np.all(np.isfinite(conf)) or conf.min() < 0:
        raise ValueError("confusion must hold finite, non-negative counts")
    n_rows, n_cols = conf.shape
    row_sums = conf.sum(axis=1, keepdims=True)  # [R, 1]
    frac = np.divide(conf, row_sums, out=np.zeros_like(conf), where=row_sums > 0)  # [R, C]

    font = ImageFont.load_default()
    texts = [[_format_count(v) for v in row] for row in conf]
    text_w = max(_text_size(font, t)[0] for row in texts for t in row)
    _, text_h = _text_size(font, "0123456789")
    cell = max(30, text_w + 10, text_h + 12)
    pad = 6

    row_idx_w = max(_text_size(font, str(i))[0] for i in range(n_rows))
    col_idx_h = text_h
    title_w, title_h = _text_size(font, col_label)
    rtitle_w, rtitle_h = _text_size(font, row_label)

    left = pad + rtitle_h + pad + row_idx_w + pad  # rotated row title, then indices
    top = pad + title_h + pad + col_idx_h + pad  # column title, then indices
    grid_w, grid_h = n_cols * cell, n_rows * cell
    width = max(left + grid_w + pad, left + title_w + pad)
    height = max(top + grid_h + pad, top + rtitle_w + pad)

    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)

    for r in range(n_rows):
        for c in range(n_cols):
            x0, y0 = left + c * cell, top + r * cell
            rgb = _LOW_RGB + (_HIGH_RGB - _LOW_RGB) * frac[r, c]  # [3]
            fill = tuple(int(round(v)) for v in rgb)
            draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=fill, outline=(200, 200, 200))
            ink = (255, 255, 255) if frac[r, c] > 0.5 else (0, 0, 0)
            _draw_centered(draw, (x0, y0, x0 + cell, y0 + cell), texts[r][c], font, ink)
        _draw_centered(
            draw, (left - pad - row_idx_w, top + r * cell, left - pad, top + (r + 1) * cell), str(r), font, (0, 0, 0)
        )
    for c in range(n_cols):
        x0 = left + c * cell
        _draw_centered(draw, (x0, top - pad - col_idx_h, x0 + cell, top - pad), str(c), font, (0, 0, 0))
    draw.rectangle((left - 1, top - 1, left + grid_w, top + grid_h), outline=(90, 90, 90))

    # Column title centred above the grid.
    _draw_centered(draw, (left, pad, left + grid_w, pad + title_h), col_label, font, (0, 0, 0))
    # Row title rotated to read bottom-to-top, centred beside the grid.
    label_img = Image.new("RGB", (rtitle_w + 4, rtitle_h + 4), (255, 255, 255))
    _draw_centered(ImageDraw.Draw(label_img), (0, 0, rtitle_w + 4, rtitle_h + 4), row_label, font, (0, 0, 0))
    label_img = label_img.rotate(90, expand=True)
    y_label = top + max(0, (grid_h - label_img.height) // 2)
    img.paste(label_img, (pad - 2, y_label))

    return np.asarray(img, dtype=np.uint8).copy()  # [H, W, 3]


def render_confusion_png(
    confusion: np.ndarray,
    path: str | PathLike[str],
    row_label: str = "code value",
    col_label: str = "digit",
) -> None:
    """Write :func:`confusion_image` of ``confusion`` to ``path`` as a PNG,
    creating the parent directory if needed."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pixels = confusion_image(confusion, row_label=row_label, col_label=col_label)  # [H, W, 3]
    Image.fromarray(pixels).save(out, format="PNG")
