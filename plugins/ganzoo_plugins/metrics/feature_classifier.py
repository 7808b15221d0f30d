"""A small CNN that ganzoo trains itself on each labelled dataset's training split.

One classifier per dataset (MNIST digits, Fashion-MNIST garments, any labelled dataset
plugin): it reads generated images (``class_consistency``, ``conditional_accuracy``) and
gives the feature space of the sample-quality metrics (``frechet_distance``,
``precision_recall``, ``density_coverage``, ``intra_class_frechet``). Nothing is downloaded:
the network is trained on the real training split in memory (Adam, no augmentation, fixed
seed; about a minute for MNIST on a laptop CPU) and cached as a weights-only checkpoint in
the user's cache folder (``$GANZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/ganzoo``, else
``~/.cache/ganzoo``), in a file named by the dataset and a hash of the training images and
labels, the training settings, the dataset name and the architecture version. Later
evaluations load it with ``torch.load(weights_only=True)``. Every message and report names
the dataset whose classifier it is ("fashion_mnist classifier").
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.data import ImageData, to_unit_range
from ganzoo.evaluation import EvalContext, Unavailable
from ganzoo_plugins.metrics.configs import ClassifierSettings

ARCH_VERSION = 1
FORMAT = "ganzoo-feature-classifier/1"
CACHE_ENV = "GANZOO_CACHE_DIR"
FEATURES = 128
trainings = 0  # how many classifiers this process trained (tests check cache hits with it)


class FeatureClassifier(nn.Module):
    """conv5(8)-pool-conv5(16)-pool-FC(128)-FC(classes), for any image size: a final
    adaptive pooling brings the maps to 7x7. Input: images in [-1, 1]."""

    def __init__(self, in_channels: int, classes: int):
        super().__init__()
        self.in_channels, self.classes = in_channels, classes
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 8, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7),
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(16 * 7 * 7, FEATURES), nn.ReLU(inplace=True))
        self.head = nn.Linear(FEATURES, classes)

    def features(self, images: Tensor) -> Tensor:  # [B, C, H, W] -> [B, 128] (penultimate)
        return self.fc(self.conv(images))

    def forward(self, images: Tensor) -> Tensor:  # [B, C, H, W] -> [B, classes] logits
        return self.head(self.features(images))


# -- cache -----------------------------------------------------------------------------------
def cache_dir() -> Path:
    """``$GANZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/ganzoo``, else ``~/.cache/ganzoo``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "ganzoo"
    return Path.home() / ".cache" / "ganzoo"


def classifier_name(dataset: str) -> str:
    """What messages and reports call the classifier of ``dataset``."""
    return f"{dataset} classifier"


