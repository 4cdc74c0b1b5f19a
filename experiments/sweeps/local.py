"""The local sweep engine: trials trained in a pool of worker processes, one per core by default.

Processes, not threads: one NumPy training loop keeps a core busy, and threads would share one
interpreter. The parent stores every trial as a queued run up front (group = sweep id, tag
``sweep:<id>``), so History and Compare list them at once; each worker opens its own RunStore on the
same file (WAL mode lets them write together) and commits every epoch as it finishes. One shared stop
event ends the whole sweep: running trials stop within a batch, waiting ones end as "stopped".

Workers share the cores: each gets cores // workers BLAS threads (one each with the default one worker
per core; see experiments/runs/threads.py): N processes each starting an OpenBLAS pool of N threads on N
cores made epochs about 10x slower. The environment variables must be set before NumPy loads in the
child, so they are put into the parent's environment while the pool's processes are spawned. For that moment
the parent's ``__main__`` is hidden too: "spawn" would otherwise re-run the main script in every worker
(under Streamlit that is dashboard.py), and the workers need only this module.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from experiments.runs import threads
from experiments.runs.completion import SWEEP_STOPPED_BEFORE, WORKER_DIED
from experiments.runs.lifecycle import RunOutcome
from experiments.store import RunStore
from experiments.sweeps.spec import TAG_PREFIX, SweepSpec, Trial, new_sweep_id, run_name
from nn.status import ACTIVE, RunStatus

_ENV_LOCK = threading.Lock()


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def create_trial_runs(store: RunStore, spec: SweepSpec, trials: Sequence[Trial], sweep_id: str,
                      source: str) -> list[int]:
    """Store each trial as a queued run of the sweep's group, tagged ``sweep:<id>``; returns the run ids."""
    ids = []
    for trial in trials:
        run_id = store.create_run(trial.config, name=run_name(spec, trial), group_id=sweep_id, source=source)
        store.set_tags(run_id, [TAG_PREFIX + sweep_id, "sweep"])
        ids.append(run_id)
    return ids


class LocalSweep:
    """A sweep running in a process pool. ``start`` returns at once; ``stop``, ``wait`` and ``done`` control it."""

    def __init__(self, store: RunStore, spec: SweepSpec, trials: Sequence[Trial], workers: int | None = None,
                 sweep_id: str | None = None, source: str = "sweep"):
        self.store, self.spec, self.trials = store, spec, list(trials)
        self.sweep_id = sweep_id or new_sweep_id()
        self.workers = max(1, min(int(workers or default_workers()), len(self.trials)))
        self.source = source
        self.run_ids: list[int] = []
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._futures: dict[Future, int] = {}
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> list[int]:
        """Store the trials as queued runs and hand them to the pool; returns their run ids."""
        self.run_ids = create_trial_runs(self.store, self.spec, self.trials, self.sweep_id, self.source)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=init_worker,
                                         initargs=(self._stop,))
        with spawning(self.workers):
            for trial, run_id in zip(self.trials, self.run_ids):
                future = self._pool.submit(run_trial, str(self.store.path), run_id, trial.config.to_json())
                self._futures[future] = run_id
        self._pool.shutdown(wait=False)  # the workers exit once the queue is empty
        return self.run_ids

    def stop(self) -> None:
        """Stop every trial: running ones within one batch, waiting ones before they start."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def done(self) -> bool:
        return all(f.done() for f in self._futures)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every trial has ended (False on timeout); a crashed worker's trials become "failed"."""
        from concurrent.futures import wait as wait_futures
        finished, pending = wait_futures(list(self._futures), timeout=timeout)
        for future in finished:
            self._record_crash(future)
        return not pending

    def outcomes(self) -> list[RunOutcome]:
        """Each trial's status as stored (live: queued and running while the sweep goes on)."""
        return stored_outcomes(self.store, self.run_ids)

    def _record_crash(self, future: Future) -> None:
        exc = future.exception()
        if exc is None:
            return
        run_id = self._futures[future]
        reason = WORKER_DIED if isinstance(exc, BrokenProcessPool) else f"{type(exc).__name__}: {exc}"
        if self.store.get_run(run_id).status in ACTIVE:
            self.store.set_status(run_id, RunStatus.FAILED, reason)


def stored_outcomes(store: RunStore, run_ids: Sequence[int]) -> list[RunOutcome]:
    """The runs' statuses and messages as stored, in ``run_ids``' order (runs deleted since are left out)."""
    runs = {r.id: r for r in store.search_runs(ids=list(run_ids))}
    return [RunOutcome(i, RunStatus(runs[i].status), runs[i].message) for i in run_ids if i in runs]


@contextmanager
def spawning(workers: int) -> Iterator[None]:
    """Wrap every ``submit`` to a pool of ``workers`` in this: a pool starts its worker processes on demand,
    at submit time, and they must get their share of the BLAS threads and must not re-run the parent's
    main script (see the module docstring)."""
    with blas_environment(threads.pool_environment(workers)), _main_hidden():
        yield


@contextmanager
def blas_environment(settings: dict[str, str]) -> Iterator[None]:
    """Put the workers' BLAS thread settings into the environment while child processes are spawned."""
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in settings}
        os.environ.update(settings)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@contextmanager
def _main_hidden() -> Iterator[None]:
    """A bare ``__main__`` while workers are spawned, so that they do not re-run the parent's main script."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


# ---------------------------------------------------------------------- in the worker process
_worker: dict = {}


def init_worker(stop_event) -> None:
    """The pool's initializer: ignore Ctrl-C (the parent sets the stop event) and keep the sweep's stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which sets the stop event
    _worker["stop"] = stop_event


def _store(path: str) -> RunStore:
    if _worker.get("store_path") != path:
        _worker["store"], _worker["store_path"] = RunStore(path), path
    return _worker["store"]


def run_trial(store_path: str, run_id: int, config_json: str,
              callbacks: Callable[[], Sequence[object]] | None = None) -> RunOutcome:
    """Train one trial into the store through the one execution path; never raises for a run that fails.

    ``callbacks`` (picklable: a module-level function or a partial of one) makes, in the worker, training
    callbacks that see every stored epoch: the TPE sweep's report to its Optuna trial."""
    from experiments.config import ConfigError, RunConfig
    from experiments.runs.lifecycle import RunControls, execute_run

    store, stop = _store(store_path), _worker["stop"]
    if stop.is_set():
        message = SWEEP_STOPPED_BEFORE
        store.set_status(run_id, RunStatus.STOPPED, message)
        return RunOutcome(run_id, RunStatus.STOPPED, message)
    try:
        config = RunConfig.from_json(config_json)
    except ConfigError as exc:
        store.set_status(run_id, RunStatus.FAILED, str(exc))
        return RunOutcome(run_id, RunStatus.FAILED, str(exc))
    extra = callbacks() if callbacks is not None else ()
    return execute_run(store, run_id, config, controls=RunControls(stop=stop), callbacks=extra)
