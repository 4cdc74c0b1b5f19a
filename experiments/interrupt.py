"""Ctrl-C in the command line: stop the work after its current batch, keep what finished, exit 130.

A script must be able to tell a run stopped by Ctrl-C from a finished one, so every command that trains
(``run``, ``sweep``) exits with ``EXIT_INTERRUPTED`` (128 + SIGINT, what shells report for a process
ended by Ctrl-C) and says so in one line on standard error.
"""
from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from experiments.i18n import _

EXIT_INTERRUPTED = 130


class CtrlC:
    """Inside ``with CtrlC(stop) as ctrl_c:`` Ctrl-C calls ``stop()`` instead of raising KeyboardInterrupt;
    ``ctrl_c.pressed`` says afterwards whether it was pressed. The previous handler comes back on exit.

    Whatever handler was there before (Python's, which raises KeyboardInterrupt, or one that raises nothing, as a
    Ray driver's after ``ray.init``), Ctrl-C or a Jupyter kernel's interrupt stops the work. Outside the main
    thread, where Python delivers no signal and allows no handler, it does nothing."""

    def __init__(self, stop: Callable[[], None]):
        self.stop = stop
        self.pressed = False
        self._previous: object = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.pressed = True
        self.stop()

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]  # what signal.signal returned


def say_interrupted(what: str) -> int:
    """One line on standard error about what Ctrl-C stopped; returns the exit code to use."""
    print(_("stopped by Ctrl-C: {what}").format(what=what), file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED
