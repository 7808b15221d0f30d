"""``ganzoo sample``: images from a trained generator, with codes fixed or swept.

Only the generator is rebuilt (from the recipe saved in the checkpoint), so no dataset is
needed. Latents are always drawn on the CPU from a generator seeded with ``--seed`` and then
moved to the device, so a seed gives the same latents on every machine; fixed codes replace
their columns *after* the draw, so changing one ``--code`` leaves every other value alone.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from ganzoo import checkpoint as ckpt
from ganzoo.errors import UserError, did_you_mean
from ganzoo.latent import LatentEntry, LatentSpace, traversal_latents

PADDING = 2
PAD_VALUE = 0.5


# -- loading ---------------------------------------------------------------------------------
@attrs.frozen
class LoadedGenerator:
    generator: nn.Module  # in eval mode, on ``device``
    latent: LatentSpace
    image_shape: tuple[int, int, int]
    checkpoint: Path
    step: int
    device: torch.device
    warnings: tuple[str, ...] = ()
    num_classes: int = 0  # of the training data
    conditional: bool = False  # the sampler is called as sampler(z, labels=None)
    weights: str = ""  # which weights of G it samples with, in words, for runs that keep an EMA


def is_conditional(system: Any) -> bool:
    """Whether a system's sampler draws given classes (``GANSystem.conditional``)."""
    return bool(system.conditional)


def check_labels(loaded: LoadedGenerator, labels: Sequence[int] | Tensor | int | None, n: int) -> Tensor | None:
    """``--label``/``labels=``: one class for every image, or one per image -> ``[n]`` int64."""
    if labels is None:
        return None
    if not loaded.conditional:
        raise UserError(
            "--label: this run's generator is unconditional (its step draws no classes); "
            "--label needs a class-conditional run, e.g. train.step.conditional = true"
        )
    values = torch.as_tensor(labels, dtype=torch.int64).flatten()
    if values.numel() == 1:
        values = values.expand(n).clone()
    if values.numel() != n:
        raise UserError(f"--label: give one class or one per image ({n}), got {values.numel()}")
    k = loaded.num_classes
    bad = [int(v) for v in values if not 0 <= int(v) < k] if k else []
    if bad:
        raise UserError(f"--label {bad[0]}: out of range; this run's data has {k} classes, valid values are 0..{k - 1}")
    return values


def load_generator(
    path: str | Path,
    device: torch.device,
    plugin_options: Sequence[str] = (),
    *,
    strict_plugins: bool = False,
    weights: str = "auto",
) -> LoadedGenerator:
    """Rebuild the generator and latent space of a run from its checkpoint (its EMA weights
    when the run kept them, unless ``weights`` is "raw")."""
    from ganzoo.system import load_system

    run = load_system(
        path, device, plugin_options, strict=strict_plugins, only=("generator",), weights=weights
    )
    return from_loaded_run(run)


def from_loaded_run(run: Any) -> LoadedGenerator:
    """The sampling view of a ``ganzoo.system.LoadedRun``."""
    from ganzoo.system import describe_weights

    system = run.system
    return LoadedGenerator(
        system.generator, system.latent, system.image_shape, run.checkpoint, run.step, run.device,
        tuple(run.warnings), int(system.num_classes), is_conditional(system),
        describe_weights(system, run.recipe) if system.ema is not None else "",
    )


# -- code options ----------------------------------------------------------------------------
def _entry(latent: LatentSpace, name: str, option: str) -> LatentEntry:
    names = [e.name for e in latent.entries]
    if name not in names:
        raise UserError(
            f"{option}: unknown code '{name}'{did_you_mean(name, names)}; "
            f"this model's codes: {', '.join(names)}"
        )
    return latent.entry(name)


def _describe(entry: LatentEntry) -> str:
    code = entry.code
    if code.categories is not None:
        return f"categorical with {code.categories} categories"
    return f"continuous with {code.width} dimension{'s' if code.width != 1 else ''}"


