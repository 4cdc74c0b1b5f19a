"""RunStatus: the one vocabulary for where a run stands, shared by the trainer, the store, the runner and the UI.

A ``StrEnum``, so a status compares equal to its stored text (``RunStatus.FINISHED == "finished"``) and
SQLite, JSON and CSV see plain words. ``fit`` ends a run as FINISHED, STOPPED or DIVERGED; the
experiments layer adds the states around training (QUEUED, RUNNING, FAILED, INTERRUPTED, PRUNED).
"""
from __future__ import annotations

from enum import StrEnum


def N_(text: str) -> str:
    """Marks a text for the lab's catalog (babel.cfg lists this file); nn itself never translates it."""
    return text


# Why a run ended, as fit's callbacks write it into the run's message: English templates, stored as written (the
# store keeps one language); experiments.runs.completion.message_text reads a stored one in the current language.
STOPPED_BY_USER = N_("stopped by the user during epoch {epoch}")
LOSS_NOT_FINITE = N_("the loss became {loss} in epoch {epoch}, batch {batch}: the learning rate ({lr}) is too high, "
                     "lower it")
LOSS_EXPLODED = N_("the loss exploded to {loss} in epoch {epoch}, batch {batch}: the learning rate ({lr}) is too "
                   "high, lower it")
PARAMETERS_OVERFLOWED = N_("the parameters overflowed in epoch {epoch}: the learning rate ({lr}) is too high, lower it")
EARLY_STOPPED = N_("early stopping after epoch {epoch}: {monitor} has not improved by more than {min_delta} for "
                   "{patience} epoch(s); best {monitor} {best} at epoch {best_epoch}")
EARLY_STOPPED_RESTORED = N_("early stopping after epoch {epoch}: {monitor} has not improved by more than {min_delta} "
                            "for {patience} epoch(s); best {monitor} {best} at epoch {best_epoch}; weights restored "
                            "from epoch {best_epoch}")
END_MESSAGES = (STOPPED_BY_USER, LOSS_NOT_FINITE, LOSS_EXPLODED, PARAMETERS_OVERFLOWED, EARLY_STOPPED,
                EARLY_STOPPED_RESTORED)


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
