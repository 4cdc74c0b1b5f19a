"""Run several step-by-step jobs on a few worker threads, each job getting its fair share of the workers.

Why: a seed group of 3 models on 2 cores. Dealing the models into 2 fixed threads gives one thread 2
models and the other 1 (measured 1.13x the throughput of training them one after another, far from the
2 cores' worth), and 3 threads on 2 cores fight over the GIL (1.2x). Here each job is a generator that
does one unit of work (a training step) per ``next`` and yields its cost; ``workers`` threads (never more
than the cores they were given, each running BLAS on one thread) repeatedly take the idle job that has
done the least work so far and advance it by ``chunk`` work. So 3 jobs on 2 workers each get two thirds
of a core, all progress at one pace, and a job never runs on two threads at once (its steps stay in order).
No worker waits while a job is idle: a job slowed by something of its own (a slow callback) does not hold
the others back, they take the turns it cannot use.

``offsets`` start some jobs with work already counted against them, so jobs reach their ends one after
another and a job's last, indivisible piece of work (a model's final evaluation) overlaps another job's
training instead of leaving a worker idle at the very end.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np


class FairShare:
    """``run`` advances every job of ``jobs`` to its end; the first exception a job raises stops all and is
    re-raised (the other jobs stay where they were, as a failing ``fit`` leaves its run).

    A job's ``next`` runs on whichever worker took it (the calling thread is one of them), so per-thread state
    (a NumPy error state) must not be set inside a job: the workers set NumPy's to "ignore", as ``fit`` does.
    """

    def __init__(self, jobs: Sequence[Iterator[float]], chunk: float, offsets: Sequence[float] | None = None):
        self.chunk = chunk
        self.done = list(offsets or [0.0] * len(jobs))   # work counted per job (its offset first)
        self._idle = dict(enumerate(jobs))                 # jobs waiting for a worker, by index
        self._running = 0
        self._error: BaseException | None = None
        self._cond = threading.Condition()

    def run(self, workers: int) -> None:
        """Advance the jobs on ``workers`` threads (this one included) until every job has ended."""
        helpers = [threading.Thread(target=self._work, name=f"seed-group-{i + 1}", daemon=True)
                   for i in range(max(0, min(workers, len(self._idle)) - 1))]
        for helper in helpers:
            helper.start()
        self._work()
        for helper in helpers:
            helper.join()
        if self._error is not None:
            raise self._error

    def _take(self) -> tuple[int, Iterator[float]] | None:
        """The idle job that has done the least work (waiting while every unfinished job is running), or None
        when all have ended or one failed."""
        with self._cond:
            while not self._idle and self._running and self._error is None:
                self._cond.wait()
            if self._error is not None or not self._idle:
                return None
            index = min(self._idle, key=self.done.__getitem__)
            self._running += 1
            return index, self._idle.pop(index)

    def _work(self) -> None:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while (taken := self._take()) is not None:
                index, job = taken
                work, ended, error = 0.0, False, None
                try:
                    while work < self.chunk:
                        work += next(job)
                except StopIteration:
                    ended = True
                except BaseException as exc:  # re-raised by run in the caller's thread (a Ctrl-C there too),
                    # once the other workers have finished their chunks and stopped
                    ended, error = True, exc
                with self._cond:
                    self._running -= 1
                    self.done[index] += work
                    if error is not None and self._error is None:
                        self._error = error
                    if not ended:
                        self._idle[index] = job
                    self._cond.notify_all()