def code_value(entry: LatentEntry, text: str) -> Tensor:
    """The ``[width]`` block for ``--code NAME=TEXT``: a one-hot vector for a categorical code,
    the given numbers for a continuous one."""
    option = f"--code {entry.name}={text}"
    code = entry.code
    text = text.strip()
    if code.categories is not None:
        k = code.categories
        try:
            index = int(text)
        except ValueError:
            raise UserError(
                f"{option}: '{text}' is not a category; {entry.name} is categorical, "
                f"give an integer 0..{k - 1}"
            ) from None
        if not 0 <= index < k:
            raise UserError(
                f"{option}: category {index} is out of range; {entry.name} has {k} categories, "
                f"valid values are 0..{k - 1}"
            )
        return torch.nn.functional.one_hot(torch.tensor(index), k).float()
    parts = [p.strip() for p in text.split(",")]
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise UserError(f"{option}: '{part}' is not a number") from None
        if not math.isfinite(value) or abs(value) > MAX_SPAN:
            raise UserError(f"{option}: '{part}' is not a finite number within ±{MAX_SPAN:g}")
        values.append(value)
    if len(values) != code.width:
        example = ",".join(["0.5"] * code.width)
        raise UserError(
            f"{option}: {entry.name} is {_describe(entry)}; give {code.width} "
            f"comma-separated number{'s' if code.width != 1 else ''} (e.g. {entry.name}={example}), "
            f"got {len(values)}"
        )
    return torch.tensor(values, dtype=torch.float32)


def parse_codes(latent: LatentSpace, assignments: Sequence[str]) -> dict[str, Tensor]:
    """``["digit=2", "style=0.5,-1"]`` -> ``{name: [width] tensor}``."""
    fixed: dict[str, Tensor] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise UserError(f"--code {item}: expected NAME=VALUE, e.g. --code digit=3 or --code style=0.5,-1")
        entry = _entry(latent, name, f"--code {item}")
        if name in fixed:
            raise UserError(f"--code: '{name}' is given twice")
        fixed[name] = code_value(entry, value)
    return fixed


@attrs.frozen
class Traverse:
    """One of a code's own sweeps (``LatentCode.traversals``), picked by its label."""

    entry: LatentEntry
    sweep_label: str  # "" for a code with a single sweep (a categorical, a 1-d code)

    @property
    def label(self) -> str:
        return f"{self.entry.name}[{self.sweep_label}]" if self.sweep_label else self.entry.name

    def sweep(self, steps: int, span: tuple[float, float]) -> Tensor:
        """``[S, width]``: the code's values along this sweep."""
        sweeps = dict(self.entry.code.traversals(steps, (float(span[0]), float(span[1]))))
        return sweeps[self.sweep_label]


def varying_columns(sweep: Tensor) -> Tensor:
    """``[width]`` bool: the columns a sweep ``[S, width]`` changes. The others keep each
    row's drawn (or fixed) value, so a sweep of one dimension holds the rest of the code."""
    return (sweep != sweep[:1]).any(dim=0)


def parse_traverse(latent: LatentSpace, text: str, fixed: dict[str, Tensor] | None = None) -> Traverse:
    """``NAME`` or ``NAME:LABEL`` -> one of the code's own sweeps (``traversals()``): every
    category of a categorical code, one dimension of a continuous one (labels 0, 1, ...),
    or whatever sweeps a plugin code defines (a von Mises angle sweeps cos and sin together)."""
    name, sep, wanted = text.partition(":")
    name, wanted = name.strip(), wanted.strip()
    entry = _entry(latent, name, f"--traverse {text}")
    code = entry.code
    sweeps = code.traversals(3, (-1.0, 1.0))
    labels = [label for label, _ in sweeps]
    if not sep:
        label = labels[0] if labels else ""
    elif code.categories is not None and labels == [""]:
        raise UserError(
            f"--traverse {text}: {name} is categorical; it sweeps all {code.categories} "
            f"categories, give just --traverse {name}"
        )
    elif wanted in labels:
        label = wanted
    elif labels and all(lab.isdigit() for lab in labels) and wanted.lstrip("-").isdigit():
        raise UserError(
            f"--traverse {text}: dimension {wanted} is out of range; {name} has {code.width} "
            f"dimension{'s' if code.width != 1 else ''} (0..{code.width - 1})"
        )
    elif labels == [""]:
        raise UserError(f"--traverse {text}: {name} has one sweep; give just --traverse {name}")
    else:
        raise UserError(
            f"--traverse {text}: '{wanted}' is not one of {name}'s sweeps{did_you_mean(wanted, labels)}; "
            f"its sweeps: {', '.join(labels)}"
        )
    plan = Traverse(entry, label)
    if fixed and name in fixed and bool(varying_columns(plan.sweep(3, (-1.0, 1.0))).all()):
        raise UserError(f"--traverse {name}: {name} is also fixed with --code; give one or the other")
    return plan