def fingerprint(images: Tensor, labels: Tensor, settings: ClassifierSettings, dataset: str = "data") -> str:
    """sha256 of the dataset name, the training images and labels (bytes and shapes), the
    training settings and the architecture version."""
    h = hashlib.sha256()
    h.update(f"{FORMAT} arch={ARCH_VERSION} dataset={dataset} {settings!r} {tuple(images.shape)}".encode())
    h.update(images.contiguous().cpu().numpy().tobytes())
    h.update(labels.to(torch.int64).contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def cache_path(digest: str, dataset: str = "data") -> Path:
    """``CACHE/classifier/DATASET-archV-HASH.pt`` (the dataset name made file-safe)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset) or "data"
    return cache_dir() / "classifier" / f"{safe}-arch{ARCH_VERSION}-{digest[:24]}.pt"


# -- training and use ------------------------------------------------------------------------
def _subset(images: Tensor, labels: Tensor, limit: int) -> tuple[Tensor, Tensor]:
    if limit and limit < len(images):
        return images[:limit], labels[:limit]
    return images, labels


def train_classifier(
    images_u8: Tensor,
    labels: Tensor,
    classes: int,
    settings: ClassifierSettings = ClassifierSettings(),
    device: torch.device | str = "cpu",
    log: Callable[[str], None] | None = None,
    name: str = "classifier",
) -> FeatureClassifier:
    """Train on uint8 ``[N, C, H, W]`` images and int labels ``[N]``; deterministic for a
    seed (global random state untouched). In-memory batches, Adam with a linear decay.
    ``name`` prefixes the progress messages."""
    with torch.enable_grad():  # evaluation runs metrics under no_grad
        return _train(images_u8, labels, classes, settings, torch.device(device), log, name)


def _train(
    images_u8: Tensor,
    labels: Tensor,
    classes: int,
    settings: ClassifierSettings,
    device: torch.device,
    log: Callable[[str], None] | None,
    name: str,
) -> FeatureClassifier:
    global trainings
    images_u8, labels = _subset(images_u8, labels, settings.max_images)
    images = images_u8.to(device)
    labels = labels.to(device, torch.int64)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(settings.seed)
        model = FeatureClassifier(images.shape[1], classes).to(device)
    shuffle = torch.Generator().manual_seed(settings.seed + 1)
    batch = min(settings.batch_size, len(images))
    per_epoch = max(1, len(images) // batch)
    total = per_epoch * settings.epochs
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0 - s / total)
    model.train()
    start = time.perf_counter()
    for epoch in range(settings.epochs):
        order = torch.randperm(len(images), generator=shuffle).to(device)
        running = torch.zeros((), device=device)
        for i in range(per_epoch):
            index = order[i * batch : (i + 1) * batch]
            loss = F.cross_entropy(model(to_unit_range(images[index])), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            running += loss.detach()
        if log is not None:
            log(
                f"{name}: epoch {epoch + 1}/{settings.epochs}, "
                f"loss {float(running) / per_epoch:.4f} ({time.perf_counter() - start:.0f} s)"
            )
    trainings += 1
    return model.eval()


@torch.no_grad()
def run_batched(
    model: FeatureClassifier, images: Tensor, what: str = "logits", batch: int = 500
) -> Tensor:
    """Logits or penultimate ``features`` for images (uint8, or float in [-1, 1]), on the
    model's device, in eval mode; the result is on the CPU."""
    device = next(model.parameters()).device
    call = model.features if what == "features" else model
    out = []
    was = model.training
    model.eval()
    try:
        for chunk in images.split(batch):
            chunk = chunk.to(device)
            x = to_unit_range(chunk) if chunk.dtype == torch.uint8 else chunk.float()
            out.append(call(x).float().cpu())
    finally:
        model.train(was)
    return torch.cat(out)


def accuracy(model: FeatureClassifier, images: Tensor, labels: Tensor) -> float:
    predicted = run_batched(model, images).argmax(dim=1)
    return float((predicted == labels.cpu()).float().mean())


def _save(path: Path, model: FeatureClassifier, info: dict[str, Any]) -> None:
    from ganzoo.checkpoint import atomic_write_bytes

    payload = {
        "format": FORMAT,
        "arch_version": ARCH_VERSION,
        "in_channels": model.in_channels,
        "classes": model.classes,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        **info,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _load(path: Path, device: torch.device) -> tuple[FeatureClassifier, dict[str, Any]] | None:
    """The cached classifier, or None if the file is missing or unusable."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != FORMAT or payload.get("arch_version") != ARCH_VERSION:
            return None
        model = FeatureClassifier(int(payload["in_channels"]), int(payload["classes"]))
        model.load_state_dict(payload["state_dict"])
    except Exception:
        return None
    info = {k: v for k, v in payload.items() if k not in ("state_dict", "format")}
    return model.to(device).eval(), info


def load_or_train(
    train: ImageData,
    test: ImageData | None,
    settings: ClassifierSettings = ClassifierSettings(),
    device: torch.device | str = "cpu",
    log: Callable[[str], None] | None = None,
    dataset: str = "data",
) -> tuple[FeatureClassifier, dict[str, Any]]:
    """The classifier of ``dataset`` for this training data: from the cache, else trained,
    tested on ``test`` (if labelled) and cached. ``info``: dataset, name, test_accuracy,
    train_seconds, cache path, ``trained`` (whether this call trained it)."""
    name = classifier_name(dataset)
    if train.labels is None:
        raise Unavailable(f"the {dataset} training split has no labels to train the {name} on")
    device = torch.device(device)
    classes = int(train.labels.max()) + 1
    if train.classes:
        classes = max(classes, len(train.classes))
    digest = fingerprint(train.images, train.labels, settings, dataset)
    path = cache_path(digest, dataset)
    cached = _load(path, device)
    if cached is not None:
        model, info = cached
        return model, {**info, "dataset": dataset, "name": name, "cache": str(path), "trained": False}
    if log is not None:
        log(f"training the {name} on {len(train)} images (cached in {path})")
    start = time.perf_counter()
    model = train_classifier(train.images, train.labels, classes, settings, device, log, name)
    seconds = time.perf_counter() - start
    test_accuracy = None
    if test is not None and test.labels is not None and len(test):
        test_accuracy = accuracy(model, test.images, test.labels)
    info = {
        "dataset": dataset,
        "name": name,
        "classes": classes,
        "train_images": min(len(train), settings.max_images or len(train)),
        "epochs": settings.epochs,
        "test_accuracy": test_accuracy,
        "train_seconds": round(seconds, 2),
        "data_hash": digest,
    }
    try:
        _save(path, model, info)
    except OSError as exc:
        if log is not None:
            log(f"warning: could not cache the {name} in {path}: {exc.strerror or exc}")
    return model, {**info, "arch_version": ARCH_VERSION, "cache": str(path), "trained": True}


def classifier_for(ctx: EvalContext, settings: ClassifierSettings) -> tuple[Any, dict[str, Any]]:
    """The classifier for the run in ``ctx`` (shared by the metrics of one evaluation).

    A model already in ``ctx.cache["classifier"]`` (a ``(module, info)`` pair: a module
    with ``forward`` -> logits and ``features``) is used as is, which lets tests inject one.
    """
    if "classifier" not in ctx.cache:
        train = ctx.labelled(ctx.train_data, "train")
        try:
            test = ctx.test_data
        except Unavailable:
            test = None
        ctx.cache["classifier"] = load_or_train(train, test, settings, ctx.device, ctx.log, ctx.dataset_name)
    return ctx.cache["classifier"]


def classifier_report(info: dict[str, Any]) -> dict[str, Any]:
    keys = ("dataset", "name", "test_accuracy", "train_seconds", "epochs", "train_images", "classes", "cache", "trained")
    return {k: info.get(k) for k in keys if k in info}


# -- features shared by the sample-quality metrics of one evaluation --------------------------------
def test_features(ctx: EvalContext, settings: ClassifierSettings, limit: int = 0) -> tuple[Tensor, Tensor | None]:
    """Classifier features ``[N, F]`` and labels ``[N]`` (None if unlabelled) of the first
    ``limit`` (0: all) real test images; computed once per evaluation."""
    key = ("classifier_features", "test", limit)
    if key not in ctx.cache:
        model, _ = classifier_for(ctx, settings)
        data = ctx.test_data
        images, labels = data.images, data.labels
        if limit:
            images = images[:limit]
            labels = labels[:limit] if labels is not None else None
        ctx.cache[key] = (run_batched(model, images, "features", ctx.batch), labels)
    return ctx.cache[key]


def train_features(
    ctx: EvalContext, settings: ClassifierSettings, count: int | None = None
) -> tuple[Tensor, Tensor]:
    """Classifier features ``[n, F]`` and labels ``[n]`` of ``count`` (None: all) real
    training images drawn without replacement from their own seeded stream (the floor's
    stand-in for generated images: as many as there are samples)."""
    key = ("classifier_features", "train", count)
    if key not in ctx.cache:
        model, _ = classifier_for(ctx, settings)
        data = ctx.labelled(ctx.train_data, "train")
        n = len(data) if count is None else min(count, len(data))
        index = torch.randperm(len(data), generator=ctx.rng("floor"), device=ctx.device)[:n].cpu()  # [n]
        ctx.cache[key] = (run_batched(model, data.images[index], "features", ctx.batch), data.labels[index])
    return ctx.cache[key]


def generated_features(ctx: EvalContext, settings: ClassifierSettings) -> Tensor:
    """Classifier features ``[N, F]`` of the evaluation's shared generated samples."""
    key = ("classifier_features", "generated", ctx.samples)
    if key not in ctx.cache:
        model, _ = classifier_for(ctx, settings)
        _, images = ctx.generated()
        ctx.cache[key] = run_batched(model, images, "features", ctx.batch)
    return ctx.cache[key]


def source(info: dict[str, Any]) -> str:
    """The summary's "from" for a value measured in the classifier's features."""
    return f"{info.get('name') or 'classifier'} features"


def floor_stand_in(
    ctx: EvalContext, settings: ClassifierSettings, count: int | None = None
) -> tuple[Tensor, Tensor] | None:
    """:func:`train_features`, or None (said through ``ctx.say``) when the training split is
    not at hand: the metric is still measured, only without its floor."""
    try:
        return train_features(ctx, settings, count)
    except Unavailable as exc:
        ctx.say(f"no floor: {exc}")
        return None
