"""How many BLAS threads a training run may use: decided here, and only here, from the run's context.

The rule: the cores this process may use are shared by the runs training at once, never more BLAS
threads than cores in total. A run that trains alone gets every core that is not busy; runs that share
the machine get one each:

* a sweep's worker process: the pool puts ``MLP_BLAS_CORES = cores // workers`` into each worker's
  environment (``pool_environment``): that is all the cores the runs in that worker may use;
* runs in one process (the dashboard's runner starts each in its own thread): BLAS's thread pool is
  process-wide, so ``training_threads`` counts the runs training in this process and sets cores // runs
  each time one starts or ends;
* other load on the machine (another process, another user): cores already busy when the threads are
  decided (the kernel's count of runnable threads, sampled a few times) are not counted as free.
  OpenBLAS's threads spin while they wait, and two of them on two cores that something else also wants
  were measured at 2-23 s per epoch instead of 0.5 s.

``MLP_BLAS_THREADS`` set by hand overrides the rule for a process (1 reproduces the old fixed setting).
"""
from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController

ENV = "MLP_BLAS_THREADS"  # set by hand: this many threads, whatever the context
CORES_ENV = "MLP_BLAS_CORES"  # set by a pool for its workers: the cores this process may use
# What the thread pools of NumPy's BLAS (and OpenMP or numexpr, should a library bring one) read at start-up.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
_lock = threading.Lock()
_training = 0  # runs training in this process now
_controller: ThreadpoolController | None = None  # found once: a fresh look at the loaded libraries costs ~0.5 ms


def limit_blas(threads: int) -> Any:
    """Set NumPy's BLAS to ``threads`` threads, process-wide; usable as a context manager that restores them."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=threads, user_api="blas")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def blas_threads(runs: int = 1, total: int | None = None, busy: float | None = None) -> int:
    """BLAS threads for each of ``runs`` runs training at once in this process.

    ``total`` is the cores available (default: ``cores()``); ``busy`` the cores kept busy by other work
    (default: ``busy_cores()``, which leaves out this process's own threads).
    """
    override = os.environ.get(ENV, "").strip()
    if override:
        return max(1, int(override))
    if total is None:
        total = int(os.environ.get(CORES_ENV, "") or 0) or cores()
    if busy is None:
        busy = busy_cores()
    free = max(1, total - round(busy))
    return max(1, min(total // max(1, runs), free // max(1, runs)))


def busy_cores(samples: int = 3) -> float:
    """Threads of other processes running or ready to run now: the median of a few looks at the kernel's count.

    /proc/loadavg's fourth field counts the machine's runnable threads this instant; this process's own
    (the caller, its BLAS threads) are subtracted, so a run's own threads never count as someone else's
    load. The one-minute load average would still count a run that ended seconds ago; it stands in only
    where /proc is missing.
    """
    try:
        counts = []
        for i in range(samples):
            if i:
                time.sleep(0.001)
            with open("/proc/loadavg") as f:
                runnable = int(f.read().split()[3].split("/")[0])
            counts.append(runnable - _own_runnable())
        return float(max(0.0, statistics.median(counts)))
    except (OSError, IndexError, ValueError):
        return os.getloadavg()[0]


def _own_runnable() -> int:
    """This process's threads that are running or ready to run (state R), the caller among them."""
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                count += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except OSError:  # the thread ended meanwhile
            continue
    return max(1, count)


def pool_environment(workers: int, total: int | None = None) -> dict[str, str]:
    """Environment for the worker processes of a pool of ``workers``: their share of the cores, at least one."""
    share = str(max(1, (cores() if total is None else total) // max(1, workers)))
    return {CORES_ENV: share, **{name: share for name in THREAD_VARIABLES}}


def _apply() -> int:
    given = blas_threads(max(1, _training))
    limit_blas(given)
    return given


def group_split(models: int, given: int) -> tuple[int, int]:
    """(worker threads, BLAS threads each) for a seed group of ``models`` given ``given`` cores: a worker per
    core (at most one per model), each with its share of BLAS threads, so the total never exceeds ``given``.
    The workers take fair turns at the models (nn/seed_group.py): 3 models on 2 cores get 2/3 of a core each."""
    workers = max(1, min(models, given))
    return workers, max(1, given // workers)


@contextmanager
def training_threads() -> Iterator[int]:
    """Count a run as training in this process while the block runs, re-divide the BLAS threads, and yield
    the number given to this run (which a seed group splits further, see ``group_split``)."""
    global _training
    with _lock:
        _training += 1
        given = _apply()
    try:
        yield given
    finally:
        with _lock:
            _training -= 1
            if _training:
                _apply()


class RedivideThreads:
    """A callback for ``fit``: after every epoch, decide the BLAS threads again (other work may have started or
    ended meanwhile; two spinning BLAS threads on a machine that became busy cost 10x). About 3 ms an epoch."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        with _lock:
            _apply()