# -- latents ---------------------------------------------------------------------------------
def sample_latents(latent: LatentSpace, n: int, seed: int, fixed: dict[str, Tensor] | None = None) -> Tensor:
    """``[n, D]`` on the CPU: every code drawn with ``seed``, then the fixed codes written in."""
    rng = torch.Generator(device="cpu").manual_seed(int(seed))
    z = latent.sample(n, rng, torch.device("cpu"))
    for name, value in (fixed or {}).items():
        z[:, latent.entry(name).columns] = value.to(z.dtype)
    return z


def sweep_latents(
    latent: LatentSpace,
    traverse: Traverse,
    rows: int,
    seed: int,
    fixed: dict[str, Tensor] | None,
    steps: int,
    span: tuple[float, float],
) -> tuple[Tensor, Tensor]:
    """``([rows * S, D], sweep [S, width])``, row-major: row r keeps draw r, column s the s-th
    value of the code's sweep. Columns the sweep does not change keep the row's value
    (drawn, or fixed with ``--code``)."""
    base = sample_latents(latent, rows, seed, fixed)  # [R, D]
    sweep = traverse.sweep(steps, span)  # [S, width]
    columns = traverse.entry.columns
    z = traversal_latents(base, columns, sweep)  # [R, S, D]
    held = torch.arange(columns.start, columns.stop)[~varying_columns(sweep)]
    z[:, :, held] = base[:, held].unsqueeze(1)
    return z.flatten(0, 1), sweep


# -- rendering -------------------------------------------------------------------------------
def render(loaded: LoadedGenerator, z: Tensor, labels: Tensor | None = None) -> Tensor:
    """Display images ``[N, C, H, W]`` in [0, 1] on the CPU (``labels [N]``: the classes a
    conditional sampler draws)."""
    from ganzoo.images import to_display

    generator = loaded.generator
    was_training = generator.training
    generator.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(z), 256):
                chunk = z[start : start + 256].to(loaded.device)  # [b, D]
                if labels is None:
                    out.append(generator(chunk).float())
                else:
                    out.append(generator(chunk, labels=labels[start : start + 256].to(loaded.device)).float())
    finally:
        generator.train(was_training)
    return to_display(torch.cat(out)).cpu()


def grid(images: Tensor, nrow: int) -> Tensor:
    from torchvision.utils import make_grid

    return make_grid(images, nrow=nrow, padding=PADDING, pad_value=PAD_VALUE)


def default_nrow(n: int) -> int:
    return int(max(1, round(n**0.5)))


def to_pil(image: Tensor) -> Any:
    """``[3, H, W]`` in [0, 1] -> PIL RGB image (rounded as torchvision's ``save_image``)."""
    from PIL import Image

    array = image.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()
    return Image.fromarray(array)


def png_bytes(image: Tensor) -> bytes:
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: Sequence[Tensor], frame_ms: int) -> bytes:
    """An endlessly looping GIF of ``[3, H, W]`` frames. A strip under each frame shows how far
    through the sweep it is (which also keeps Pillow from merging identical frames)."""
    from PIL import Image

    pictures = []
    count = len(frames)
    for i, frame in enumerate(frames):
        _, height, width = frame.shape
        strip = torch.full((3, 4, width), 0.25)
        filled = max(1, round(width * (i + 1) / count))
        strip[:, 1:3, :filled] = 1.0
        picture = to_pil(torch.cat([frame, strip], dim=1))
        pictures.append(picture.convert("P", palette=Image.Palette.ADAPTIVE, colors=256))
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(frame_ms),
        loop=0,
        disposal=1,
    )
    return buffer.getvalue()


def write_file(path: Path, data: bytes, option: str) -> None:
    """Create the folder and write via a temporary file and a rename."""
    try:
        ckpt.atomic_write_bytes(path, data)
    except OSError as exc:
        raise UserError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


def check_output(path: Path, suffix: str, option: str) -> None:
    if "\0" in str(path):
        raise UserError(f"{option} {str(path)!r}: a file name cannot contain a NUL character")
    if path.suffix.lower() != suffix:
        raise UserError(f"{option} {path}: the file name must end in {suffix}")
    if path.is_dir():
        raise UserError(f"{option} {path}: is a directory; give a file name ending in {suffix}")


# -- the command -----------------------------------------------------------------------------
@attrs.frozen
class SampleResult:
    png: Path
    size: tuple[int, int]  # width, height in pixels
    rows: int
    columns: int
    images: int
    gif: Path | None = None
    frames: int = 0


