"""How many threads compute a training run's matrix products: decided here, from the cores and the runs
training in this process, never from the machine's load.

The count changes how long a run takes, never its numbers: products are cut into blocks fixed by their
shapes and BLAS runs one thread per block (nn/compute.py), so a seed gives the same run on one thread or
two, alone or beside other runs, on a quiet machine or a busy one. The rule:

* a run training alone gets every core this process may use; a sweep's worker process is given its share
  by the pool (``pool_environment`` puts ``MLP_BLAS_CORES = cores // workers`` into its environment);
* runs training at once in one process (the dashboard's runner starts each in its own thread) share the
  process's cores: ``training_threads`` counts them and sets cores // runs each time one starts or ends;
* other load on the machine is not counted: the helper threads sleep between products instead of spinning,
  and a block a helper has not started is taken by the run's own thread, so a busy machine slows a run by
  the cores it takes away, not 10-20x as spinning BLAS threads did.

``MLP_BLAS_THREADS`` set by hand overrides the rule for a process (the numbers stay the same).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from nn import compute

ENV = "MLP_BLAS_THREADS"  # set by hand: this many threads, whatever the context
CORES_ENV = "MLP_BLAS_CORES"  # set by a pool for its workers: the cores this process may use
# What the thread pools of NumPy's BLAS (and OpenMP or numexpr, should a library bring one) read at start-up.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
_lock = threading.Lock()
_training = 0  # runs training in this process now


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def product_threads(runs: int = 1, total: int | None = None) -> int:
    """Threads for each of ``runs`` runs training at once in this process; ``total`` is the cores this
    process may use (default: its pool's share, else ``cores()``)."""
    override = os.environ.get(ENV, "").strip()
    if override:
        return max(1, int(override))
    if total is None:
        total = int(os.environ.get(CORES_ENV, "") or 0) or cores()
    return max(1, total // max(1, runs))


def pool_environment(workers: int, total: int | None = None) -> dict[str, str]:
    """Environment for the worker processes of a pool of ``workers``: their share of the cores, at least one."""
    share = str(max(1, (cores() if total is None else total) // max(1, workers)))
    return {CORES_ENV: share, **{name: share for name in THREAD_VARIABLES}}


@contextmanager
def training_threads() -> Iterator[int]:
    """Count a run as training in this process while the block runs, re-divide the threads among the runs,
    and yield the number this run starts with."""
    global _training
    with _lock:
        _training += 1
        given = product_threads(_training)
        compute.set_workers(given)
    try:
        yield given
    finally:
        with _lock:
            _training -= 1
            if _training:
                compute.set_workers(product_threads(_training))


@contextmanager
def set_aside() -> Iterator[None]:
    """A training run that waits while the block runs (its turn, a pause): it is not counted, so the runs
    that train meanwhile share its cores; counted again, and the threads re-divided, when it goes on."""
    global _training
    with _lock:
        _training -= 1
        if _training:
            compute.set_workers(product_threads(_training))
    try:
        yield
    finally:
        with _lock:
            _training += 1
            compute.set_workers(product_threads(_training))
