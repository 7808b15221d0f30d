"""Train a recipe for several seeds, evaluate each run, and tabulate the results.

    python benchmarks/seeds_study.py recipes/infogan_dcgan.toml --seeds 1 2 3 4 5 \
        --out runs/study --parallel 1 [--set KEY=VALUE ...] [--variant NAME[@RECIPE]:KEY=VALUE,...]

A variant may name its own recipe (``cr@recipes/infogan_cr_shapes2d.toml:data.size=32``), so
two recipes at the same budget land side by side in one table.

For every (variant, seed): ``ganzoo run RECIPE --set seed=S`` into OUT/VARIANT/seed-S, then
``ganzoo eval --json`` (and, for runs that keep an EMA of G, the Frechet distance of G as
trained, ``--weights raw``). Writes OUT/results.json and OUT/results.md (per seed: categorical
accuracy, NMI, MI bound, slant/width |rho|, Frechet distance, MIG/DCI/SAP where the dataset
has factors, steps and minutes until the in-training accuracy first reached 0.95,
wall-clock; then mean, std, min, max per variant; then the Hungarian-matched confusion
matrix of each variant's median seed) and OUT/summary.md (a line per variant: mean ± sd of
every measured column, the README's tables). A finished run or evaluation is reused, so an interrupted study continues.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COLUMNS = [
    ("accuracy", "cat. accuracy"),
    ("nmi", "NMI"),
    ("mi_lower_bound", "MI bound (nats)"),
    ("slant_abs_rho", "slant |rho|"),
    ("width_abs_rho", "width |rho|"),
    ("frechet_distance", "Frechet dist."),
    ("frechet_distance_raw", "Frechet (raw G)"),
    ("mig", "MIG"),
    ("dci_disentanglement", "DCI dis."),
    ("dci_completeness", "DCI compl."),
    ("dci_informativeness", "DCI inf."),
    ("sap", "SAP"),
    ("factor_vae_score", "FactorVAE"),
    ("beta_vae_score", "BetaVAE"),
    ("steps_to_target", "steps to acc."),
    ("minutes_to_target", "min to acc."),
    ("train_seconds", "train (s)"),
]
# Columns no row of a study has (e.g. the EMA column of runs without an average) are left out.
TARGET_ACCURACY = 0.95


def time_to_accuracy(run_dir: Path, target: float = TARGET_ACCURACY) -> dict:
    """When the in-training accuracy (``eval/accuracy/<code>``, ``train.eval_every``) first
    reached ``target``: its step, and the minutes since the run's TensorBoard writer opened
    (wall-clock of this run as it ran, shared machine and resumes included)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    starts, curve = [], []
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        events = EventAccumulator(str(path), size_guidance={"scalars": 0})
        events.Reload()
        tags = sorted(events.Tags().get("scalars", []))
        if any(t.startswith("eval/summary/") for t in tags):
            continue  # written by `ganzoo eval` after training, on the whole test split
        starts.append(events.FirstEventTimestamp())
        accuracy = [t for t in tags if t.startswith("eval/accuracy/")]
        if accuracy:
            curve += events.Scalars(accuracy[0])
    if not curve:
        return {}
    for event in sorted(curve, key=lambda e: e.step):
        if event.value >= target:
            return {"steps_to_target": event.step,
                    "minutes_to_target": round((event.wall_time - min(starts)) / 60, 2)}
    return {"steps_to_target": "never", "minutes_to_target": None}


def _ganzoo(*args: str, log: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ganzoo", *args]
    if log is None:
        return subprocess.run(cmd, capture_output=True, text=True)
    with open(log, "a") as handle:
        return subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, text=True)


