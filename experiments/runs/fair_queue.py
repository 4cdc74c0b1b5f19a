"""FairQueue: the run manager's queue, round-robin by student, so one student cannot fill it.

Each student (the classroom name a run carries; "" outside a class) has their own FIFO line; ``get`` takes
the head of the next student's line in turn. A student who queues ten runs before anyone else gets the
first, then every other student with runs waiting gets one, then the second, and so on. Outside a class
every run has the same student "", and the queue is a plain FIFO, as before. Thread-safe; ``get`` blocks.
"""
from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Items queued per key, handed out round-robin over the keys with items waiting."""

    def __init__(self) -> None:
        self._lines: OrderedDict[str, deque[T]] = OrderedDict()  # the order is the turn order
        self._ready = threading.Condition()

    def put(self, item: T, key: str = "") -> None:
        with self._ready:
            self._lines.setdefault(key, deque()).append(item)
            self._ready.notify()

    def get(self) -> T:
        """The next item: the head of the line whose turn it is; that line then goes to the back."""
        with self._ready:
            while not self._lines:
                self._ready.wait()
            key, line = next(iter(self._lines.items()))
            item = line.popleft()
            del self._lines[key]
            if line:
                self._lines[key] = line  # back of the turn order
            return item

    def __len__(self) -> int:
        with self._ready:
            return sum(len(line) for line in self._lines.values())
