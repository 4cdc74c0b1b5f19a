"""How far runs have got, for every progress bar: a run that has ended is done.

A run counts its planned epochs while it may still train (queued or running). Once it has ended, by early
stopping, a Stop, a sweep's pruner, a divergence or a failure, the epochs it did not train will never come:
it counts as complete, with its trained epochs as its whole share. Counting the planned epochs instead left
a finished TPE sweep at "16 of 18 epochs" (89%), an early-stopped run at 22% and ``reproduce`` at 93% for
ever. The Train page, the Sweep page, the Report page and ``reproduce``'s bar all read this module.
"""
from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from experiments.i18n import N_, _, ngettext
from nn.status import END_MESSAGES as TRAINING_END_MESSAGES
from nn.status import RunStatus

# Why a run ended before its planned epochs, by its final status (FINISHED with fewer epochs: early stopping);
# marked for the catalog, read through ``_()`` where shown.
ENDED_WHY = {
    RunStatus.FINISHED: N_("early stopping"),
    RunStatus.STOPPED: N_("stopped"),
    RunStatus.PRUNED: N_("pruned by the sweep"),
    RunStatus.DIVERGED: N_("diverged"),
    RunStatus.FAILED: N_("failed"),
    RunStatus.INTERRUPTED: N_("interrupted"),
}
# A run's status or live phase in words, for a progress bar. The stored values (``--status``, the store) stay
# English; only the words shown on a page are translated.
STATUS_WORDS = {
    "queued": N_("queued"),
    "loading": N_("loading"),
    "running": N_("running"),
    "waiting its turn": N_("waiting its turn"),
    "paused": N_("paused"),
    "finished": N_("finished"),
    "stopped": N_("stopped"),
    "pruned": N_("pruned"),
    "diverged": N_("diverged"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}


def status_word(status: str) -> str:
    """A run's status or live phase ("finished", "paused") in the current language; an unknown one as it is."""
    word = STATUS_WORDS.get(str(status))
    return _(word) if word else str(status)


# Why a run ended, as the lab writes it into the run's message (beside fit's own, nn.status.END_MESSAGES): English
# templates, stored as written, read in the current language by ``shown_message``.
RESTORED_AT_END = N_("finished all epochs; weights restored from the best epoch, {epoch} (best {monitor})")
PROCESS_ENDED = N_("the process running it ended after {epochs} epoch(s); the finished epochs are kept and it can "
                   "be resumed")
NOT_RESUMED = N_("could not resume: {reason}")
UNEXPECTED_ERROR = N_("unexpected error: {reason}")
SETTINGS_UNREADABLE = N_("settings unreadable: {reason}")
STORE_NOT_UPDATED = N_("{message} (and the store could not be updated: {reason})")
OUT_OF_MEMORY = N_("out of memory: choose a smaller network or batch size")
DISK_FULL = N_("the disk is full: free some space, then resume the run ({where})")
SWEEP_STOPPED_BEFORE = N_("the sweep was stopped before this trial started")
SWEEP_ENDED_BEFORE = N_("the sweep ended before this trial finished")
PRUNED_BY_PRUNER = N_("pruned by the {pruner} pruner after epoch {epoch}: its validation accuracy was behind the "
                      "other trials' at that epoch")
PRUNED_BY_ASHA = N_("pruned by ASHA after epoch {epoch}")
STOPPED_BY_SWEEP = N_("stopped early by the sweep (ASHA or a stop request)")
RAY_TRIAL_ERROR = N_("the trial raised an error on Ray (details: {where})")
STOPPED_BEFORE_START = N_("stopped before it started")
WORKER_DIED = N_("a worker process died")
RAY_NODE_LOST = N_("lost on the Ray cluster at {address}: {reason}")
END_MESSAGES = (*TRAINING_END_MESSAGES, RESTORED_AT_END, PROCESS_ENDED, NOT_RESUMED, UNEXPECTED_ERROR,
                SETTINGS_UNREADABLE, STORE_NOT_UPDATED, OUT_OF_MEMORY, DISK_FULL, SWEEP_STOPPED_BEFORE,
                SWEEP_ENDED_BEFORE, PRUNED_BY_PRUNER, PRUNED_BY_ASHA, STOPPED_BY_SWEEP, RAY_TRIAL_ERROR,
                STOPPED_BEFORE_START, WORKER_DIED, RAY_NODE_LOST)
_NESTED = frozenset({"message"})  # a placeholder that holds another end message


@cache
def _end_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each end message's template with the pattern that matches a message written from it (a placeholder is any
    text; a placeholder named twice must hold the same text both times). The most specific template comes first,
    the one with the most fixed words, so that a template that extends another is not taken for it."""
    patterns = []
    for template in sorted(END_MESSAGES, key=lambda t: -sum(len(part[0]) for part in string.Formatter().parse(t))):
        parts, seen = [], set()
        for literal, name, _spec, _conversion in string.Formatter().parse(template):
            parts.append(re.escape(literal))
            if name is not None:
                parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
                seen.add(name)
        patterns.append((template, re.compile("".join(parts), re.DOTALL)))
    return tuple(patterns)


def shown_message(message: str) -> str:
    """A run's stored message in the current language. The store keeps it as written when the run ended, in English
    from one of ``END_MESSAGES``: the template it was written from is found and worded anew with the same values.
    A message from elsewhere (an error's own words) reads as stored."""
    for template, pattern in _end_patterns():
        match = pattern.fullmatch(message)
        if match:
            values = {name: shown_message(value) if name in _NESTED else value
                      for name, value in match.groupdict().items()}
            return _(template).format(**values)
    return message


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
        text = _("{done} of {total} epochs").format(done=self.done, total=self.total)
        if not self.not_needed:
            return text
        not_needed = ngettext("{n} planned epoch not needed", "{n} planned epochs not needed",
                              self.not_needed).format(n=self.not_needed)
        early = ngettext("{n} run ended early", "{n} runs ended early", self.ended_early).format(n=self.ended_early)
        return _("{reach} ({not_needed}: {ended_early})").format(reach=text, not_needed=not_needed,
                                                                 ended_early=early)


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
        return _("epoch {done}/{planned}").format(done=done, planned=planned)
    why = ENDED_WHY.get(parsed)
    return _("ended at epoch {done} of {planned} ({why})").format(done=done, planned=planned,
                                                                   why=_(why) if why else str(parsed))
