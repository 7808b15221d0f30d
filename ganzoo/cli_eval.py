"""``ganzoo eval``: measure what a trained run learned (registered on the main command group)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganzoo.cli_options import device_option, ema_batch_norm_option, plugin_options, weights_option


def register(group: click.Group) -> None:
    """Add the evaluation commands to ``group``."""
    group.add_command(eval_command)


@click.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object (nothing else on stdout).")
@click.option("--samples", type=click.IntRange(min=64, max=1_000_000), default=5000, show_default=True, help="Generated samples per measurement.")
@device_option
@click.option("--metric", "metrics", multiple=True, metavar="NAME", help="Run only this metric (repeatable); default: every registered metric.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), help="Folder for PNGs (default: RUN_DIR/eval).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="Seed of the evaluation's random draws (0..2**32-1).")
@weights_option
@ema_batch_norm_option
@plugin_options
def eval_command(
    run: Path,
    as_json: bool,
    samples: int,
    device: str,
    metrics: tuple[str, ...],
    out: Path | None,
    seed: int,
    weights: str,
    ema_batch_norm: str | None,
    plugins: tuple[str, ...],
    strict_plugins: bool,
) -> None:
    """Measure what a trained run learned: RUN is a run directory (its newest valid
    checkpoint) or a checkpoint file.

    \b
    Categorical codes: Hungarian-matched accuracy and NMI of Q on the real test split,
    confusion matrix PNG; every code: MI lower bound on fresh samples; continuous codes:
    Spearman rho with slant/width/thickness (stroke datasets); the dataset's own classifier
    (trained by ganzoo on its training split, cached in ~/.cache/ganzoo) gives class
    consistency, Fréchet distance, precision/recall, density/coverage and, for conditional
    families, conditional accuracy and intra-class Fréchet distance, each beside its floor
    (real train vs test); fid_inception: FID/KID in TF-Inception features (extra [fid]).
    Metrics also go to TensorBoard in the run directory, with HParams (after a full
    evaluation) for comparing seeds and recipe variants.
    """
    import json
    import sys

    from ganzoo import api
    from ganzoo.evaluation import write_hparams
    from ganzoo.system import describe_weights

    def say(message: str) -> None:
        click.echo(message, err=True)

    run_obj = api.load_run(run, device, plugins=plugins, strict_plugins=strict_plugins, weights=weights,
                           ema_batch_norm=ema_batch_norm)
    loaded = run_obj.loaded
    for warning in loaded.warnings:
        click.secho(f"warning: {warning}", err=True, fg="yellow")
    for name in metrics:
        loaded.registry.get("metric", name)  # unknown names: a user error before any work
    out_dir = out if out is not None else loaded.run_dir / "eval"
    writer = _open_writer(loaded.run_dir, say)
    say(f"evaluating {loaded.checkpoint} (step {loaded.step}) on {loaded.device}")
    say(describe_weights(loaded.system, loaded.recipe))
    try:
        report = api.evaluate(
            run_obj,
            metrics=list(metrics) or None,
            samples=samples,
            out_dir=out_dir,
            writer=writer,
            seed=seed,
            log=say,
        )
    finally:
        if writer is not None:
            writer.close()
    if writer is not None and not metrics:  # only a full evaluation replaces the HParams record
        try:
            write_hparams(loaded.run_dir, loaded.recipe, report)
        except OSError as exc:
            say(f"warning: could not write TensorBoard HParams in {loaded.run_dir}: {exc}")
    if as_json:
        for name, info in report["metrics"].items():
            if info["status"] != "ok":
                click.secho(f"note: metric {name} {info['status']}: {info['reason']}", err=True, fg="yellow")
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    print_report(report)


def _open_writer(run_dir: Path, say: Any) -> Any:
    try:
        from ganzoo.tensorboard import open_writer

        return open_writer(run_dir)
    except OSError as exc:
        say(f"warning: not logging to TensorBoard in {run_dir}: {exc}")
        return None


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_report(report: dict[str, Any]) -> None:
    """The report as rich tables on stdout."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=False)
    console.print(
        f"[bold]{escape(report['recipe'])}[/bold] step {report['step']} · dataset "
        f"{escape(report['dataset'])} · {report['samples']} samples\n{escape(report['checkpoint'])}"
    )
    source, floor = report.get("summary_source", {}), report.get("floor", {})
    omitted = report.get("summary_omitted", {})
    summary = Table("summary", "value", "floor (real)", "from", box=None, pad_edge=False, title_justify="left")
    for key, value in report["summary"].items():
        if key not in omitted:
            summary.add_row(key, _fmt(value), _fmt(floor.get(key)), escape(source.get(key, "")))
    console.print(summary)
    by_reason: dict[str, list[str]] = {}
    for key, why in omitted.items():
        by_reason.setdefault(why, []).append(key)
    for why, keys in by_reason.items():
        console.print(f"[dim]left out {escape(', '.join(keys))}: {escape(why)}[/dim]")

    for name, code in report["codes"].items():
        kind = code.get("kind", "")
        what = kind if code.get("type") in (None, kind) else f"{code['type']}, {kind}"
        console.print(f"\n[bold]code {escape(name)}[/bold] ({escape(what)})")
        table = Table("measure", "value", box=None, pad_edge=False)
        for key in ("accuracy", "nmi", "mi_lower_bound", "entropy", "nll", "q_accuracy", "class_consistency", "generated_accuracy", "purity", "distinct_classes"):
            if key in code:
                table.add_row(key, _fmt(code[key]))
        if "q_rho" in code:
            table.add_row("q_rho (code vs Q's mean)", ", ".join(_fmt(v) for v in code["q_rho"]))
        if table.row_count:
            console.print(table)
        if "mapping" in code:
            names = code.get("class_names")
            pairs = [
                f"{k}→{names[v] if names and v < len(names) else v}" for k, v in code["mapping"].items()
            ]
            console.print("  matching (code value → class): " + escape(", ".join(pairs)))
        if "per_value" in code:
            per = code["per_value"]
            console.print(
                "  generated majority class (share): "
                + ", ".join(f"{k}:{v['majority_class']} ({v['share']:.2f})" for k, v in per.items())
            )
        if "factors" in code:
            factors = Table("Spearman rho (along a sweep)", *[f"dim {d}" for d in range(code.get("dims", 0))], "best", box=None, pad_edge=False)
            for prop, rhos in code["factors"].items():
                best = code["best"][prop]
                factors.add_row(prop, *[_fmt(r) for r in rhos], f"dim {best['dim']} (|rho| {best['abs_rho']:.3f})")
            for prop, rhos in code.get("factors_pooled", {}).items():
                factors.add_row(f"{prop} (pooled over draws)", *[_fmt(r) for r in rhos], "")
            console.print(factors)
        if "confusion_png" in code:
            console.print(f"  confusion matrix: {escape(code['confusion_png'])}")
    classifier = report.get("classifier")
    if classifier:
        acc = classifier.get("test_accuracy")
        origin = "trained now" if classifier.get("trained") else "cached"
        console.print(
            f"\n{escape(classifier.get('name') or 'classifier')}: test accuracy {_fmt(acc, 4)} ({origin}, "
            f"{_fmt(classifier.get('train_seconds'), 1)} s to train) {escape(str(classifier.get('cache', '')))}"
        )
    explained = {why.split(":", 1)[0] for why in omitted.values()}  # said under the summary
    for name, info in report["metrics"].items():
        if info["status"] != "ok" and (info["status"] == "failed" or name not in explained):
            console.print(f"[yellow]{name}: {info['status']}: {escape(info.get('reason', ''))}[/yellow]")
    timings = ", ".join(f"{n} {m['seconds']:.1f}s" for n, m in report["metrics"].items())
    console.print(f"[dim]{escape(timings)}[/dim]")
