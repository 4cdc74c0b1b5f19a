"""What each of issue 21's options costs or buys: the same run with the arithmetic switched one way or another.

The epoch rows (784-128-10 and 784-512-256-10 at batch 64; epochs 2-3 of a run of bare ``train_config`` with
the test pass, interleaved):

* BLAS 2 threads, whole:  each product one multi-threaded OpenBLAS call on both cores, as a quiet machine's
                          load rule gave before: the fastest, but its numbers depend on the thread count;
* BLAS 1 thread, whole:   the simplest option that is the same on any machine: one thread, no split;
* blocks, 1 worker:       products cut into the fixed blocks (nn/compute.py), all computed by the run's thread:
                          what the cut alone costs;
* blocks, 2 workers:      the product's way: the same blocks shared by the run's thread and a helper.

The subnormal row: 40 epochs of 784-128-10 (Adam, L2 1e-4, 20,000 images, one worker), subnormals flushed or
not (``nn.compute.flush``): its epochs 38-40 against its epochs 2-4, where Adam's decaying moments of border
pixels slow the unflushed run down.

The switches are the ones the product has: ``compute.set_workers``, ``compute.BLOCK_WORK`` (a product below it
runs whole), ``compute.flush``, and BLAS's thread count through threadpoolctl (from the main thread).
"""
from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nn import Dataset, compute

Config = tuple[tuple[int, ...], int]
CONFIGS: list[Config] = [((784, 128, 10), 64), ((784, 512, 256, 10), 64)]
WHOLE = 1 << 62  # a BLOCK_WORK no product reaches: every product runs as one call


@dataclass(frozen=True)
class Way:
    """One column of the table: how the products are computed."""

    blas_threads: int
    blocks: bool
    workers: int


WAYS: dict[str, Way] = {"BLAS 2 threads, whole": Way(2, False, 1), "BLAS 1 thread, whole": Way(1, False, 1),
                        "blocks, 1 worker": Way(1, True, 1), "blocks, 2 workers": Way(1, True, 2)}


@contextmanager
def _way(way: Way) -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    saved_work, saved_workers = compute.BLOCK_WORK, compute.workers()
    compute.BLOCK_WORK = compute.BLOCK_WORK if way.blocks else WHOLE
    compute._plans.clear()  # plans are cached per shape
    compute.set_workers(way.workers)
    try:
        with threadpool_limits(way.blas_threads, user_api="blas"):
            yield
    finally:
        compute.BLOCK_WORK, compute._plans = saved_work, {}
        compute.set_workers(saved_workers)


@contextmanager
def pinned(workers: int) -> Iterator[None]:
    """Keep ``train_config``'s thread rule from changing the workers: it reads MLP_BLAS_THREADS."""
    saved = os.environ.get("MLP_BLAS_THREADS")
    os.environ["MLP_BLAS_THREADS"] = str(workers)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MLP_BLAS_THREADS", None)
        else:
            os.environ["MLP_BLAS_THREADS"] = saved


def steps(data: Dataset, repeats: int, scale: float) -> None:
    """Print the options' table (median seconds per epoch, each against the one before it) and the subnormal row."""
    from benchmarks.user_path import time_bare

    times: dict[tuple[Config, str], list[float]] = {(c, s): [] for c in CONFIGS for s in WAYS}
    for r in range(repeats + 1):
        for config in CONFIGS:
            order = list(WAYS.items())
            for name, way in order[::-1] if r % 2 else order:
                with _way(way), pinned(way.workers):
                    seconds = [t * scale for t in time_bare(data, config[0], config[1], r, 3)]
                if r:
                    times[config, name] += seconds
    print(f"\nWhat each way of computing costs (median s/epoch, epochs 2-3 + test pass, {repeats} interleaved "
          f"repeats, load average now {os.getloadavg()[0]:.2f}); only the last two give the same numbers on any "
          f"thread count:\n")
    print("| config | " + " | ".join(WAYS) + " |")
    print("|---|" + "---:|" * len(WAYS))
    for config in CONFIGS:
        med = [statistics.median(times[config, name]) for name in WAYS]
        cells = [f"{med[0]:.3f}"] + [f"{m:.3f} ({prev / m:.2f}x)" for prev, m in zip(med, med[1:])]
        print(f"| {'-'.join(map(str, config[0]))} b{config[1]} | " + " | ".join(cells) + " |")
    subnormals(data)


def subnormals(data: Dataset, epochs: int = 40) -> None:
    """40 epochs of 784-128-10 (Adam, L2 1e-4) on 20,000 images, with subnormals flushed and without."""
    from benchmarks.user_path import _config
    from experiments.runs.training import train_config

    small = data.subset(min(20_000, len(data.y_train)), len(data.y_test))
    rows = []
    for flushed in (False, True):
        compute.flush = flushed
        try:
            with pinned(1):
                _, result = train_config(_config((784, 128, 10), 64, 0, epochs, l2=1e-4), small)
        finally:
            compute.flush = True
        seconds = [h["seconds"] for h in result.history]
        rows.append((flushed, statistics.median(seconds[1:4]), statistics.median(seconds[-3:]),
                     result.history[-1]["test_acc"]))
    print(f"\nSubnormals ({epochs} epochs of 784-128-10, Adam, L2 1e-4, {len(small.y_train)} images, one worker):\n")
    print("| subnormals | epochs 2-4 | last 3 epochs | last / early | final test accuracy |")
    print("|---|---:|---:|---:|---:|")
    for flushed, early, late, acc in rows:
        print(f"| {'flushed' if flushed else 'kept'} | {early:.3f} | {late:.3f} | {late / early:.2f}x | "
              f"{100 * acc:.2f}% |")
