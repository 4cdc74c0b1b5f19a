"""One SQLite connection per thread, each closable by its thread and all closable at shutdown.

A SQLite connection must stay in the thread that uses it, so a store shared by threads (the dashboard's
sessions, the run manager's workers) gives each thread its own, opened on first use. A thread whose work
is done closes its own (``close_mine``); a thread that ends without doing so drops its thread-local
holder, and the connection is closed when the holder is freed. The set of holders is weak for that
reason: it lets ``close_all`` reach every live connection without keeping dead threads' ones open.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


class _Held(Generic[C]):
    """One thread's connection; referenced strongly only by that thread's local storage."""

    __slots__ = ("conn", "closed", "__weakref__")

    def __init__(self, conn: C):
        self.conn, self.closed = conn, False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.close()


class ThreadConnections(Generic[C]):
    """Per-thread connections made by ``opener`` (which must pass ``check_same_thread=False``, so that
    ``close_all`` may close a connection from another thread; each is still used by one thread only)."""

    def __init__(self, opener: Callable[[], C]):
        self._opener = opener
        self._local = threading.local()
        self._all: weakref.WeakSet[_Held[C]] = weakref.WeakSet()
        self._lock = threading.Lock()

    def mine(self) -> C:
        """The calling thread's connection, opened on first use and again after it was closed."""
        held: _Held[C] | None = getattr(self._local, "held", None)
        if held is None or held.closed:
            held = self._local.held = _Held(self._opener())
            with self._lock:
                self._all.add(held)
        return held.conn

    def close_mine(self) -> None:
        """Close the calling thread's connection, if it has one."""
        held: _Held[C] | None = getattr(self._local, "held", None)
        if held is not None:
            held.close()
            self._local.held = None

    def close_all(self) -> None:
        """Close every thread's connection (when no other thread is using them: shutdown, tests)."""
        with self._lock:
            everyone = list(self._all)
        for held in everyone:
            held.close()
        self._local.held = None

    def open_count(self) -> int:
        """How many threads hold an open connection."""
        with self._lock:
            return sum(1 for held in self._all if not held.closed)
