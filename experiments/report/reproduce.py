"""Queue the report's comparisons through the RunManager into the store, and show a text progress bar.

All the runs of one ``reproduce`` share a group id (``report-<UTC time>``) and the tags ``report`` and
``report:<comparison>``, so the dashboard and ``python -m experiments report`` can find them again.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from experiments.i18n import _
from experiments.report.presets import Comparison, PlannedRun, plan
from experiments.runs.completion import Completion
from experiments.runs.runner import MAX_QUEUED, LivePhase, RunManager
from experiments.store import StoreError
from nn.status import RunStatus

GROUP_PREFIX = "report-"
SCALE_TAG = "epochs-scale:"   # present when the epochs were scaled down, e.g. "epochs-scale:0.1"


def new_group_id() -> str:
    return GROUP_PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class Queued:
    """What ``queue`` submitted: the group, the planned runs and their ids (in the same order)."""

    group_id: str
    planned: list[PlannedRun]
    run_ids: list[int]

    @property
    def total_epochs(self) -> int:
        return sum(p.config.epochs for p in self.planned)


def queue(manager: RunManager, comparisons: Sequence[Comparison], seeds: int,
          group_id: str | None = None, source: str = "cli", student: str = "") -> Queued:
    """Plan the trainings for ``comparisons`` (with ``seeds`` seeds each) and submit them all (as ``student``'s
    runs on a class server: they queue in that student's turn)."""
    planned = plan(comparisons, seeds)
    if len(planned) > MAX_QUEUED:
        raise StoreError(_("{n} runs would be queued, more than the {max} allowed: use fewer seeds").format(
            n=len(planned), max=MAX_QUEUED))
    group_id = group_id or new_group_id()
    scale = comparisons[0].epochs_scale if comparisons else 1.0
    extra = [f"{SCALE_TAG}{scale:g}"] if scale != 1 else []
    ids = [manager.submit(p.config, name=p.name, group_id=group_id, source=source,
                          train_eval_epochs=p.eval_epochs, tags=[*p.tags, *extra], student=student) for p in planned]
    return Queued(group_id, planned, ids)


@dataclass
class Tally:
    """Where a reproduction's runs stand: epochs done and still to train, runs ended, running, ended early."""

    done: int = 0
    todo: int = 0
    ended: int = 0
    running: int = 0
    early: int = 0


class ProgressBar:
    """A one-line text progress bar over all the queued epochs (a new line per finished run if not a tty)."""

    def __init__(self, queued: Queued, out: TextIO = sys.stdout, width: int = 30):
        self.queued, self.out, self.width = queued, out, width
        self.started = time.monotonic()
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self._reported_done = 0

    def state(self, manager: RunManager) -> Tally:
        """Where the queued runs stand, summed over the runs; a run that ended early has no epochs to do."""
        t = Tally()
        for run_id, p in zip(self.queued.run_ids, self.queued.planned):
            progress = manager.progress(run_id)
            if progress is None:
                t.todo += p.config.epochs
                continue
            t.done += progress.epoch
            if progress.active:
                t.todo += p.config.epochs - progress.epoch
                t.running += progress.phase in (LivePhase.RUNNING, LivePhase.PAUSED, LivePhase.LOADING)
            else:
                t.ended += 1
                t.early += progress.status != RunStatus.FINISHED
        return t

    def line(self, manager: RunManager) -> str:
        t = self.state(manager)
        reach = Completion(t.done, t.todo, len(self.queued.run_ids), t.ended)
        total, fraction = reach.total, reach.fraction  # the epochs of runs that ended early are not waited for
        filled = int(round(fraction * self.width))
        elapsed = time.monotonic() - self.started
        eta = f" ~{_duration(elapsed / t.done * t.todo)} left" if t.done and t.todo else ""
        problems = f", {t.early} ended early (stopped, diverged or failed)" if t.early else ""
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}  {t.done}/{total} epochs  "
                f"{t.ended}/{len(self.queued.run_ids)} runs done, {t.running} running{problems}  "
                f"{_duration(elapsed)}{eta}")

    def update(self, manager: RunManager, final: bool = False) -> None:
        text = self.line(manager)
        if self.tty:
            self.out.write("\r" + text.ljust(110) + ("\n" if final else ""))
        else:
            ended = self.state(manager).ended
            if ended == self._reported_done and not final:
                return
            self._reported_done = ended
            self.out.write(text + "\n")
        self.out.flush()


def wait_with_progress(manager: RunManager, queued: Queued, out: TextIO = sys.stdout, every: float = 0.5) -> float:
    """Block until every queued run has ended, redrawing the bar; returns the wall time in seconds."""
    bar = ProgressBar(queued, out)
    while not manager.wait(queued.run_ids, timeout=every):
        bar.update(manager)
    bar.update(manager, final=True)
    return time.monotonic() - bar.started


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
