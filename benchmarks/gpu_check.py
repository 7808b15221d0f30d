"""Everything a lent GPU must show, in one prepared script that fits in about 8 minutes.

    python benchmarks/gpu_check.py --device cuda --out runs/gpu_check        # on a GPU
    python benchmarks/gpu_check.py --device cpu --quick --out runs/gpu_check  # CPU rehearsal

Stages (each a subprocess with its own time limit; a failed stage is recorded, the next
one still runs):

1. ``environment``: torch, CUDA device, compute capability, bf16 support.
2. ``throughput``: ``benchmarks/throughput.py`` on the default recipe at batch 64 and 128:
   ganzoo in fp32 (eager), the plain-PyTorch loop (fp32, eager), and ganzoo variants bf16,
   ``compile`` (``train.compile``) and ``graphs`` (``train.compile_mode=reduce-overhead``:
   CUDA graphs replayed per network call), all interleaved in one process per batch size.
   The target: graphs or compile at batch 64 >= 5x the eager plain loop's images/s.
3. ``run_resume_eval``: a 200-step run (checkpoint at step 100, stopped there), a resume to
   step 200, and ``ganzoo eval --json`` of the result; the GPU memory high-water mark comes
   from the run's TensorBoard scalar ``memory/max_allocated_mib``.
4. ``torchrun``: a torchrun launch of ``ganzoo run`` on every visible GPU (one process per
   GPU), and an all-reduce through NCCL (gloo on the CPU) in a torchrun process.

Writes OUT/gpu_check.json and OUT/gpu_check.md and prints the Markdown. Real MNIST is used
when ``GANZOO_DATA_ROOT`` (or ./data) holds it; otherwise the synthetic dataset, and the
report says so. For a device machine that only sees the repository, copy
``MNIST/raw/*.gz`` into ``data/MNIST/raw`` and carry ``data``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "infogan_dcgan.toml"
TARGET_SPEEDUP = 5.0


def _data_overrides(synthetic: bool = False) -> tuple[list[str], str]:
    """Real MNIST if it can be found, else the synthetic dataset (same 28x28 grayscale)."""
    if synthetic:
        return ["data.type=synthetic", "data.count=4096", "data.classes=10"], "synthetic (--synthetic)"
    for root in (os.environ.get("GANZOO_DATA_ROOT"), str(ROOT / "data"), str(ROOT.parent / "shared" / "data")):
        if root and (Path(root) / "MNIST" / "raw").is_dir():
            os.environ["GANZOO_DATA_ROOT"] = root
            return [], f"MNIST from {root}"
    return ["data.type=synthetic", "data.count=4096", "data.classes=10"], "synthetic (MNIST not found)"


def _sets(overrides: list[str]) -> list[str]:
    return [x for o in overrides for x in ("--set", o)]


def _run(cmd: list[str], timeout: float, log: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with open(log, "a") as handle:
        handle.write("$ " + " ".join(cmd) + "\n")
        handle.flush()
        try:
            done = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout, cwd=ROOT)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    return {"command": " ".join(cmd), "exit": code, "seconds": round(time.perf_counter() - started, 1)}


def stage_environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "device": args.device, "cpus": os.cpu_count()}
    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda but torch.cuda.is_available() is False")
        props = torch.cuda.get_device_properties(0)
        info.update(name=props.name, capability=f"{props.major}.{props.minor}",
                    memory_gib=round(props.total_memory / 2**30, 1), gpus=torch.cuda.device_count(),
                    bf16=torch.cuda.is_bf16_supported(), cuda=torch.version.cuda)
    return info


def stage_throughput(args: argparse.Namespace, data: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for batch in args.batches:
        path = args.out / f"throughput_b{batch}.json"
        cmd = [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), str(RECIPE),
               "--device", args.device, "--steps", str(args.bench_steps), "--repeats", str(args.repeats),
               "--warmup", "3", "--variants", ",".join(args.variants), "--json", str(path),
               *_sets([*data, f"data.batch_size={batch}"])]
        result = _run(cmd, args.stage_timeout, args.out / "throughput.log")
        if path.exists():
            report = json.loads(path.read_text())
            result["images_per_s"] = {name: side["images_per_s"]["median"]
                                      for name, side in report["results"].items()}
            result["failed_variants"] = report.get("failed_variants", {})
            plain = result["images_per_s"].get("plain")
            if plain:
                result["speedup_vs_plain_eager"] = {name: round(v / plain, 3)
                                                    for name, v in result["images_per_s"].items()}
        out[str(batch)] = result
    return out


def stage_run_resume_eval(args: argparse.Namespace, data: list[str]) -> dict[str, Any]:
    run_dir = args.out / "run"
    log = args.out / "run.log"
    half, full = args.run_steps // 2, args.run_steps
    common = ["--device", args.device]
    sets = [*data, f"train.checkpoint_every={half}", "train.log_every=10", "train.sample_every=0",
            f"data.batch_size={args.batches[0]}"]
    first = _run([sys.executable, "-m", "ganzoo", "run", str(RECIPE), "--out", str(run_dir), "--overwrite",
                  *common, *_sets([*sets, f"train.steps={half}"])], args.stage_timeout, log)
    resumed = _run([sys.executable, "-m", "ganzoo", "run", "--resume", str(run_dir), *common,
                    "--set", f"train.steps={full}"], args.stage_timeout, log)
    evaluated = _run([sys.executable, "-m", "ganzoo", "eval", str(run_dir), "--json", *common,
                      "--samples", str(args.eval_samples)], args.stage_timeout, log)
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").glob("step_*.pt"))
    result = {"first": first, "resume": resumed, "eval": evaluated, "checkpoints": checkpoints,
              "peak_child_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
        acc.Reload()
        tags = acc.Tags()["scalars"]
        if "memory/max_allocated_mib" in tags:
            result["gpu_max_allocated_mib"] = max(e.value for e in acc.Scalars("memory/max_allocated_mib"))
        if "speed/images_per_second" in tags:
            values = sorted(e.value for e in acc.Scalars("speed/images_per_second"))
            result["run_images_per_s_median"] = values[len(values) // 2]
        result["last_step_logged"] = max((e.step for t in tags for e in acc.Scalars(t)), default=None)
    except Exception as exc:  # the report still says what ran
        result["tensorboard_error"] = str(exc)
    return result


def stage_torchrun(args: argparse.Namespace, data: list[str]) -> dict[str, Any]:
    import torch

    procs = torch.cuda.device_count() if args.device.startswith("cuda") else 1
    log = args.out / "torchrun.log"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={max(procs, 1)}"]
    allreduce = _run([*launcher, str(Path(__file__).resolve()), "--allreduce-worker", "--device", args.device],
                     args.stage_timeout, log)
    run = _run([*launcher, "-m", "ganzoo", "run", str(RECIPE), "--out", str(args.out / "torchrun_run"),
                "--overwrite", "--device", args.device,
                *_sets([*data, "train.steps=20", "train.log_every=10", "train.sample_every=0",
                        "train.checkpoint_every=0", f"data.batch_size={args.batches[0]}"])],
               args.stage_timeout, log)
    return {"processes": procs, "allreduce": allreduce, "run": run}


def allreduce_worker(device: str) -> None:
    """Runs under torchrun: one all-reduce through NCCL (CUDA) or gloo (CPU), checked."""
    import torch
    import torch.distributed as dist

    cuda = device.startswith("cuda")
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    where = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if cuda else torch.device("cpu")
    value = torch.full((1024,), float(rank + 1), device=where)
    dist.all_reduce(value)
    expected = world * (world + 1) / 2
    ok = bool(torch.all(value == expected))
    print(f"rank {rank}/{world} backend {dist.get_backend()}: all_reduce {'ok' if ok else 'WRONG'}")
    dist.destroy_process_group()
    sys.exit(0 if ok else 1)


def markdown(report: dict[str, Any]) -> str:
    env = report["stages"].get("environment", {}).get("result", {})
    lines = [f"GPU check on {env.get('name', report['device'])} (torch {env.get('torch', '?')}), "
             f"data: {report['data']}; command: `{report['command']}`", ""]
    throughput = report["stages"].get("throughput", {}).get("result", {})
    if throughput:
        names = sorted({n for r in throughput.values() for n in r.get("images_per_s", {})},
                       key=lambda n: ["plain", "fp32", "bf16", "channels_last", "compile", "graphs"].index(n)
                       if n in ["plain", "fp32", "bf16", "channels_last", "compile", "graphs"] else 99)
        lines += ["| batch | " + " | ".join(f"{n} img/s" for n in names) + " | best / plain eager |",
                  "|" + "---|" * (len(names) + 2)]
        for batch, r in throughput.items():
            ips = r.get("images_per_s", {})
            speed = r.get("speedup_vs_plain_eager", {})
            best = max((v for k, v in speed.items() if k != "plain"), default=None)
            cells = " | ".join(f"{ips[n]:.0f}" if n in ips else "failed" for n in names)
            lines.append(f"| {batch} | {cells} | " + (f"{best:.2f}x |" if best is not None else " |"))
        lines.append(f"\nTarget: >= {TARGET_SPEEDUP:g}x the eager plain loop at batch 64 with compile/graphs.")
    run = report["stages"].get("run_resume_eval", {}).get("result", {})
    if run:
        lines += ["", f"run/resume/eval: exits {run['first']['exit']}/{run['resume']['exit']}/{run['eval']['exit']}, "
                  f"checkpoints {run.get('checkpoints')}, GPU high-water "
                  f"{run.get('gpu_max_allocated_mib', 'n/a')} MiB, peak process RSS {run.get('peak_child_rss_mib')} MiB"]
    tr = report["stages"].get("torchrun", {}).get("result", {})
    if tr:
        lines.append(f"torchrun ({tr['processes']} process(es)): all-reduce exit {tr['allreduce']['exit']}, "
                     f"ganzoo run exit {tr['run']['exit']}")
    for name, stage in report["stages"].items():
        if stage.get("error"):
            lines.append(f"stage {name} failed: {stage['error']}")
    lines.append(f"\ntotal {report['seconds']:.0f} s")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path("runs/gpu_check"))
    parser.add_argument("--quick", action="store_true", help="a shortened rehearsal (for a CPU)")
    parser.add_argument("--stages", nargs="+", default=["environment", "throughput", "run_resume_eval", "torchrun"])
    parser.add_argument("--synthetic", action="store_true", help="use the synthetic dataset even if MNIST is there")
    parser.add_argument("--allreduce-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.allreduce_worker:
        allreduce_worker(args.device)
    quick = args.quick
    args.batches = [16, 32] if quick else [64, 128]
    args.variants = ["fp32", "bf16"] if quick else ["fp32", "bf16", "compile", "graphs"]
    args.bench_steps, args.repeats = (3, 1) if quick else (30, 3)
    args.run_steps = 20 if quick else 200
    args.eval_samples = 256 if quick else 2000
    args.stage_timeout = 300 if quick else 240
    args.out.mkdir(parents=True, exist_ok=True)
    data, data_note = _data_overrides(args.synthetic)

    started = time.perf_counter()
    stages = {
        "environment": lambda: stage_environment(args),
        "throughput": lambda: stage_throughput(args, data),
        "run_resume_eval": lambda: stage_run_resume_eval(args, data),
        "torchrun": lambda: stage_torchrun(args, data),
    }
    command = " ".join(["python", "benchmarks/gpu_check.py", *(sys.argv[1:] if argv is None else argv)])
    report: dict[str, Any] = {"device": args.device, "data": data_note, "command": command, "stages": {}}
    for name in args.stages:
        t0 = time.perf_counter()
        try:
            report["stages"][name] = {"result": stages[name]()}
        except Exception as exc:  # record and go on: a lent GPU's minutes are not to be wasted
            report["stages"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        report["stages"][name]["seconds"] = round(time.perf_counter() - t0, 1)
        report["seconds"] = time.perf_counter() - started
        (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2))  # partial results survive
    text = markdown(report)
    (args.out / "gpu_check.md").write_text(text)
    print(text)
    return report


if __name__ == "__main__":
    main()
