"""Wall time of an 8-trial sweep: serial (1 worker) against the local pool and against Ray Tune.

    MNIST_DIR=/path/to/mnist python benchmarks/bench_sweep.py                 # about 5 minutes on 2 cores
    python benchmarks/bench_sweep.py --repeats 1 --epochs 1 --train-size 5000  # a quick look

Every row runs the same 8 trials (lr x batch size x width, 2 x 2 x 2) into a throwaway store:

* serial:        the local engine with 1 worker process;
* pool:          the local engine with one worker per core (one BLAS thread each);
* pool, BLAS x N: the same without limiting BLAS threads (each worker starts NumPy's default thread pool),
                  to show why the workers are limited to one;
* ray:           the Ray engine on a local Ray instance with one CPU per trial; Ray's start-up is timed
                  apart (``ray.init`` once per repeat) and the sweep time is Tuner.fit plus store writes.

The machine is shared and noisy: the contenders alternate within each repeat and the table shows medians
and ratios of medians against serial; "cores used" is the workers' CPU time over the wall time (how much
of the machine the sweep actually got: on a busy machine the pool's speed-up is capped by it). Needs
``pip install -r requirements-ray.txt`` for the Ray row.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.store import RunStore  # noqa: E402
from experiments.sweeps import local as sweep_local  # noqa: E402
from experiments.sweeps.local import LocalSweep, default_workers  # noqa: E402
from experiments.sweeps.spec import expand, parse_spec  # noqa: E402


def spec(epochs: int, train_size: int):
    return parse_spec({"name": "bench", "base": {"epochs": epochs, "train_size": train_size},
                       "grid": {"lr": [0.01, 0.001], "batch_size": [64, 128], "hidden": ["64", "128"]}})


def time_local(folder: Path, workers: int, limit_blas: bool, epochs: int, train_size: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the worker processes) of one local sweep."""
    s = spec(epochs, train_size)
    cpu_before = _children_cpu()
    saved = sweep_local.threads.pool_environment
    if not limit_blas:  # every worker takes every core, as NumPy would by default
        every = str(os.cpu_count() or 1)
        sweep_local.threads.pool_environment = lambda workers, total=None: {
            name: every for name in (sweep_local.threads.ENV, *sweep_local.threads.THREAD_VARIABLES)}
    try:
        began = time.perf_counter()
        sweep = LocalSweep(RunStore(folder / f"local-{workers}-{limit_blas}-{time.time()}.sqlite"), s, expand(s),
                           workers=workers)
        sweep.start()
        sweep.wait()
        seconds = time.perf_counter() - began
    finally:
        sweep_local.threads.pool_environment = saved
    assert {o.status for o in sweep.outcomes()} == {"finished"}, sweep.outcomes()
    time.sleep(0.5)  # let the pool reap its workers, so that their CPU time is counted
    return seconds, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_ray(folder: Path, workers: int, epochs: int, train_size: int) -> tuple[float, float]:
    """(seconds of the sweep, seconds of ray.init) on a fresh local Ray instance."""
    import ray

    from experiments.runs.ray_cluster import runtime_env
    from experiments.sweeps.ray_engine import run_ray_sweep
    s = spec(epochs, train_size)
    began = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    startup = time.perf_counter() - began
    try:
        began = time.perf_counter()
        store = RunStore(folder / f"ray-{time.time()}.sqlite")
        result = run_ray_sweep(store, s, expand(s), workers=workers)
        seconds = time.perf_counter() - began
    finally:
        ray.shutdown()
    statuses = {r.status for r in store.search_runs(ids=result.run_ids)}
    assert statuses == {"finished"}, statuses
    return seconds, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=0, help="0 = all 60000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-oversubscribed", action="store_true")
    args = parser.parse_args()
    has_ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    cpu: dict[str, list[float]] = {}
    rows: dict[str, list[float]] = {"serial (1 worker)": [], f"pool ({args.workers} workers)": []}
    if not args.no_oversubscribed:
        rows[f"pool ({args.workers} workers), BLAS threads not limited"] = []
    if has_ray:
        rows[f"ray ({args.workers} CPUs, local)"] = []
    startups: list[float] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        for repeat in range(args.repeats):
            names = list(rows)
            runs = [(names[0], 1, True), (names[1], args.workers, True)]
            if not args.no_oversubscribed:
                runs.append((names[2], args.workers, False))
            for name, workers, limit in runs:
                wall, cpu_s = time_local(folder, workers, limit, args.epochs, args.train_size)
                rows[name].append(wall)
                cpu.setdefault(name, []).append(cpu_s)
            if has_ray:
                seconds, startup = time_ray(folder, args.workers, args.epochs, args.train_size)
                rows[names[-1]].append(seconds)
                startups.append(startup)
            print(f"repeat {repeat + 1}/{args.repeats}: " + ", ".join(f"{n.split(' (')[0]} {v[-1]:.1f}s"
                                                                     for n, v in rows.items()), flush=True)
    serial = statistics.median(rows[next(iter(rows))])
    print(f"\nload average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    print(f"8 trials ({args.epochs} epochs on {args.train_size or 60000} images each), median of {args.repeats}:")
    print(f"{'engine':<48} {'wall s':>7} {'speed-up vs serial':>19} {'cores used':>11}")
    for name, values in rows.items():
        median = statistics.median(values)
        used = statistics.median(c / w for c, w in zip(cpu[name], values)) if name in cpu else None
        print(f"{name:<48} {median:>7.1f} {serial / median:>18.2f}x {used:>11.2f}" if used is not None
              else f"{name:<48} {median:>7.1f} {serial / median:>18.2f}x {'-':>11}")
    if startups:
        print(f"ray.init (not in the ray row): median {statistics.median(startups):.1f} s")


if __name__ == "__main__":
    main()
