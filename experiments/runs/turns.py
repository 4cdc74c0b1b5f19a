"""Turns: the run manager's training slots, shared in time slices round-robin by owner, so that one long run
slows only its owner.

The manager trains at most ``slots`` runs at once (``runs_at_once()``: one per core). A run holds a slot
from when it starts until it ends, except that once it has held it for a **slice** (``SLICE_S``) while a
run of another owner waits, it gives the slot up at its next batch boundary and waits for its **turn**:
``FairQueue.put_back`` puts it first in its owner's line and its owner last in the turn order, so every
other owner waiting gets a slot first (owners whose runs are new go first, unless the run waiting mid-run has
waited ``PATIENCE_S``: then it is not passed over any more, so it cannot starve). A paused run gives its slot
up too, and queues for a turn when it is unpaused. Runs of one owner never take each other's slots (an owner's
runs keep their order, as on a laptop, where every run has the owner "").

Why a turnstile between batches and not "stop and resume from the checkpoint": a run waiting its turn keeps
its thread and its state in memory, exactly as a paused run does, so it goes on bit-identically by
construction (nothing is saved, restored or trained again; checkpoints are per epoch, and one epoch at batch
size 1 takes over a minute here). The cost is memory: a run waiting mid-run keeps its network, optimizer
state and batch buffer (the dataset is shared). So at most ``MAX_STARTED`` runs are started and not ended
at once; beyond that, new runs wait until one ends while the started ones go on taking turns. A class's
budget (``max_parameters``, ``experiments/runs/budget.py``) bounds each run's share of that memory.

No Streamlit and no store here: the manager (``runner.py``) starts a thread per run through ``start``.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from experiments.i18n import _
from experiments.runs.fair_queue import FairQueue

SLICE_S = 1.0  # the seconds a run trains before it gives its slot to a waiting run of another owner
# (3 s let a hog queued just before a class delay the first students' one-epoch runs 2.2x; 1 s: under 1.9x,
# benchmarks/bench_class_server.py; a turn costs no recomputation, only a wait)
SLICE_ENV = "MNIST_LAB_SLICE_S"  # set: another slice for this server (a teacher's choice, or a test's)
PATIENCE_S = 30.0  # a run waiting its turn this long is no longer passed over by other owners' new runs
# (FairQueue's aging: with 1 s slices a long run still gets a slice at least every half minute or so)
MAX_STARTED = 16  # runs started and not ended at once: holding a slot or waiting for a turn mid-run
POLL_S = 0.05  # how often a run waiting for its turn looks at its stop and pause flags


def slice_seconds() -> float:
    """The slice: ``MNIST_LAB_SLICE_S`` when set, else ``SLICE_S``."""
    configured = os.environ.get(SLICE_ENV, "").strip()
    if not configured:
        return SLICE_S
    try:
        value = float(configured)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(_("{variable} must be a number of seconds above 0, got {value}").format(
            variable=SLICE_ENV, value=repr(configured)))
    return value


@dataclass(eq=False)
class _Waiting:
    """A run waiting for a slot: a new one (``started`` False), or a started one waiting for its turn
    mid-run, whose thread goes on once ``granted`` is set."""

    run_id: int
    owner: str
    started: bool = False
    granted: threading.Event = field(default_factory=threading.Event)


class Turns:
    """Who trains now: ``slots`` runs at once, new runs started in turn by owner, slices handed round."""

    def __init__(self, slots: int, start: Callable[[int], None], max_started: int | None = None,
                 slice_s: float | None = None):
        self.slots = max(1, slots)
        self.max_started = max(self.slots, MAX_STARTED if max_started is None else max_started)
        self.slice_s = slice_seconds() if slice_s is None else slice_s
        self._start = start
        self._queue: FairQueue[_Waiting] = FairQueue(patience_s=PATIENCE_S)
        self._lock = threading.Lock()
        self._holding: dict[int, float] = {}  # run id -> time.monotonic() when its turn began
        self._owners: dict[int, str] = {}  # started runs, not ended yet -> their owner

    # ------------------------------------------------------------------ the manager's side
    def put(self, run_id: int, owner: str) -> None:
        """A new run waits in its owner's line; it starts (in a thread of its own) when it has a slot."""
        self._queue.put(_Waiting(run_id, owner), owner)
        self._dispatch()

    def ended(self, run_id: int) -> None:
        """The run's thread is done: its slot (if it held one) goes to the next run in turn."""
        with self._lock:
            self._holding.pop(run_id, None)
            self._owners.pop(run_id, None)
        self._dispatch()

    def holding(self) -> int:
        """Runs holding a slot now."""
        with self._lock:
            return len(self._holding)

    # ------------------------------------------------------------------ the run's side (its own thread)
    def slice_over(self, run_id: int) -> bool:
        """Whether the run has had its slice and a run of another owner waits for a slot: then it should
        ``wait_turn``. Cheap until the slice is over (called before every batch)."""
        since = self._holding.get(run_id)
        if since is None or time.monotonic() - since < self.slice_s:
            return False
        owner = self._owners.get(run_id, "")
        return self._queue.waiting(self._may_start, other_than=owner)

    def leave(self, run_id: int) -> None:
        """Give the run's slot up while it is paused (to the next run in turn); ``wait_turn`` takes one again."""
        with self._lock:
            self._holding.pop(run_id, None)
        self._dispatch()

    def give_way(self, run_id: int) -> _Waiting:
        """Give the run's slot up (if it holds one) and queue it for its turn: first in its owner's line, its
        owner last in the turn order, so the slot goes to another owner first. Returns its place in line."""
        owner = self._owners.get(run_id, "")
        comeback = _Waiting(run_id, owner, started=True)
        with self._lock:
            self._holding.pop(run_id, None)
            self._queue.put_back(comeback, owner)
        self._dispatch()
        return comeback

    def wait_turn(self, run_id: int, give_up: Callable[[], bool]) -> bool:
        """``give_way``, then wait for the run's turn: True once it holds a slot again, False if ``give_up()``
        became true first (a stop, a pause): then it is no longer queued and holds no slot."""
        comeback = self.give_way(run_id)
        while not comeback.granted.wait(POLL_S):
            if give_up() and self._queue.remove(comeback):
                return False
        return True

    # ------------------------------------------------------------------ handing out slots
    def _may_start(self, item: _Waiting) -> bool:
        """A started run may always have its turn; a new one only below ``max_started``."""
        return item.started or len(self._owners) < self.max_started

    def _dispatch(self) -> None:
        """Give every free slot to the next run in turn; start the new ones (outside the lock)."""
        new: list[int] = []
        with self._lock:
            while len(self._holding) < self.slots:
                item = self._queue.take(self._may_start)
                if item is None:
                    break
                self._holding[item.run_id] = time.monotonic()
                if item.started:
                    item.granted.set()
                else:
                    self._owners[item.run_id] = item.owner
                    new.append(item.run_id)
        for run_id in new:
            self._start(run_id)
