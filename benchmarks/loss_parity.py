"""Bitwise loss parity: run a recipe for N steps, logging every step, and compare the
TensorBoard ``loss/...`` scalars with a stored record (for example one made at an earlier
commit).

    # record at the reference commit (any ganzoo version: only the CLI is used)
    python benchmarks/loss_parity.py record recipes/infogan_dcgan.toml --out ref.json
    # later, compare the working tree against it (exit 1 on any difference)
    python benchmarks/loss_parity.py compare recipes/infogan_dcgan.toml --reference ref.json

Runs on the CPU with one thread so the arithmetic is deterministic. Image grids and the
in-training evaluation are turned off: they use their own random streams and never touch
the training step, so they cannot change the losses, and they cost time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def loss_scalars(run_dir: Path) -> dict[str, list[list[float]]]:
    """``{tag: [[step, value], ...]}`` for every ``loss/...`` tag, read with TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {
        tag: [[e.step, e.value] for e in acc.Scalars(tag)]
        for tag in sorted(acc.Tags()["scalars"])
        if tag.startswith("loss/")
    }


def record(recipe: str, steps: int, overrides: list[str], ganzoo: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        command = [
            ganzoo, "run", recipe, "--out", str(run_dir), "--device", "cpu",
            "--set", f"train.steps={steps}", "--set", "train.log_every=1",
            "--set", "train.sample_every=0", "--set", "train.eval_every=0",
            "--set", "train.checkpoint_every=0",
        ]
        for item in overrides:
            command += ["--set", item]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        return {"recipe": recipe, "steps": steps, "overrides": overrides,
                "scalars": loss_scalars(run_dir)}


def differences(reference: dict, current: dict) -> list[str]:
    out = []
    ref, cur = reference["scalars"], current["scalars"]
    for tag in sorted(ref.keys() | cur.keys()):
        if tag not in cur:
            out.append(f"{tag}: missing now")
        elif tag not in ref:
            out.append(f"{tag}: new (not in the reference)")
        elif ref[tag] != cur[tag]:
            first = next((a, b) for a, b in zip(ref[tag], cur[tag], strict=False) if a != b) \
                if any(a != b for a, b in zip(ref[tag], cur[tag], strict=False)) else None
            out.append(f"{tag}: differs (first: reference {first[0]} vs now {first[1]})"
                       if first else f"{tag}: {len(ref[tag])} vs {len(cur[tag])} values")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("recipe")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", help="record: JSON file to write")
    parser.add_argument("--reference", help="compare: JSON file written by 'record'")
    parser.add_argument("--ganzoo", default=str(Path(sys.executable).with_name("ganzoo")),
                        help="the ganzoo command to run (default: beside this Python)")
    args = parser.parse_args(argv)
    result = record(args.recipe, args.steps, args.overrides, args.ganzoo)
    if args.action == "record":
        Path(args.out).write_text(json.dumps(result) + "\n")
        print(f"wrote {args.out}: {len(result['scalars'])} loss tags x {args.steps} steps")
        return 0
    reference = json.loads(Path(args.reference).read_text())
    problems = differences(reference, result)
    tags = len(result["scalars"])
    if problems:
        print("NOT bitwise equal:\n  " + "\n  ".join(problems))
        return 1
    print(f"bitwise equal: {tags} loss tags x {args.steps} steps ({args.recipe})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
