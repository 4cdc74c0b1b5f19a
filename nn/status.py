"""RunStatus: the one vocabulary for where a run stands, shared by the trainer, the store, the runner and the UI.

A ``StrEnum``, so a status compares equal to its stored text (``RunStatus.FINISHED == "finished"``) and
SQLite, JSON and CSV see plain words. ``fit`` ends a run as FINISHED, STOPPED or DIVERGED; the
experiments layer adds the states around training (QUEUED, RUNNING, FAILED, INTERRUPTED, PRUNED).
"""
from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run stands. ``is_active`` runs may still change; every other status is final."""

    QUEUED = "queued"            # stored, waiting for a worker
    RUNNING = "running"          # a worker is training it (possibly paused)
    FINISHED = "finished"        # trained every epoch it was asked for
    STOPPED = "stopped"          # stopped by the user (or an early-stopping rule); finished epochs kept
    DIVERGED = "diverged"        # the loss became non-finite or exploded: a result, not an error
    FAILED = "failed"            # could not train (missing data, a bug); the message says why
    INTERRUPTED = "interrupted"  # the process running it died; finished epochs kept
    PRUNED = "pruned"            # ended early by a sweep's pruner; finished epochs kept

    @property
    def is_active(self) -> bool:
        """True while the run may still change (queued or running)."""
        return self in ACTIVE

    @property
    def is_final(self) -> bool:
        return not self.is_active

    @classmethod
    def parse(cls, value: str) -> RunStatus:
        """The status named by ``value``; ValueError with the known names otherwise."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"unknown status {value!r}; one of {', '.join(s.value for s in cls)}") from None


ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
