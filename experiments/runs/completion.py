"""How far runs have got, for every progress bar: a run that has ended is done.

A run counts its planned epochs while it may still train (queued or running). Once it has ended, by early
stopping, a Stop, a sweep's pruner, a divergence or a failure, the epochs it did not train will never come:
it counts as complete, with its trained epochs as its whole share. Counting the planned epochs instead left
a finished TPE sweep at "16 of 18 epochs" (89%), an early-stopped run at 22% and ``reproduce`` at 93% for
ever. The Train page, the Sweep page, the Report page and ``reproduce``'s bar all read this module.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from experiments.i18n import _, ngettext
from nn.status import RunStatus

# Why a run ended before its planned epochs, by its final status (FINISHED with fewer epochs: early stopping).
ENDED_WHY = {
    RunStatus.FINISHED: "early stopping",
    RunStatus.STOPPED: "stopped",
    RunStatus.PRUNED: "pruned by the sweep",
    RunStatus.DIVERGED: "diverged",
    RunStatus.FAILED: "failed",
    RunStatus.INTERRUPTED: "interrupted",
}


@dataclass(frozen=True)
class RunEpochs:
    """One run for a progress bar: epochs trained, epochs planned, and whether it may still train."""

    done: int
    planned: int
    active: bool


@dataclass(frozen=True)
class Completion:
    """Epochs trained and epochs still to come over some runs (ended runs have none to come)."""

    done: int = 0
    remaining: int = 0
    runs: int = 0
    ended: int = 0
    ended_early: int = 0   # runs that ended before their planned epochs
    not_needed: int = 0    # the planned epochs those runs will never train

    @property
    def total(self) -> int:
        """The epochs the bar counts to: trained, plus those the active runs still have to train."""
        return self.done + self.remaining

    @property
    def fraction(self) -> float:
        """In [0, 1]; 1 exactly when every run has ended (0 for no runs)."""
        if self.runs and self.ended == self.runs:
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def epochs_text(self) -> str:
        """E.g. "16 of 16 epochs (2 planned epochs not needed: 1 run ended early)"."""
        text = _("{done} of {n} epochs").format(done=self.done, n=self.total)  # "0 of 1 epochs", as it always read
        if self.not_needed:
            runs = ngettext("{n} run ended early", "{n} runs ended early", self.ended_early).format(n=self.ended_early)
            text += ngettext(" ({n} planned epoch not needed: {runs})", " ({n} planned epochs not needed: {runs})",
                             self.not_needed).format(n=self.not_needed, runs=runs)
        return text


def completion(runs: Iterable[RunEpochs]) -> Completion:
    """The completion of ``runs`` together."""
    done = remaining = count = ended = early = not_needed = 0
    for r in runs:
        count += 1
        done += r.done
        if r.active:
            remaining += max(r.planned - r.done, 0)
            continue
        ended += 1
        if r.done < r.planned:
            early += 1
            not_needed += r.planned - r.done
    return Completion(done, remaining, count, ended, early, not_needed)


def run_fraction(done: int, planned: int, active: bool) -> float:
    """One run's share done: 1 once it has ended, whatever epoch it ended at."""
    return completion([RunEpochs(done, planned, active)]).fraction


def run_epochs_text(done: int, planned: int, status: str) -> str:
    """"epoch 3/40" while a run trains or when it trained them all; "ended at epoch 9 of 40 (early stopping)"
    when it ended before its planned epochs."""
    try:
        parsed = RunStatus.parse(status)
    except ValueError:  # a live phase such as "paused" or "loading": still active
        parsed = RunStatus.RUNNING
    if parsed.is_active or done >= planned:
        return f"epoch {done}/{planned}"
    return f"ended at epoch {done} of {planned} ({ENDED_WHY.get(parsed, str(parsed))})"
