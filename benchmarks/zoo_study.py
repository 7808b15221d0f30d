"""The zoo's table: every family x dataset x seed trained the same way and measured the same
way, in one Markdown and JSON table (OUT/results.md, OUT/results.json), and the README's
compact version of it (OUT/summary.md).

    python benchmarks/zoo_study.py --out runs/zoo --steps 2000 --parallel 2
    python benchmarks/zoo_study.py --out runs/zoo --families dcgan acgan --datasets mnist

For each (dataset, family, seed) the family's recipe is written with the dataset's ``[data]``
table swapped in (batch size kept) to OUT/DATASET/FAMILY/recipe.toml, trained with
``--set seed=S --set train.steps=STEPS --set train.ema_decay=EMA``, and evaluated with
``ganzoo eval --json`` twice: with the moving average of G (every metric) and with G's raw
weights (the sample-quality metrics only), so every row shows what EMA buys on the very same
run. Every family runs the same number of generator steps per dataset. GFLOP per training
step is counted once per (dataset, family) with ``torch.utils.flop_counter``; images/s is
the median of the run's logged ``speed/images_per_second``.

Resumable: a finished row (OUT/.../seed-S/study.json) is reused, a killed run resumes from
its newest checkpoint, and the tables are rewritten from every finished row at the end, so
running the same command again continues an interrupted study; ``--table-only`` tabulates
the finished rows without training the missing ones. Each run records a digest of
its recipe and settings (OUT/.../seed-S.digest): after a recipe is edited or --steps/--ema/--set
change, that row is trained again rather than reused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"

# family -> (recipe, what it is for). Recipes are the families' own; nothing is tuned here.
FAMILIES: dict[str, tuple[str, str]] = {
    "dcgan": ("dcgan_mnist.toml", "non-saturating loss, the baseline"),
    "lsgan": ("lsgan_mnist.toml", "least-squares loss"),
    "wgan_gp": ("wgan_gp_mnist.toml", "Wasserstein critic, 5 critic steps, gradient penalty"),
    "sngan": ("sngan_mnist.toml", "hinge loss, spectral norm on D"),
    "ragan": ("ragan_mnist.toml", "relativistic average loss"),
    "ralsgan": ("ralsgan_mnist.toml", "relativistic average least-squares loss"),
    "acgan": ("acgan_mnist.toml", "class-conditional, auxiliary classifier"),
    "cgan_projection": ("cgan_projection_mnist.toml", "class-conditional, projection D, cond. BN"),
    "infogan": ("infogan_dcgan.toml", "unsupervised codes, mutual-information term"),
}

# dataset -> its [data] table (the recipe's batch size is kept)
DATASETS: dict[str, dict[str, Any]] = {
    "mnist": {"type": "mnist"},
    "fashion_mnist": {"type": "fashion_mnist"},
    "synthetic": {"type": "synthetic", "size": 28, "count": 512, "classes": 4},  # for smoke tests
}

# (report key, column label) read from an eval report's summary or top level
COLUMNS: list[tuple[str, str]] = [
    ("frechet_distance", "FD (EMA)"),
    ("frechet_distance_raw", "FD (raw G)"),
    ("frechet_distance_recomputed", "FD (EMA, BN recomputed)"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("density", "density"),
    ("coverage", "coverage"),
    ("conditional_accuracy", "cond. acc."),
    ("intra_class_frechet", "intra-class FD"),
    ("accuracy", "cat. acc. (codes)"),
    ("gflop_per_step", "GFLOP/step"),
    ("images_per_second", "img/s"),
    ("train_minutes", "train (min)"),
]
QUALITY_METRICS = ("frechet_distance",)  # evaluated again with raw G's weights
FLOOR_KEYS = ("frechet_distance", "precision", "recall", "density", "coverage", "conditional_accuracy", "intra_class_frechet")


def _ganzoo(args: list[str], log: Path | None, threads: int | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, "-m", "ganzoo", *args]
    if log is None:
        return subprocess.run(cmd, capture_output=True, text=True, env=env)
    with open(log, "a") as handle:
        return subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, text=True, env=env)


def study_recipe(family: str, dataset: str, out: Path) -> Path:
    """The family's recipe with the dataset's [data] table, written once per (dataset, family)."""
    import tomli_w

    from ganzoo.recipe import read_toml

    raw = read_toml(RECIPES / FAMILIES[family][0])
    batch_size = raw.get("data", {}).get("batch_size")
    raw["data"] = dict(DATASETS[dataset], **({"batch_size": batch_size} if batch_size else {}))
    raw["name"] = f"zoo-{family}-{dataset}"
    path = out / dataset / family / "recipe.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomli_w.dumps(raw)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def pick(report: dict[str, Any], key: str) -> Any:
    """A metric's headline value: from the summary, else a number at the report's top level."""
    value = report.get("summary", {}).get(key)
    if value is None and isinstance(report.get(key), (int, float)):
        value = report[key]
    return value


def speed_of(run_dir: Path) -> float | None:
    """Median logged images/s of a run (TensorBoard's own reader)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    if "speed/images_per_second" not in acc.Tags()["scalars"]:
        return None
    return statistics.median(e.value for e in acc.Scalars("speed/images_per_second"))


def count_gflop(recipe: Path, overrides: list[str]) -> float | None:
    """GFLOP of one training step (matmuls and convolutions, forward and backward)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import tempfile

    import torch
    from hardware import count_step_flops

    from ganzoo.session import open_recipe
    from ganzoo.training import Trainer

    session = open_recipe(recipe, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(session.recipe, session.plugins.registry(), Path(tmp), torch.device("cpu"))
        trainer.train_step(1)  # warm caches; the count is of a later step
        return round(count_step_flops(lambda: trainer.train_step(2)) / 1e9, 4)


def training_digest(recipe: Path, sets: list[str]) -> str:
    """What a row was trained from: the written recipe and every --set (seed, steps, EMA, extra).
    A cached row or a checkpoint whose digest differs is trained again, not reused, so editing a
    family's recipe or changing --steps never mixes old rows into a new table."""
    text = recipe.read_text() + "\n" + "\n".join(sets)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def schedule(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order runs start in: the first seed of every (dataset, family) before any second
    seed, so a study cut short still covers the whole grid; within each such wave the costliest
    runs (GFLOP per step) first, so the parallel runs at the end finish close together."""
    return sorted(jobs, key=lambda job: (job["rank"], -(job.get("gflop") or 0.0)))


def run_one(job: dict[str, Any], args: argparse.Namespace) -> dict[str, Any] | None:
    """Train and evaluate one row, or reuse its finished row; None with --table-only when
    the row is not finished (nothing is trained then)."""
    family, dataset, seed = job["family"], job["dataset"], job["seed"]
    run_dir = args.out / dataset / family / f"seed-{seed}"
    cached = run_dir / "study.json"
    recipe = study_recipe(family, dataset, args.out)
    sets = [f"seed={seed}", *job["overrides"]]
    digest = training_digest(recipe, sets)
    stamp = run_dir.parent / f"seed-{seed}.digest"  # what the run in run_dir was started with
    same = not stamp.exists() or stamp.read_text().strip() == digest  # no stamp: an older study
    if cached.exists() and same:
        row = json.loads(cached.read_text())
        if not args.table_only and needs_recomputed(row, run_dir):  # a row from before that column
            row["frechet_distance_recomputed"] = recomputed_fd(run_dir, args)
            cached.write_text(json.dumps(row, indent=2))
        return row
    if args.table_only:
        return None
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    log = run_dir.parent / f"seed-{seed}.log"
    started = time.perf_counter()
    if same and sorted((run_dir / "checkpoints").glob("step_*.pt")):
        done = _ganzoo(["run", "--resume", str(run_dir), "--device", args.device], log, args.threads)
    else:
        cached.unlink(missing_ok=True)  # a row of another recipe or schedule is not this one's
        stamp.write_text(digest + "\n")
        cmd = ["run", str(recipe), "--out", str(run_dir), "--overwrite", "--device", args.device]
        done = _ganzoo(cmd + [x for s in sets for x in ("--set", s)], log, args.threads)
    train_seconds = time.perf_counter() - started
    row: dict[str, Any] = {"family": family, "dataset": dataset, "seed": seed}
    if done.returncode != 0:
        return {**row, "error": f"training exited {done.returncode}, see {log}"}
    evaluate = ["eval", str(run_dir), "--json", "--device", args.device, "--samples", str(args.eval_samples)]
    started = time.perf_counter()
    full = _ganzoo(evaluate, None, args.threads)
    if full.returncode != 0:
        return {**row, "error": full.stderr.strip()[-400:]}
    report = json.loads(full.stdout)
    raw_report: dict[str, Any] = {}
    if report.get("generator_weights") == "ema":
        metrics = [x for m in QUALITY_METRICS for x in ("--metric", m)]
        raw = _ganzoo([*evaluate, "--weights", "raw", *metrics], None, args.threads)
        if raw.returncode == 0:
            raw_report = json.loads(raw.stdout)
    row.update({key: pick(report, key) for key, _ in COLUMNS})
    row.update(
        step=report.get("step"),
        generator_weights=report.get("generator_weights"),
        train_minutes=round(train_seconds / 60, 2),
        eval_minutes=round((time.perf_counter() - started) / 60, 2),
        images_per_second=speed_of(run_dir),
        gflop_per_step=job.get("gflop"),
        floor=report.get("floor"),
        frechet_distance_raw=pick(raw_report, "frechet_distance") if raw_report else None,
        frechet_distance_recomputed=(recomputed_fd(run_dir, args)
                                     if report.get("generator_weights") == "ema" else None),
        summary=report.get("summary"),
    )
    cached.write_text(json.dumps(row, indent=2))
    return row


def recomputed_fd(run_dir: Path, args: argparse.Namespace) -> float | None:
    """The EMA's FD with batch-norm statistics recomputed from its own samples
    (``--ema-batch-norm recomputed``; the recipes keep the averaged ones), same samples."""
    done = _ganzoo(["eval", str(run_dir), "--json", "--device", args.device, "--samples",
                    str(args.eval_samples), "--ema-batch-norm", "recomputed",
                    *(x for m in QUALITY_METRICS for x in ("--metric", m))], None, args.threads)
    return pick(json.loads(done.stdout), "frechet_distance") if done.returncode == 0 else None


def needs_recomputed(row: dict[str, Any], run_dir: Path) -> bool:
    """A finished EMA row without the recomputed-statistics FD whose checkpoint is still
    there (rows kept without checkpoints, as in docs/studies/zoo, are left as they are)."""
    return ("frechet_distance_recomputed" not in row and row.get("generator_weights") == "ema"
            and "error" not in row and bool(sorted((run_dir / "checkpoints").glob("step_*.pt"))))


# -- tables ----------------------------------------------------------------------------------
def aggregate(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for key, _ in COLUMNS:
        values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
        if values:
            out[key] = {"mean": statistics.fmean(values),
                        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                        "n": len(values)}
    ema = [(r["frechet_distance"], r["frechet_distance_raw"]) for r in rows
           if isinstance(r.get("frechet_distance"), float) and isinstance(r.get("frechet_distance_raw"), float)]
    if ema:
        out["ema_lowers_fd"] = {"mean": sum(a < b for a, b in ema), "std": 0.0, "n": len(ema)}
    recomputed = [(r["frechet_distance_recomputed"], r["frechet_distance_raw"]) for r in rows
                  if isinstance(r.get("frechet_distance_recomputed"), float)
                  and isinstance(r.get("frechet_distance_raw"), float)]
    if recomputed:
        out["recomputed_lowers_fd"] = {"mean": sum(a < b for a, b in recomputed), "std": 0.0,
                                       "n": len(recomputed)}
    return out


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 100 else f"{value:.{digits}f}"
    return "" if value is None else str(value)


def _mean_sd(stats: dict[str, float] | None) -> str:
    """``mean ± sd`` with the sd to the mean's decimals (``130 ± 15``, ``6.224 ± 0.472``)."""
    if stats is None:
        return ""
    mean = _fmt(stats["mean"])
    if stats["n"] < 2:
        return mean
    decimals = 0 if abs(stats["mean"]) >= 100 else 3
    return f"{mean} ± {stats['std']:.{decimals}f}"


def _cell(stats: dict[str, float] | None, seeds: int) -> str:
    """``_mean_sd``, saying how many seeds when a column has fewer than its row."""
    text = _mean_sd(stats)
    return f"{text} ({stats['n']} of {seeds} seeds)" if stats and stats["n"] < seeds else text


# the README's table: the headline metrics, the recipe to start from, cost without its spread
SUMMARY_COLUMNS: list[tuple[str, str]] = [
    ("frechet_distance", "FD (EMA)"), ("frechet_distance_raw", "FD (raw G)"),
    ("frechet_distance_recomputed", "FD (EMA, BN rec.)"), ("precision", "P"),
    ("recall", "R"), ("density", "D"), ("coverage", "C"), ("conditional_accuracy", "cond. acc."),
    ("accuracy", "cat. acc. (codes)"),
]


def family_table(table: dict[str, Any], columns: list[tuple[str, str]], recipes: dict[str, str] | None = None,
                 plain: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """One dataset's Markdown table: the floor, then a line per family with ``mean ± sd`` of
    each column, how often EMA beat raw G, and the ``plain`` columns' means without their sd."""
    lead = ["family", *(["recipe"] if recipes else []), "seeds"]
    header = [*lead, *(label for _, label in columns), "EMA < raw", "EMA (BN rec.) < raw",
              *(label for _, label in plain)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    floor = table.get("floor")
    if floor:
        cells = ["*floor: real train vs real test*", *[""] * (len(lead) - 1),
                 *(_fmt(floor.get(k)) if k in FLOOR_KEYS else "" for k, _ in columns), *[""] * (2 + len(plain))]
        lines.append("| " + " | ".join(cells) + " |")
    for family, stats in table["families"].items():
        ema, recomputed = stats.get("ema_lowers_fd"), stats.get("recomputed_lowers_fd")
        seeds = max((s["n"] for s in stats.values()), default=0)

        cells = [family, *([f"`{Path(recipes[family]).stem}`"] if recipes else []), str(seeds),
                 *(_cell(stats.get(k), seeds) for k, _ in columns),
                 f"{int(ema['mean'])}/{ema['n']}" if ema else "",
                 f"{int(recomputed['mean'])}/{recomputed['n']}" if recomputed else "",
                 *(_fmt((stats.get(k) or {}).get("mean")) for k, _ in plain)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary_markdown(results: dict[str, Any]) -> str:
    """The compact table the README shows, one per dataset (OUT/summary.md)."""
    names = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
    recipes = {f: meta["recipe"] for f, meta in results["families"].items()}
    lines = [f"`{results['command']}`", ""]
    for dataset, table in results["tables"].items():
        lines += [f"**{names.get(dataset, dataset)}**, {results['steps']} generator steps per run, "
                  "mean ± sd over seeds:", ""]
        lines += family_table(table, SUMMARY_COLUMNS, recipes,
                              plain=(("gflop_per_step", "GFLOP/step"), ("images_per_second", "img/s")))
        lines.append("")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}", f"Command: `{results['command']}`", ""]
    for dataset, table in results["tables"].items():
        lines += [f"### {dataset} ({results['steps']} generator steps per run)", ""]
        lines += family_table(table, COLUMNS)
        lines.append("")
    lines += ["Per run:", "", "| dataset | family | seed | step | " + " | ".join(l for _, l in COLUMNS) + " |",
              "|" + "---|" * (len(COLUMNS) + 4)]
    for row in results["runs"]:
        if "error" in row:
            lines.append(f"| {row['dataset']} | {row['family']} | {row['seed']} | failed: {row['error'][:120]} |")
        else:
            lines.append(f"| {row['dataset']} | {row['family']} | {row['seed']} | {row.get('step', '')} | "
                         + " | ".join(_fmt(row.get(k)) for k, _ in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def tabulate(rows: list[dict[str, Any]], datasets: list[str], families: list[str]) -> dict[str, Any]:
    tables = {}
    for dataset in datasets:
        ok = [r for r in rows if r["dataset"] == dataset and "error" not in r]
        floor = next((r["floor"] for r in ok if r.get("floor")), None)
        tables[dataset] = {
            "floor": floor,
            "families": {f: aggregate([r for r in ok if r["family"] == f]) for f in families
                         if any(r["family"] == f for r in ok)},
        }
    return tables


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/zoo"))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"], choices=list(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds on MNIST")
    parser.add_argument("--other-seeds", type=int, nargs="+", default=[1], help="seeds on other datasets")
    parser.add_argument("--steps", type=int, default=2000, help="generator steps of every run")
    parser.add_argument("--ema", type=float, default=0.999, help="train.ema_decay of every run")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="extra --set for every run")
    parser.add_argument("--parallel", type=int, default=1, help="runs at a time")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS per run (default: 1 when --parallel > 1)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--eval-samples", type=int, default=5000)
    parser.add_argument("--no-flops", action="store_true", help="skip counting GFLOP per step")
    parser.add_argument("--table-only", action="store_true",
                        help="train nothing: tabulate the finished rows of these families, datasets and seeds")
    args = parser.parse_args(argv)
    if args.threads is None and args.parallel > 1:
        args.threads = 1
    missing = [f for f in args.families if not (RECIPES / FAMILIES[f][0]).exists()]
    if missing:
        parser.error(f"no recipe for {', '.join(missing)} under {RECIPES}")

    overrides = [f"train.steps={args.steps}", f"train.ema_decay={args.ema}", *args.overrides]
    jobs = []
    for dataset in args.datasets:
        seeds = args.seeds if dataset == "mnist" else args.other_seeds
        for family in args.families:
            gflop = None
            if not (args.no_flops or args.table_only):  # a finished row keeps its GFLOP
                gflop = count_gflop(study_recipe(family, dataset, args.out), overrides)
            jobs += [{"family": family, "dataset": dataset, "seed": s, "rank": rank, "overrides": overrides,
                      "gflop": gflop} for rank, s in enumerate(seeds)]
    jobs = schedule(jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        rows = [row for row in pool.map(lambda job: run_one(job, args), jobs) if row is not None]
    order = {(d, f): i for i, (d, f) in enumerate((d, f) for d in args.datasets for f in args.families)}
    rows.sort(key=lambda row: (order[row["dataset"], row["family"]], row["seed"]))
    command = " ".join(["python", "benchmarks/zoo_study.py", *(sys.argv[1:] if argv is None else argv)])
    results = {
        "command": command,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, device {args.device}",
        "steps": args.steps,
        "ema_decay": args.ema,
        "families": {f: {"recipe": f"recipes/{FAMILIES[f][0]}", "what": FAMILIES[f][1]} for f in args.families},
        "tables": tabulate(rows, args.datasets, args.families),
        "runs": rows,
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    (args.out / "results.md").write_text(markdown(results))
    (args.out / "summary.md").write_text(summary_markdown(results))
    print(markdown(results))
    return results


if __name__ == "__main__":
    main()
