"""RunManager: queue runs and train them in background threads, writing every epoch to the store.

The training threads never touch the UI. They train through ``execute_run`` (the one execution path),
which writes to the store (every finished epoch is committed); the manager keeps a locked table of live
progress that any thread may read. One manager per process (the dashboard keeps it in
``st.cache_resource``) serves every browser session; the dataset is loaded once and shared read-only.

A stored run that ended early is queued again with ``resume_run`` (from its latest checkpoint), a finished
one with ``continue_run`` (for more epochs); ``requeue_orphans`` takes up the runs a dead process left
queued (the dashboard calls it when it starts). All three train through ``execute_run(resume=True)``.

Runs share the training slots in time slices, round-robin by owner (``turns.py``): a run that has trained
for a slice while another owner's run waits gives its slot up between batches and waits for its turn
(``LivePhase.WAITING``), holding its state in memory, so it goes on exactly where it was.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from experiments.access import Identity
from experiments.config import MAX_QUEUED, RunConfig
from experiments.i18n import _
from experiments.runs import threads
from experiments.runs.budget import check_budget
from experiments.runs.completion import SETTINGS_UNREADABLE, run_fraction
from experiments.runs.lifecycle import (
    DataLoader,
    Phase,
    ResumePlan,
    RunControls,
    RunExecutor,
    execute_run,
    plan_continue,
    plan_resume,
    requeue,
)
from experiments.runs.training import load_data
from experiments.runs.turns import POLL_S, Turns
from experiments.store import RunStore, StoreError
from experiments.store.records import clean_student
from nn import Callback, Order, RunStatus

# Ended runs whose progress is kept for display; older ones are pruned (their state is in the store).
KEEP_ENDED = 200


class LivePhase(StrEnum):
    """What a run of this process is doing right now (finer than its stored status)."""

    QUEUED = "queued"
    LOADING = "loading"
    RUNNING = "running"
    WAITING = "waiting its turn"  # mid-run, its slot given up after its slice (turns.py); goes on in turn
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True)
class Progress:
    """A snapshot of one run's state for display: where it is, how long it has left, its latest metrics."""

    run_id: int
    phase: LivePhase
    status: RunStatus = RunStatus.QUEUED   # as stored: queued, running, or the final status once ended
    epoch: int = 0               # finished epochs
    epochs: int = 0
    latest: dict[str, Any] = field(default_factory=dict)
    started: float | None = None  # time.time() when training began
    message: str = ""

    @property
    def fraction(self) -> float:
        """The share done: 1 once the run has ended, also when it ended early (``completion``)."""
        return run_fraction(self.epoch, self.epochs, self.active)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the mean epoch time so far; None before the first epoch, while paused (the time
        left is not running down) and once ended."""
        if not self.epoch or not self.latest.get("elapsed") or self.phase in (LivePhase.PAUSED, LivePhase.ENDED):
            return None
        return float(self.latest["elapsed"]) / self.epoch * (self.epochs - self.epoch)

    @property
    def active(self) -> bool:
        return self.phase is not LivePhase.ENDED

    @property
    def label(self) -> str:
        """The phase while the run is active (queued, loading, running, waiting its turn, paused), else its
        final status."""
        return str(self.phase) if self.active else str(self.status)


@dataclass
class _Job:
    """Everything the manager holds for one submitted run; the config and callbacks go once it starts."""

    progress: Progress
    controls: RunControls
    config: RunConfig | None
    callbacks: list[object]
    train_eval_epochs: tuple[int, ...]
    resume: bool = False  # go on from the run's latest checkpoint (resume, continue, an adopted orphan)


WORKERS_ENV = "MNIST_LAB_WORKERS"  # runs the dashboard trains at once; unset: one per core


def runs_at_once() -> int:
    """Runs the dashboard and the multi-seed commands train at once: ``MNIST_LAB_WORKERS`` when set (a teacher
    may want 1, so each run has every core), else one per core."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise ValueError(_("{variable} must be a whole number of runs, got {value}").format(
                variable=WORKERS_ENV, value=repr(configured))) from None
    return threads.cores()


