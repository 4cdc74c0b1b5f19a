"""Whole-run measurements for benchmarks/bench_epoch.py: a run beside a busy machine, epoch 100 against epoch 2
of a long run, peak memory of a headless run, the whole report reproduction; each through the command line."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


class BusyCores:
    """One busy process per core (a plain Python loop) while the block runs, as a class server or a student's
    laptop has; each loop also ends by itself after 10 minutes."""

    LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"

    def __enter__(self) -> BusyCores:
        from experiments.runs.threads import cores

        self.processes = [subprocess.Popen([sys.executable, "-c", self.LOOP]) for _ in range(cores())]
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.kill()
            process.wait(timeout=10)


def under_load(args: argparse.Namespace):
    """784-128-10 b64 through the command line, quiet and beside one busy process per core, interleaved: the
    loaded epoch may take at most 2.5x the quiet one (a busy core is a core lost, not a collapse)."""
    from benchmarks.bench_epoch import Goal
    from benchmarks.user_path import time_cli

    sizes, batch = (784, 128, 10), 64
    quiet: list[float] = []
    loaded: list[float] = []
    for r in range(max(2, args.repeats)):
        for busy in ((False, True) if r % 2 else (True, False)):
            if busy:
                with BusyCores():
                    loaded += time_cli(args.data_dir, sizes, batch, r, args.epochs)
            else:
                quiet += time_cli(args.data_dir, sizes, batch, r, args.epochs)
    q, b = statistics.median(quiet), statistics.median(loaded)
    print(f"\nUnder load (784-128-10 b64, command line, median of epochs 2-{args.epochs} over "
          f"{max(2, args.repeats)} interleaved repeats): quiet {q:.3f} s, beside one busy process per core {b:.3f} s, "
          f"ratio {b / q:.2f}x")
    return Goal("784-128-10 b64 beside a busy process per core / quiet", b / q, 2.5, at_most=True)


def long_run(args: argparse.Namespace):
    """The report's 100-epoch Adam run (784-128-10, L2 1e-4, all 60,000 images) through the command line: its
    last epochs against its second, where subnormal Adam moments once made epoch 100 7x slower than epoch 2."""
    from benchmarks.bench_epoch import Goal

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RESULTS_DB=str(Path(tmp) / "runs.sqlite"))
        if args.data_dir:
            env["MNIST_DIR"] = args.data_dir
        done = subprocess.run([sys.executable, "-m", "experiments", "run", "--optimizer", "adam", "--lr", "0.001",
                               "--l2", "0.0001", "--epochs", "100", "--val-size", "0", "--json"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
    if done.returncode != 0:
        print(f"\nlong run failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        return Goal("epoch 100 / epoch 2 of the report's Adam run", None, 1.2, at_most=True)
    import json

    from benchmarks.user_path import epoch_seconds

    seconds = epoch_seconds([json.loads(line)["elapsed"] for line in done.stdout.splitlines()])  # epochs 2..100
    early, late = statistics.median(seconds[:3]), statistics.median(seconds[-3:])
    print(f"\nThe report's Adam run (784-128-10, L2 1e-4, 100 epochs, command line): epochs 2-4 {early:.3f} s, "
          f"epochs 98-100 {late:.3f} s, ratio {late / early:.2f}x; whole run {sum(seconds):.0f} s after epoch 1")
    return Goal("epoch 100 / epoch 2 of the report's Adam run (medians of 3 epochs)", late / early, 1.2, at_most=True)
