"""FairQueue: the run manager's queue, round-robin by owner (the run's student), so one owner cannot fill it.

Each owner (the classroom name a run carries; "" outside a class) has their own FIFO line; ``take`` hands
out the head of the next owner's line in turn, and that owner goes to the back of the turn order. An owner
who queues ten runs before anyone else gets the first, then every other owner with runs waiting gets one,
then the second, and so on. Outside a class every run has the same owner "", and the queue is a plain FIFO.

A run that gave up its training slot mid-run (its slice ended, ``experiments/runs/turns.py``) comes back
with ``put_back``: first in its owner's line (ahead of the owner's runs not started yet, so an owner's own
runs keep their order), its owner last in the turn order (it has just had its turn). An owner who arrives
later with a new run goes ahead of the owners whose next run waits mid-run: those have had a slice, the
newcomer none, so short runs go first (a multilevel feedback queue's rule; a long run goes on whenever no
new run waits). Unless it has waited ``patience_s`` already: then newcomers queue behind it (aging, the same
queue's cure for starvation), so a steady stream of short runs delays a long one, but never for ever.
Thread-safe.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def _anything(item: object) -> bool:
    return True


class FairQueue(Generic[T]):
    """Items queued per key, handed out round-robin over the keys with items waiting."""

    def __init__(self, patience_s: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """``patience_s``: how long an item put back may be passed over by newcomers (None: for ever)."""
        self._lines: OrderedDict[str, deque[T]] = OrderedDict()  # the order is the turn order
        self._ahead: dict[str, int] = {}  # per key: how many of its first items were put back
        self._put_back_at: dict[str, float] = {}  # per key with items put back: since when the first waits
        self.patience_s, self._clock = patience_s, clock
        self._ready = threading.Condition()

    def put(self, item: T, key: str = "") -> None:
        """Queue ``item`` at the end of ``key``'s line; a new key goes ahead of the keys whose next item was
        put back (and behind every other)."""
        with self._ready:
            if key in self._lines:
                self._lines[key].append(item)
            else:
                self._lines[key] = deque([item])
                for waiting_mid_run in [k for k in self._lines if self._ahead.get(k) and not self._overdue(k)]:
                    self._lines.move_to_end(waiting_mid_run)
            self._ready.notify()

    def _overdue(self, key: str) -> bool:
        """Whether ``key``'s item put back has waited ``patience_s``: newcomers no longer go ahead of it."""
        since = self._put_back_at.get(key)
        return self.patience_s is not None and since is not None and self._clock() - since >= self.patience_s

    def put_back(self, item: T, key: str = "") -> None:
        """Queue an item that has had a turn and goes on later: ahead of ``key``'s items that were only
        ``put`` (behind those put back before it), and ``key`` to the back of the turn order."""
        with self._ready:
            line = self._lines.pop(key, deque())
            ahead = self._ahead.get(key, 0)
            line.insert(ahead, item)
            self._ahead[key] = ahead + 1
            self._put_back_at.setdefault(key, self._clock())
            self._lines[key] = line
            self._ready.notify()

    def take(self, accept: Callable[[T], bool] = _anything) -> T | None:
        """The head of the first line in turn order whose head ``accept`` takes (None if none): that line
        then goes to the back of the turn order; a line passed over keeps its place."""
        with self._ready:
            for key, line in self._lines.items():
                if accept(line[0]):
                    return self._pop_head(key)
            return None

    def get(self) -> T:
        """The next item in turn, waiting for one."""
        with self._ready:
            while not self._lines:
                self._ready.wait()
            return self._pop_head(next(iter(self._lines)))

    def waiting(self, accept: Callable[[T], bool] = _anything, other_than: str | None = None) -> bool:
        """Whether a line (of another key than ``other_than``) has a head ``accept`` takes."""
        with self._ready:
            return any(key != other_than and accept(line[0]) for key, line in self._lines.items())

    def remove(self, item: T) -> bool:
        """Withdraw ``item`` wherever it waits; False if it is not queued (e.g. already taken)."""
        with self._ready:
            for key, line in self._lines.items():
                if item in line:
                    if line.index(item) < self._ahead.get(key, 0):
                        self._ahead[key] -= 1
                        if not self._ahead[key]:
                            self._put_back_at.pop(key, None)
                    line.remove(item)
                    if not line:
                        self._drop(key)
                    return True
            return False

    def _pop_head(self, key: str) -> T:
        line = self._lines.pop(key)
        item = line.popleft()
        if self._ahead.get(key):
            self._ahead[key] -= 1
            if not self._ahead[key]:
                self._put_back_at.pop(key, None)
        if line:
            self._lines[key] = line  # back of the turn order
        else:
            self._ahead.pop(key, None)
            self._put_back_at.pop(key, None)
        return item

    def _drop(self, key: str) -> None:
        del self._lines[key]
        self._ahead.pop(key, None)
        self._put_back_at.pop(key, None)

    def __len__(self) -> int:
        with self._ready:
            return sum(len(line) for line in self._lines.values())
