"""Label-free health check of finished seeds studies: the real-data term's I(c; c') at the end
of each run beside the categorical accuracy that ``ganzoo eval`` measured with labels.

    python benchmarks/health_check.py runs/study [runs/other-study ...] [--last 200]

Reads each study's ``results.json`` (written by ``seeds_study.py``) and, from every run's
TensorBoard events, the mean of ``real_data_information/digit`` over the last ``--last``
steps; prints one line per run, sorted by that value. The README's threshold (about 2.13
nats) comes from this table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TAG = "real_data_information/digit"


def final_information(run_dir: Path, last: int) -> float | None:
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    if TAG not in events.Tags()["scalars"]:
        return None  # a run without the real-data term
    scalars = events.Scalars(TAG)
    end = scalars[-1].step
    values = [e.value for e in scalars if e.step > end - last]
    return sum(values) / len(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("studies", nargs="+", type=Path)
    parser.add_argument("--last", type=int, default=200, help="steps to average at the end")
    args = parser.parse_args(argv)
    rows = []
    for study in args.studies:
        results = study / "results.json"
        if not results.is_file():
            print(f"error: {results}: not found (run benchmarks/seeds_study.py first)",
                  file=sys.stderr)
            return 2
        for run in json.loads(results.read_text())["runs"]:
            if "error" in run:  # a run that failed or was stopped has no accuracy to compare
                continue
            run_dir = study / run["variant"] / f"seed-{run['seed']}"
            info = final_information(run_dir, args.last)
            if info is not None:
                rows.append((info, run["accuracy"], str(run_dir)))
    for info, accuracy, run_dir in sorted(rows):
        print(f"I(c;c') {info:.3f}  accuracy {accuracy:.3f}  {run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