class RunManager:
    """Queues runs and trains up to ``max_concurrent`` of them at once in daemon threads.

    The dashboard and the commands that queue several seeds give it ``runs_at_once()``: seeds queued together
    (Report, Try this fix, Exercises) then train side by side, 1.4-1.5x the throughput of one after another
    on 2 cores (benchmarks/bench_epoch.py), while a run alone still gets every core for its products
    (experiments/runs/threads.py divides them; the numbers are the same either way, nn/compute.py)."""

    def __init__(self, store: RunStore, max_concurrent: int = 1, data_loader: DataLoader = load_data,
                 executor: RunExecutor = execute_run):
        self.store = store
        self._execute = executor  # where a run trains: here (execute_run) or on Ray (ray_executor.RayExecutor)
        self.max_concurrent = max(1, int(max_concurrent))
        self._load_data = data_loader
        self._lock = threading.Lock()
        self._jobs: dict[int, _Job] = {}
        self._idle = threading.Condition(self._lock)
        # the slots, in turn by student: each run starts in a thread of its own when it has one
        self._turns = Turns(self.max_concurrent, start=self._start_thread)

    # ------------------------------------------------------------------ submitting and controlling
    def submit(self, config: RunConfig, name: str | None = None, group_id: str | None = None,
               source: str = "dashboard", callbacks: Sequence[object] = (), train_eval_epochs: Sequence[int] = (),
               tags: Sequence[str] = (), student: str = "", identity: Identity | None = None) -> int:
        """Store the run as queued and schedule it; returns its id. Refused when the queue is full, or (for a
        student's ``identity``) when the run is over the class's budget (``budget.py``; BudgetError, one line).

        Runs start round-robin by ``student`` (their classroom name; ``identity``'s name when not given), so
        one student cannot fill the queue.

        The queue cap is checked and the run inserted in one store transaction, so concurrent submits
        cannot pass it. ``callbacks`` get ``on_epoch_end(epoch, logs)`` in the worker thread, after the
        epoch is stored. At the epochs in ``train_eval_epochs`` the whole training set is evaluated too.
        """
        if identity is not None:
            check_budget(self.store, config, identity)
            student = student or identity.name
        student = clean_student(student) if student else ""
        run_id = self.store.create_run(config, name=name, group_id=group_id, source=source, tags=tags,
                                       max_queued=MAX_QUEUED, student=student)
        with self._lock:
            self._jobs[run_id] = _Job(Progress(run_id, LivePhase.QUEUED, epochs=config.epochs), RunControls(),
                                      config, list(callbacks), tuple(train_eval_epochs))
        self._turns.put(run_id, student)
        return run_id

    def submit_many(self, configs: Sequence[RunConfig], names: Sequence[str | None] | None = None,
                    group_id: str | None = None, source: str = "dashboard", student: str = "",
                    tags: Sequence[str] = (), identity: Identity | None = None) -> list[int]:
        """Queue several runs (``submit``); all are checked against the budget before any is queued."""
        if identity is not None:
            for config in configs:
                check_budget(self.store, config, identity)
        names = list(names) if names else [None] * len(configs)
        return [self.submit(c, n, group_id, source, tags=tags, student=student, identity=identity)
                for c, n in zip(configs, names)]

    def resume_run(self, run_id: int, callbacks: Sequence[object] = ()) -> ResumePlan:
        """Queue a run that ended early (interrupted, stopped, failed) to go on from its last checkpoint,
        appending to the same run. ResumeError (one line, nothing changed) if it cannot; see lifecycle.py.
        (A paused run goes on with ``unpause``.)"""
        return self._requeue(plan_resume(self.store, run_id, busy=self._busy_ids()), callbacks)

    def continue_run(self, run_id: int, more_epochs: int, callbacks: Sequence[object] = (),
                     identity: Identity | None = None) -> ResumePlan:
        """Queue a finished run for ``more_epochs`` more epochs (its stored config's epochs grow to match);
        for a student's ``identity`` the grown run must be within the class's budget (BudgetError)."""
        plan = plan_continue(self.store, run_id, more_epochs, busy=self._busy_ids())
        if identity is not None:
            check_budget(self.store, plan.config, identity)
        return self._requeue(plan, callbacks)

    def requeue_orphans(self) -> list[int]:
        """Take up the runs left queued by processes that have ended (e.g. the dashboard killed with runs
        waiting), in the order they were queued; returns their ids. Each goes on from its checkpoint if it
        has one. (Runs those processes left running are "interrupted": resume them.)"""
        try:
            adopted = self.store.adopt_orphaned_queued()
        except StoreError as exc:  # e.g. a read-only store: the dashboard still shows it; say why in the log
            print(f"runs left queued by an ended process were not queued again: {exc}", file=sys.stderr)
            return []
        for run_id in adopted:
            run = self.store.get_run(run_id)
            if run.config is None:
                self.store.set_status(run_id, RunStatus.FAILED, SETTINGS_UNREADABLE.format(reason=run.config_error))
                continue
            self._schedule(run_id, run.config, (), Progress(run_id, LivePhase.QUEUED, epoch=run.epochs_done,
                                                            epochs=run.config.epochs), resume=True,
                           student=run.student)
        return adopted

    def resume_interrupted(self) -> list[int]:
        """Resume, each from its checkpoint, the runs a dead process left interrupted (the dashboard killed
        while they trained), in the order they were queued; returns their ids. One whose checkpoint does not
        allow it stays interrupted, the reason in the server log (its Resume button says it too)."""
        try:
            interrupted = self.store.orphaned_interrupted()
        except StoreError as exc:
            print(f"interrupted runs were not resumed: {exc}", file=sys.stderr)
            return []
        resumed = []
        for run_id in interrupted:
            try:
                self.resume_run(run_id)
            except StoreError as exc:  # ResumeError: no usable checkpoint, another server took it, ...
                print(f"run {run_id} was not resumed: {exc}", file=sys.stderr)
                continue
            resumed.append(run_id)
        return resumed

    def _requeue(self, plan: ResumePlan, callbacks: Sequence[object]) -> ResumePlan:
        requeue(self.store, plan)
        progress = Progress(plan.run_id, LivePhase.QUEUED, epoch=plan.from_epoch, epochs=plan.config.epochs)
        self._schedule(plan.run_id, plan.config, callbacks, progress, resume=True, student=plan.student)
        return plan

    def _schedule(self, run_id: int, config: RunConfig, callbacks: Sequence[object], progress: Progress,
                  resume: bool, student: str = "") -> None:
        with self._lock:
            self._jobs[run_id] = _Job(progress, RunControls(), config, list(callbacks), (), resume)
        self._turns.put(run_id, student)  # in the student's turn, like a new run

    def _busy_ids(self) -> set[int]:
        with self._lock:
            return {i for i, j in self._jobs.items() if j.progress.active}

    def stop(self, run_id: int) -> None:
        """Stop a run: a queued run never starts; a running one stops within one batch."""
        with self._lock:
            job = self._jobs.get(run_id)
            if job:
                job.controls.stop.set()
                job.controls.pause.clear()

    def pause(self, run_id: int) -> None:
        """Hold a running run (or one waiting its turn) between batches; it gives its slot up meanwhile
        (``unpause`` lets it go on, in its turn)."""
        self._toggle_pause(run_id, (LivePhase.RUNNING, LivePhase.WAITING), LivePhase.PAUSED)

    def unpause(self, run_id: int) -> None:
        """Let a paused run go on. (Resuming is another thing: going on from a checkpoint, ``resume_run``.)"""
        self._toggle_pause(run_id, (LivePhase.PAUSED,), LivePhase.RUNNING)

    def _toggle_pause(self, run_id: int, from_phases: tuple[LivePhase, ...], to_phase: LivePhase) -> None:
        with self._lock:
            job = self._jobs.get(run_id)
            if job and job.progress.phase in from_phases:
                (job.controls.pause.set if to_phase is LivePhase.PAUSED else job.controls.pause.clear)()
                job.progress = replace(job.progress, phase=to_phase)

    def stop_all(self) -> None:
        with self._lock:
            ids = list(self._jobs)
        for run_id in ids:
            self.stop(run_id)

    # ------------------------------------------------------------------ reading
    def progress(self, run_id: int) -> Progress | None:
        with self._lock:
            job = self._jobs.get(run_id)
            return job.progress if job else None

    def active(self) -> list[Progress]:
        """Runs of this process that are queued, loading, running or paused, in submission order."""
        with self._lock:
            return [j.progress for j in self._jobs.values() if j.progress.active]

    def wait(self, run_ids: Sequence[int] | None = None, timeout: float | None = None) -> bool:
        """Block until the given runs (default: all) have ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while True:
                pending = [i for i, j in self._jobs.items() if j.progress.active and (run_ids is None or i in run_ids)]
                if not pending:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining if remaining is not None else 1.0)

    # ------------------------------------------------------------------ the workers
    def _start_thread(self, run_id: int) -> None:
        """Train a run that has just been given a slot, in a daemon thread of its own."""
        threading.Thread(target=self._work, args=(run_id,), name=f"run-{run_id}", daemon=True).start()

    def _set(self, run_id: int, **changes: Any) -> None:
        with self._lock:
            job = self._jobs[run_id]
            job.progress = replace(job.progress, **changes)
            self._idle.notify_all()

    def _work(self, run_id: int) -> None:
        try:
            self._run(run_id)
        except Exception:  # the last line of defence: whatever happens, the slot goes to the next run
            traceback.print_exc()
        finally:
            self.store.close()  # this thread's connection
            self._turns.ended(run_id)

    def _run(self, run_id: int) -> None:
        with self._lock:
            job = self._jobs[run_id]
            config, callbacks, job.config, job.callbacks = job.config, job.callbacks, None, []
        assert config is not None, f"run {run_id} was started twice"
        outcome = self._execute(self.store, run_id, config, controls=job.controls, load=self._load_data,
                                callbacks=[_TakeTurns(self, run_id, job.controls), _LiveProgress(self, run_id),
                                           *callbacks], phase=_LivePhases(self, run_id),
                              train_eval_epochs=job.train_eval_epochs, resume=job.resume)
        self._set(run_id, phase=LivePhase.ENDED, status=outcome.status, message=outcome.message)
        self._prune()

    def _prune(self) -> None:
        """Forget the oldest ended runs beyond KEEP_ENDED (the store still has them)."""
        with self._lock:
            ended = [i for i, j in self._jobs.items() if not j.progress.active]
            for run_id in ended[:-KEEP_ENDED]:
                del self._jobs[run_id]


class _LivePhases(Phase):
    """Turns the execution path's phase hooks into this manager's live progress."""

    def __init__(self, manager: RunManager, run_id: int):
        self.manager, self.run_id = manager, run_id

    def loading(self) -> None:
        self.manager._set(self.run_id, phase=LivePhase.LOADING, message="loading the dataset")

    def training(self) -> None:
        paused = self.manager._jobs[self.run_id].controls.pause.is_set()
        self.manager._set(self.run_id, phase=LivePhase.PAUSED if paused else LivePhase.RUNNING,
                          status=RunStatus.RUNNING, started=time.time(), message="")


class _LiveProgress(Callback):
    """The trainer callback that moves the live progress on after each stored epoch."""

    def __init__(self, manager: RunManager, run_id: int):
        self.manager, self.run_id = manager, run_id

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.manager._set(self.run_id, epoch=epoch, latest=dict(logs))


class _TakeTurns(Callback):
    """Between batches: gives the run's slot up when its slice is over (a run of another owner waits) or
    while it is paused, and waits for its turn (``turns.py``). It runs first (``Order.TURN``); the run's
    state stays in this thread meanwhile, so the run goes on exactly where it was."""

    order = Order.TURN

    def __init__(self, manager: RunManager, run_id: int, controls: RunControls):
        self.manager, self.run_id, self.controls = manager, run_id, controls
        self.turns = manager._turns

    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None:
        pause, stop = self.controls.pause, self.controls.stop
        if not pause.is_set() and not self.turns.slice_over(self.run_id):
            return
        with threads.set_aside():
            while not stop.is_set():
                if pause.is_set():  # (also when paused just as its turn came)
                    self.turns.leave(self.run_id)
                    time.sleep(POLL_S)
                    continue
                self._phase(LivePhase.RUNNING, LivePhase.WAITING)
                if self.turns.wait_turn(self.run_id, lambda: stop.is_set() or pause.is_set()) \
                        and not pause.is_set():
                    self._phase(LivePhase.WAITING, LivePhase.RUNNING)
                    return

    def _phase(self, before: LivePhase, after: LivePhase) -> None:
        """Show ``after`` if the run shows ``before`` (a pause or stop meanwhile keeps what it set)."""
        with self.manager._lock:
            job = self.manager._jobs[self.run_id]
            if job.progress.phase is before:
                job.progress = replace(job.progress, phase=after)
