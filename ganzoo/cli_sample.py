"""``ganzoo sample`` (registered on the main command group). The work is in ganzoo.sampling."""

from __future__ import annotations

from pathlib import Path

import click

from ganzoo.cli_options import device_option, ema_batch_norm_option, plugin_options, weights_option


def register(group: click.Group) -> None:
    """Add the ``sample`` command to ``group``."""
    group.add_command(sample)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("run", metavar="RUN_DIR_OR_CHECKPOINT", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="PNG file to write (its folder is created).")
@click.option("--n", "n", type=click.IntRange(min=1, max=1024), help="Samples in the grid (default 64, at most 1024); with --traverse, rows (default 8, at most 64).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1), help="Seed for the latent draws (0..2**32-1): the same seed gives the same image.")
@click.option("--nrow", type=click.IntRange(min=1, max=1024), help="Images per grid row (default: about sqrt(n)).")
@device_option
@click.option(
    "--code",
    "codes",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fix a code: a category 0..K-1 for a categorical code, a number (or comma-separated "
    "numbers, e.g. style=0.5,-1) for a continuous one. Repeatable.",
)
@click.option(
    "--traverse",
    metavar="NAME[:DIM]",
    help="Sweep one code: every category of a categorical code, or dimension DIM (default 0) "
    "of a continuous one over --range in --steps columns. Rows are different draws.",
)
@click.option("--range", "span", nargs=2, type=float, default=(-2.0, 2.0), show_default=True, metavar="LOW HIGH", help="Sweep range for a continuous --traverse.")
@click.option("--steps", default=10, show_default=True, type=click.IntRange(min=2, max=64), help="Columns of a continuous --traverse (2..64).")
@click.option("--gif", type=click.Path(path_type=Path), help="With --traverse: also write an animated GIF, one frame per sweep value.")
@click.option("--label", type=click.IntRange(min=0), help="Class to draw, for a class-conditional run (an error on an unconditional one).")
@click.option("--frame-ms", default=250, show_default=True, type=click.IntRange(min=10, max=60_000), help="GIF frame duration in milliseconds.")
@weights_option
@ema_batch_norm_option
@plugin_options
def sample(
    run: Path,
    out: Path,
    n: int | None,
    seed: int,
    nrow: int | None,
    device: str,
    codes: tuple[str, ...],
    traverse: str | None,
    span: tuple[float, float],
    steps: int,
    gif: Path | None,
    frame_ms: int,
    label: int | None,
    weights: str,
    ema_batch_norm: str | None,
    plugins: tuple[str, ...],
    strict_plugins: bool,
) -> None:
    """Draw images from a trained generator; no dataset needed.

    RUN_DIR_OR_CHECKPOINT is a run directory (its newest valid checkpoint is used, damaged
    ones are skipped) or a .pt checkpoint.

    \b
    ganzoo sample runs/x --out grid.png --n 64 --seed 1
    ganzoo sample runs/x --out d3.png --code digit=3
    ganzoo sample runs/x --out digit.png --traverse digit
    ganzoo sample runs/x --out s.png --traverse style:1 --range -2 2 --steps 10 --gif s.gif
    ganzoo sample runs/cgan --out sevens.png --label 7
    """
    from ganzoo import api
    from ganzoo.errors import UserError
    from ganzoo.sampling import check_output, check_sample_options, from_loaded_run, run_sample

    # before any loading: options out of bounds are answered at once
    check_sample_options(n=n, seed=seed, nrow=nrow, span=span, steps=steps, traverse=traverse)

    if gif is not None and traverse is None:
        raise UserError("--gif needs --traverse NAME: the animation steps through the sweep")
    check_output(out, ".png", "--out")
    if gif is not None:
        check_output(gif, ".gif", "--gif")
    run_obj = api.load_run(
        run, device, plugins=plugins, strict_plugins=strict_plugins, networks=("generator",),
        weights=weights, ema_batch_norm=ema_batch_norm,
    )
    loaded = from_loaded_run(run_obj.loaded)
    for warning in loaded.warnings:
        click.secho(f"warning: {warning}", err=True, fg="yellow")
    if loaded.weights:  # only runs that keep a moving average have a choice to report
        click.echo(loaded.weights, err=True)
    result = run_sample(
        loaded,
        out,
        n=n,
        seed=seed,
        nrow=nrow,
        codes=codes,
        traverse=traverse,
        span=span,
        steps=steps,
        gif=gif,
        frame_ms=frame_ms,
        label=label,
    )
    width, height = result.size
    fixed = f", fixed {' '.join(codes)}" if codes else ""
    fixed += f", class {label}" if label is not None else ""
    if traverse is None:
        what = f"{result.images} samples, {result.rows}x{result.columns} grid"
    else:
        what = f"traversal of {traverse}, {result.rows} rows x {result.columns} columns"
    also = f" and {result.gif} ({result.frames} frames)" if result.gif else ""
    click.echo(
        f"wrote {result.png} ({what}, {width}x{height} px, seed {seed}{fixed}){also} "
        f"from {loaded.checkpoint} (step {loaded.step})"
    )