def _keeps_average(run_dir: Path) -> bool:
    """Whether the run kept a moving average of G (its recorded ``train.ema_decay`` > 0)."""
    try:
        recipe = tomllib.loads((run_dir / "recipe.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return float(recipe.get("train", {}).get("ema_decay", 0.0)) > 0


def _raw_frechet(run_dir: Path, device: str, eval_samples: int) -> dict:
    """The Frechet distance of the same checkpoint's G as trained (``--weights raw``), to set
    beside the EMA's: the average's effect with everything else equal."""
    raw = _ganzoo("eval", str(run_dir), "--json", "--device", device, "--samples",
                  str(eval_samples), "--weights", "raw", "--metric", "frechet_distance")
    if raw.returncode != 0:
        return {}
    return {"frechet_distance_raw": json.loads(raw.stdout)["summary"].get("frechet_distance")}


def run_one(recipe: str, variant: str, overrides: list[str], seed: int, out: Path,
            device: str, eval_samples: int) -> dict:
    run_dir = out / variant / f"seed-{seed}"
    result_file = run_dir / "study.json"
    if result_file.exists():
        row = json.loads(result_file.read_text())
        if "frechet_distance_raw" not in row and _keeps_average(run_dir):
            row.update(_raw_frechet(run_dir, device, eval_samples))
            result_file.write_text(json.dumps(row, indent=2))
        return rescore(row, run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    log = out / variant / f"seed-{seed}.log"
    sets = [x for o in [*overrides, f"seed={seed}"] for x in ("--set", o)]
    checkpoints = sorted((run_dir / "checkpoints").glob("step_*.pt"))
    started = time.perf_counter()
    if checkpoints:
        done = _ganzoo("run", "--resume", str(run_dir), "--device", device, log=log)
    else:
        done = _ganzoo("run", recipe, "--out", str(run_dir), "--overwrite", "--device", device,
                       *sets, log=log)
    train_seconds = time.perf_counter() - started
    interrupted = done.returncode in (130, 143)  # SIGINT/SIGTERM: checkpoint saved, evaluate it
    if done.returncode != 0 and not interrupted:
        return {"variant": variant, "seed": seed, "error": f"training failed, see {log}"}
    evaluated = _ganzoo("eval", str(run_dir), "--json", "--device", device,
                        "--samples", str(eval_samples))
    if evaluated.returncode != 0:
        return {"variant": variant, "seed": seed, "error": evaluated.stderr.strip()[-500:]}
    report = json.loads(evaluated.stdout)
    row = {"variant": variant, "seed": seed, "step": report["step"],
           "train_seconds": round(train_seconds, 1), **report["summary"], "codes": report["codes"],
           "generator_weights": report.get("generator_weights"),
           "threads": os.environ.get("OMP_NUM_THREADS", "torch default")}
    if row["generator_weights"] == "ema":
        row.update(_raw_frechet(run_dir, device, eval_samples))
    if not interrupted:  # an interrupted run is evaluated again once resumed
        result_file.write_text(json.dumps(row, indent=2))
    return rescore(row, run_dir)


def rescore(row: dict, run_dir: Path | None = None) -> dict:
    """A cached row with its shape columns derived again from its per-code ρ tables, so an
    older study follows the current matching of properties to code dimensions
    (``ganzoo_plugins.metrics.continuous_factors.assign_shape_properties``) without retraining or re-evaluating,
    and its time to accuracy read from the run's TensorBoard events."""
    from ganzoo_plugins.metrics.continuous_factors import SHAPE_PROPERTIES, assign_shape_properties

    if run_dir is not None and run_dir.is_dir():
        row.update(time_to_accuracy(run_dir))
    if "codes" not in row:
        return row
    assigned = assign_shape_properties(row["codes"])
    for prop in SHAPE_PROPERTIES:
        row[f"{prop}_abs_rho"] = assigned[prop][0] if prop in assigned else None
    return row


def aggregate(rows: list[dict]) -> dict:
    stats = {}
    for key, _ in COLUMNS:
        values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
        if values:
            stats[key] = {
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "min": min(values),
                "max": max(values),
                "n": len(values),
            }
    return stats


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("" if value is None else str(value))


def confusion_markdown(row: dict) -> str | None:
    """The Hungarian-matched confusion matrix of a row's first categorical code, as Markdown.

    One line per true class, one column per class that a code value was matched to (the
    columns follow the classes' order, so the diagonal is each class's share of correctly
    clustered test images); each cell is the share of that class's test images, so a line sums
    to 1 over the matched values plus, when the code has more values than there are classes,
    an "unmatched" column."""
    for code in (row.get("codes") or {}).values():
        counts = code.get("confusion")  # [K code values][C classes]
        if not counts:
            continue
        classes = len(counts[0])
        names = code.get("class_names") or [str(c) for c in range(classes)]
        value_of = {int(c): int(k) for k, c in code.get("mapping", {}).items()}  # class -> value
        unmatched = [k for k in range(len(counts)) if k not in value_of.values()]
        header = ["true class", *names] + (["unmatched"] if unmatched else [])
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for c in range(classes):
            total = sum(counts[k][c] for k in range(len(counts))) or 1
            cells = [f"{counts[value_of[p]][c] / total:.2f}" if p in value_of else "" for p in range(classes)]
            if unmatched:
                cells.append(f"{sum(counts[k][c] for k in unmatched) / total:.2f}")
            lines.append(f"| {names[c]} | " + " | ".join(cells) + " |")
        return "\n".join(lines)
    return None


def median_row(rows: list[dict]) -> dict | None:
    """The row of the median categorical accuracy (the upper of the two middle ones)."""
    scored = sorted((r for r in rows if isinstance(r.get("accuracy"), (int, float))), key=lambda r: r["accuracy"])
    return scored[len(scored) // 2] if scored else None


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; command: `{results['command']}`",
             f"Steps/min to acc.: the first in-training evaluation with categorical accuracy "
             f">= {TARGET_ACCURACY} (test subset), and the minutes the run had taken by then.", ""]
    columns = [(k, label) for k, label in COLUMNS
               if any(row.get(k) is not None for row in results["runs"])]
    header = "| variant | seed | step | " + " | ".join(label for _, label in columns) + " |"
    lines += [header, "|" + "---|" * (len(columns) + 3)]
    for row in results["runs"]:
        if "error" in row:
            lines.append(f"| {row['variant']} | {row['seed']} | failed: {row['error'][:80]} |")
            continue
        lines.append(f"| {row['variant']} | {row['seed']} | {row.get('step', '')} | "
                     + " | ".join(_fmt(row.get(k)) for k, _ in columns) + " |")
    for variant, stats in results["summary"].items():
        for name in ("mean", "std", "min", "max"):
            cells = [_fmt(stats[k][name]) if k in stats else "" for k, _ in columns]
            lines.append(f"| {variant} | **{name}** | | " + " | ".join(cells) + " |")
    for variant in results["summary"]:
        row = median_row([r for r in results["runs"] if r.get("variant") == variant and "error" not in r])
        table = confusion_markdown(row) if row else None
        if table:
            lines += ["", f"Confusion matrix of {variant}, seed {row['seed']} (the median categorical "
                          f"accuracy, {row['accuracy']:.3f}): a line per true class, a column per class that a value "
                          "of the code was matched to, each cell the share of that class's test images:", "", table]
    return "\n".join(lines) + "\n"


# what a run costs is in results.md; the README's compact table keeps what it measured
COST_COLUMNS = {"steps_to_target", "minutes_to_target", "train_seconds"}


def summary_markdown(results: dict) -> str:
    """The README's table: a line per variant, ``mean ± sd`` over its seeds of every measured
    column (the per-seed rows, costs and confusion matrices are in results.md)."""
    from zoo_study import _mean_sd  # one formatting of a spread for both studies' tables

    columns = [(k, label) for k, label in COLUMNS if k not in COST_COLUMNS
               and any(k in stats for stats in results["summary"].values())]
    header = ["variant", "recipe", "seeds", *(label for _, label in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant, stats in results["summary"].items():
        seeds = sorted(r["seed"] for r in results["runs"] if r.get("variant") == variant and "error" not in r)
        recipe = Path(results.get("recipes", {}).get(variant, results["recipe"])).stem
        cells = [_mean_sd(stats.get(k)) for k, _ in columns]
        lines.append(f"| {variant} | `{recipe}` | {', '.join(map(str, seeds))} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--out", type=Path, default=Path("runs/seeds-study"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME[@RECIPE]:KEY=VALUE,KEY=VALUE (extra overrides for one variant, and its "
                             "recipe when it is not RECIPE); repeatable")
    parser.add_argument("--parallel", type=int, default=1, help="runs at a time")
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP_NUM_THREADS of every run (default: 1 when --parallel > 1, else "
                        "inherited); CPU runs agree bit for bit only at equal thread counts")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--eval-samples", type=int, default=10000)
    args = parser.parse_args(argv)

    if args.threads is None and args.parallel > 1:
        args.threads = 1
    if args.threads:  # the ganzoo subprocesses inherit it; torch's CPU kernels split work by it
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    variants = {"default": []}
    recipes = {"default": args.recipe}
    if args.variant:
        variants, recipes = {}, {}
        for spec in args.variant:
            name, _, sets = spec.partition(":")
            name, _, recipe = name.partition("@")
            variants[name] = [s for s in sets.split(",") if s]
            recipes[name] = recipe or args.recipe
    jobs = [(v, extra, seed) for v, extra in variants.items() for seed in args.seeds]
    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        rows = list(pool.map(
            lambda job: run_one(recipes[job[0]], job[0], [*args.overrides, *job[1]], job[2], args.out,
                                args.device, args.eval_samples),
            jobs,
        ))
    results = {
        "recipe": args.recipe,
        "recipes": recipes,
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]) if argv is None else " ".join(argv),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, device {args.device}",
        "runs": rows,
        "summary": {v: aggregate([r for r in rows if r["variant"] == v and "error" not in r]) for v in variants},
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    (args.out / "results.md").write_text(markdown(results))
    (args.out / "summary.md").write_text(summary_markdown(results))
    print(markdown(results))
    return results


if __name__ == "__main__":
    main()
