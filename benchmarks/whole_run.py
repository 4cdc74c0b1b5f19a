"""Whole-run measurements for benchmarks/bench_epoch.py: peak memory of a headless run, the runner's overhead."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nn import Dataset

ROOT = Path(__file__).resolve().parents[1]


def peak_memory(args: argparse.Namespace) -> float:
    """Max RSS of a headless 10-epoch run, measured by a small launcher process.

    The launcher matters: Linux's RUSAGE_CHILDREN max RSS also counts the image a child was forked from,
    so measuring straight from this (big) process would report this process's size.
    """
    run = [sys.executable, "-m", "experiments", "run", "--epochs", "10"]
    launcher = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True); "
                "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
                "sys.stderr.write(done.stderr.decode()[-300:])")
    with tempfile.TemporaryDirectory() as tmp:  # the run's store goes to a scratch file, not results/
        env = dict(os.environ, RESULTS_DB=str(Path(tmp) / "runs.sqlite"))
        if args.data_dir:
            env["MNIST_DIR"] = args.data_dir
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", launcher, *run], cwd=ROOT, env=env, capture_output=True,
                              text=True)
        seconds = time.perf_counter() - start
    code, max_rss_kib = (int(v) for v in done.stdout.split()) if done.returncode == 0 else (done.returncode, 0)
    if code != 0:
        print(f"\npeak memory: `python -m experiments run --epochs 10` failed ({code}): {done.stderr.strip()}")
        return float("nan")
    print(f"\nPeak memory of `python -m experiments run --epochs 10` (784-128-10, b64): "
          f"{max_rss_kib / 1024:.0f} MB max RSS, {seconds:.1f} s wall")
    return max_rss_kib / 1024


def reproduction_minutes(args: argparse.Namespace) -> float:
    """Wall minutes of the whole report reproduction (``reproduce all``: both variants, 3 seeds, 30 runs and 900
    epochs, one run per core) into a scratch store, as a user would start it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RESULTS_DB=str(Path(tmp) / "runs.sqlite"))
        if args.data_dir:
            env["MNIST_DIR"] = args.data_dir
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "experiments", "reproduce", "all"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        minutes = (time.perf_counter() - start) / 60
    if done.returncode != 0:
        print(f"\nreproduction: `python -m experiments reproduce all` failed ({done.returncode}): "
              f"{done.stderr.strip()[-300:]}")
        return float("nan")
    summary = next((line for line in done.stdout.splitlines() if line.startswith("wall time")), "")
    print(f"\nWhole report reproduction (`reproduce all`: both variants, 3 seeds, 30 runs, 900 epochs): "
          f"{minutes:.2f} min wall ({summary})")
    return minutes


def runner_overhead(args: argparse.Namespace, data: Dataset) -> None:
    """Wall time of runs through experiments.runs.runner.RunManager against fit called directly, alternately."""
    try:
        from experiments.config import RunConfig
        from experiments.runs.runner import RunManager
        from experiments.runs.training import train_config
        from experiments.store import RunStore
    except ImportError as exc:
        print(f"\nrunner overhead: not measured ({exc})")
        return
    config = RunConfig(epochs=args.runner_epochs, data_dir=args.data_dir or "")
    bare, managed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        manager = RunManager(RunStore(Path(tmp) / "runs.sqlite"), data_loader=lambda c: data)
        for r in range(args.repeats + 1):
            start = time.perf_counter()
            train_config(config, data)
            t_bare = time.perf_counter() - start
            start = time.perf_counter()
            run_id = manager.submit(config, source="benchmark")
            manager.wait([run_id])
            t_managed = time.perf_counter() - start
            if r:  # repeat 0 is a warm-up
                bare.append(t_bare)
                managed.append(t_managed)
    b, m = statistics.median(bare), statistics.median(managed)
    print(f"\nRunner overhead ({config.architecture} b{config.batch_size}, {config.epochs} epochs with test "
          f"evaluation, {args.repeats} alternated repeats): bare train_config {b:.2f} s, RunManager "
          f"submit+wait {m:.2f} s, ratio {m / b:.3f}x")