MAX_SAMPLES = 1024  # images in one grid (as train.sample_count)
MAX_TRAVERSAL_ROWS = 64  # draws in a traversal (as train.traversal_rows)
MAX_STEPS = 64  # columns of a continuous traversal (as train.traversal_steps)
MAX_SPAN = 1e6  # |value| a continuous code is swept to; far beyond any prior's support


def check_sample_options(
    *,
    n: int | None,
    seed: int,
    nrow: int | None,
    span: tuple[float, float],
    steps: int,
    traverse: str | None,
) -> None:
    """Bounds of ``ganzoo sample``'s numbers, so a typo cannot fill the memory or the disk."""
    from ganzoo.specs import SEED_MAX

    most = MAX_SAMPLES if traverse is None else MAX_TRAVERSAL_ROWS
    what = "samples in a grid" if traverse is None else "rows (draws) of a traversal"
    if n is not None and not 1 <= n <= most:
        raise UserError(f"--n: {what} must be from 1 to {most}, got {n}")
    if not 0 <= seed <= SEED_MAX:
        raise UserError(f"--seed must be from 0 to {SEED_MAX} (2**32-1), got {seed}")
    if nrow is not None and not 1 <= nrow <= MAX_SAMPLES:
        raise UserError(f"--nrow must be from 1 to {MAX_SAMPLES}, got {nrow}")
    if not 2 <= steps <= MAX_STEPS:
        raise UserError(f"--steps must be from 2 to {MAX_STEPS}, got {steps}")
    low, high = (float(v) for v in span)
    if not all(math.isfinite(v) and abs(v) <= MAX_SPAN for v in (low, high)):
        raise UserError(
            f"--range {low:g} {high:g}: both ends must be finite numbers within ±{MAX_SPAN:g}"
        )


def run_sample(
    loaded: LoadedGenerator,
    out: Path,
    *,
    n: int | None = None,
    seed: int = 0,
    nrow: int | None = None,
    codes: Sequence[str] = (),
    traverse: str | None = None,
    span: tuple[float, float] = (-2.0, 2.0),
    steps: int = 10,
    gif: Path | None = None,
    frame_ms: int = 250,
    label: int | None = None,
) -> SampleResult:
    """Write the sample (or traversal) grid to ``out`` and, for a traversal, the GIF."""
    out = Path(out)
    check_output(out, ".png", "--out")
    if gif is not None:
        gif = Path(gif)
        if traverse is None:
            raise UserError("--gif needs --traverse NAME: the animation steps through the sweep")
        check_output(gif, ".gif", "--gif")
    check_sample_options(n=n, seed=seed, nrow=nrow, span=span, steps=steps, traverse=traverse)
    fixed = parse_codes(loaded.latent, codes)
    if traverse is None:
        count = 64 if n is None else n
        columns = nrow if nrow is not None else default_nrow(count)
        if columns < 1:
            raise UserError(f"--nrow must be at least 1, got {columns}")
        z = sample_latents(loaded.latent, count, seed, fixed)
        picture = grid(render(loaded, z, check_labels(loaded, label, count)), columns)
        write_file(out, png_bytes(picture), "--out")
        shown = min(columns, count)
        return SampleResult(out, (picture.shape[2], picture.shape[1]), math.ceil(count / shown), shown, count)

    if nrow is not None:
        raise UserError("--nrow does not apply with --traverse: each row is one draw, each column one sweep value")
    plan = parse_traverse(loaded.latent, traverse, fixed)
    rows = 8 if n is None else n
    z, sweep = sweep_latents(loaded.latent, plan, rows, seed, fixed, steps, span)
    count = sweep.shape[0]
    images = render(loaded, z, check_labels(loaded, label, len(z)))  # [R * S, C, H, W]
    picture = grid(images, count)
    png = png_bytes(picture)
    gif_data = None
    if gif is not None:
        per_step = images.reshape(rows, count, *images.shape[1:])
        frames = [grid(per_step[:, s], default_nrow(rows)) for s in range(count)]
        gif_data = gif_bytes(frames, frame_ms)
    write_file(out, png, "--out")
    if gif is not None and gif_data is not None:
        write_file(gif, gif_data, "--gif")
    return SampleResult(
        out, (picture.shape[2], picture.shape[1]), rows, count, rows * count, gif, count if gif else 0
    )
