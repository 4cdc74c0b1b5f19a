"""RunManager: queue runs and train them in background threads, writing every epoch to the store.

The training threads never touch the UI. They write to the store (every finished epoch is committed)
and to a locked progress table that any thread may read. One manager per process (the dashboard keeps it
in ``st.cache_resource``) serves every browser session; the dataset is loaded once and shared read-only.
"""
from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from experiments.config import MAX_QUEUED, RunConfig
from experiments.runs.execute import load_data, train_config
from experiments.runs.store import RunStore, StoreError
from nn import DataError
from nn.data import Dataset


@dataclass(frozen=True)
class Progress:
    """A snapshot of one run's state for display: where it is, how long it has left, its latest metrics."""

    run_id: int
    status: str                  # queued, loading, running, paused, or a final status
    epoch: int = 0               # finished epochs
    epochs: int = 0
    latest: dict = field(default_factory=dict)
    started: float | None = None  # time.time() when training began
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.epoch / self.epochs if self.epochs else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the mean epoch time so far (None before the first epoch)."""
        if not self.epoch or not self.latest.get("elapsed"):
            return None
        return self.latest["elapsed"] / self.epoch * (self.epochs - self.epoch)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "loading", "running", "paused")


class _Controls:
    def __init__(self) -> None:
        self.stop, self.pause = threading.Event(), threading.Event()


class RunManager:
    """Queues runs and trains up to ``max_concurrent`` of them at once in daemon threads."""

    def __init__(self, store: RunStore, max_concurrent: int = 1,
                 data_loader: Callable[[RunConfig], Dataset] = load_data):
        self.store = store
        self.max_concurrent = max(1, int(max_concurrent))
        self._load_data = data_loader
        self._queue: queue.Queue[int] = queue.Queue()
        self._lock = threading.Lock()
        self._progress: dict[int, Progress] = {}
        self._controls: dict[int, _Controls] = {}
        self._configs: dict[int, RunConfig] = {}
        self._callbacks: dict[int, list] = {}
        self._train_eval: dict[int, tuple[int, ...]] = {}
        self._workers: list[threading.Thread] = []
        self._idle = threading.Condition(self._lock)

    # ------------------------------------------------------------------ submitting and controlling
    def submit(self, config: RunConfig, name: str | None = None, group_id: str | None = None,
               source: str = "dashboard", callbacks: Sequence = (), train_eval_epochs: Sequence[int] = (),
               tags: Sequence[str] = ()) -> int:
        """Store the run as queued and schedule it; returns its id. Refused when the queue is full.

        ``callbacks`` get ``on_epoch_end(epoch, logs)`` in the worker thread, after the epoch is stored.
        At the epochs in ``train_eval_epochs`` the whole training set is evaluated too (see execute.py).
        """
        with self._lock:
            waiting = sum(1 for p in self._progress.values() if p.status == "queued")
            if waiting >= MAX_QUEUED:
                raise StoreError(f"{MAX_QUEUED} runs are already waiting: stop some or wait for them to finish")
        run_id = self.store.create_run(config, name=name, group_id=group_id, source=source)
        if tags:
            self.store.set_tags(run_id, tags)
        with self._lock:
            self._progress[run_id] = Progress(run_id, "queued", epochs=config.epochs)
            self._controls[run_id] = _Controls()
            self._configs[run_id] = config
            self._callbacks[run_id] = list(callbacks)
            self._train_eval[run_id] = tuple(train_eval_epochs)
            self._start_workers()
        self._queue.put(run_id)
        return run_id

    def submit_many(self, configs: Sequence[RunConfig], names: Sequence[str] | None = None,
                    group_id: str | None = None, source: str = "dashboard") -> list[int]:
        names = list(names) if names else [None] * len(configs)
        return [self.submit(c, n, group_id, source) for c, n in zip(configs, names)]

    def stop(self, run_id: int) -> None:
        """Stop a run: a queued run never starts; a running one stops within one batch."""
        with self._lock:
            controls = self._controls.get(run_id)
            if controls:
                controls.stop.set()
                controls.pause.clear()

    def pause(self, run_id: int) -> None:
        with self._lock:
            controls, progress = self._controls.get(run_id), self._progress.get(run_id)
            if controls and progress and progress.status == "running":
                controls.pause.set()
                self._progress[run_id] = replace(progress, status="paused")

    def resume(self, run_id: int) -> None:
        with self._lock:
            controls, progress = self._controls.get(run_id), self._progress.get(run_id)
            if controls and progress and progress.status == "paused":
                controls.pause.clear()
                self._progress[run_id] = replace(progress, status="running")

    def stop_all(self) -> None:
        for run_id in list(self._controls):
            self.stop(run_id)

    # ------------------------------------------------------------------ reading
    def progress(self, run_id: int) -> Progress | None:
        with self._lock:
            return self._progress.get(run_id)

    def active(self) -> list[Progress]:
        """Runs of this process that are queued, loading, running or paused, in submission order."""
        with self._lock:
            return [p for p in self._progress.values() if p.active]

    def wait(self, run_ids: Sequence[int] | None = None, timeout: float | None = None) -> bool:
        """Block until the given runs (default: all) have ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while True:
                pending = [p for i, p in self._progress.items() if p.active and (run_ids is None or i in run_ids)]
                if not pending:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining if remaining is not None else 1.0)

    # ------------------------------------------------------------------ the workers
    def _start_workers(self) -> None:
        self._workers = [w for w in self._workers if w.is_alive()]
        while len(self._workers) < self.max_concurrent:
            worker = threading.Thread(target=self._work, name=f"run-worker-{len(self._workers)}", daemon=True)
            self._workers.append(worker)
            worker.start()

    def _set(self, run_id: int, **changes) -> None:
        with self._lock:
            self._progress[run_id] = replace(self._progress[run_id], **changes)
            self._idle.notify_all()

    def _work(self) -> None:
        while True:
            run_id = self._queue.get()
            try:
                self._run(run_id)
            except Exception:  # the last line of defence: a worker thread must never die
                traceback.print_exc()
            finally:
                self._queue.task_done()

    def _run(self, run_id: int) -> None:
        controls, config = self._controls[run_id], self._configs[run_id]
        if controls.stop.is_set():
            self._finish(run_id, "stopped", "stopped before it started")
            return
        try:
            self._set(run_id, status="loading", message="loading the dataset")
            data = self._load_data(config)
            if config.batch_size > len(data.y_train):
                raise DataError(f"batch size {config.batch_size} is larger than the training set ({len(data.y_train)})")
            self.store.set_status(run_id, "running")
            self._set(run_id, status="paused" if controls.pause.is_set() else "running", started=time.time(), message="")
            model, result = train_config(config, data, [_StoreEpochs(self, run_id), *self._callbacks.pop(run_id, [])],
                                         stop_event=controls.stop, pause_event=controls.pause,
                                         train_eval_epochs=self._train_eval.pop(run_id, ()))
            path = self.store.weights_path(run_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
            self._finish(run_id, result.status, result.message)
        except (DataError, StoreError, OSError, MemoryError) as exc:
            self._finish(run_id, "failed", str(exc))
        except Exception as exc:  # a bug: record it on the run instead of losing the worker
            self._finish(run_id, "failed", f"unexpected error: {type(exc).__name__}: {exc}")
            traceback.print_exc()

    def _finish(self, run_id: int, status: str, message: str) -> None:
        try:
            self.store.set_status(run_id, status, message)
        except StoreError as exc:
            message = f"{message} (and the store could not be updated: {exc})"
        self._set(run_id, status=status, message=message)


class _StoreEpochs:
    """The trainer callback that commits each epoch to the store and updates the live progress."""

    def __init__(self, manager: RunManager, run_id: int):
        self.manager, self.run_id = manager, run_id

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.manager.store.log_epoch(self.run_id, logs)
        self.manager._set(self.run_id, epoch=epoch, latest=dict(logs))
