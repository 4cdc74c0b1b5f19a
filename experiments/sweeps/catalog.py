"""The sweeps in a store, found from their runs: every trial is a run of the group ``<sweep id>`` tagged
``sweep:<sweep id>``, whichever process started it (the dashboard, the command line, Ray) and however long
ago. So the dashboard lists every sweep after a restart, not just the ones it started itself."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from experiments.i18n import ngettext
from experiments.store import RunRecord, RunStore
from experiments.store.records import source_word
from experiments.sweeps.spec import TAG_PREFIX
from nn.status import RunStatus

_TRIAL_NAME = re.compile(r"^(?P<name>.*) #\d+: ")  # spec.run_name: "<sweep name> #<index>: <settings>"

# How many trials have each status, in words ("3 finished"): a count decides the form in Spanish ("3 terminados",
# of trials, "intentos"), so each status has its own plural pair; the statuses stored stay English codes.
TRIAL_COUNTS: dict[str, Callable[[int], str]] = {
    RunStatus.QUEUED: lambda n: ngettext("{n} queued", "{n} queued", n),
    RunStatus.RUNNING: lambda n: ngettext("{n} running", "{n} running", n),
    RunStatus.FINISHED: lambda n: ngettext("{n} finished", "{n} finished", n),
    RunStatus.STOPPED: lambda n: ngettext("{n} stopped", "{n} stopped", n),
    RunStatus.DIVERGED: lambda n: ngettext("{n} diverged", "{n} diverged", n),
    RunStatus.FAILED: lambda n: ngettext("{n} failed", "{n} failed", n),
    RunStatus.INTERRUPTED: lambda n: ngettext("{n} interrupted", "{n} interrupted", n),
    RunStatus.PRUNED: lambda n: ngettext("{n} pruned", "{n} pruned", n),
}


def trial_counts(statuses: Mapping[str, int]) -> str:
    """E.g. "3 finished, 5 queued": the trials of each status (in the mapping's order), in the current language;
    an unknown status as it is stored."""
    return ", ".join(TRIAL_COUNTS[s](n).format(n=n) if s in TRIAL_COUNTS else f"{n} {s}"
                     for s, n in statuses.items())


def count_statuses(statuses: Iterable[str]) -> dict[str, int]:
    """How many of each status, in the order each first appears."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return counts


@dataclass(frozen=True)
class SweepSummary:
    """One stored sweep: its id, its name (from its trials' names), when it started, its trials' states."""

    sweep_id: str
    name: str
    created: str
    source: str
    run_ids: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any(RunStatus(s).is_active for s in self.statuses)

    def label(self) -> str:
        """e.g. "lr x batch · 2026-11-27 07:31 · 8 trials: 3 finished, 5 queued · cli"."""
        when = self.created[:16].replace("T", " ")
        trials = ngettext("{n} trial", "{n} trials", len(self.run_ids)).format(n=len(self.run_ids))
        return f"{self.name} · {when} · {trials}: {trial_counts(self.statuses)} · {source_word(self.source) or '?'}"


def sweep_id_of(run: RunRecord) -> str | None:
    """The sweep a run belongs to: its ``sweep:<id>`` tag, else a group id that names a sweep."""
    for tag in run.tags:
        if tag.startswith(TAG_PREFIX) and len(tag) > len(TAG_PREFIX):
            return tag[len(TAG_PREFIX):]
    return run.group_id if run.group_id and run.group_id.startswith("sw-") else None


def summarize(runs: Sequence[RunRecord]) -> list[SweepSummary]:
    """The sweeps these runs belong to, newest first."""
    groups: dict[str, list[RunRecord]] = {}
    for run in sorted(runs, key=lambda r: r.id):
        sweep_id = sweep_id_of(run)
        if sweep_id:
            groups.setdefault(sweep_id, []).append(run)
    sweeps = []
    for sweep_id, members in groups.items():
        first = members[0]
        match = _TRIAL_NAME.match(first.name)
        sweeps.append(SweepSummary(sweep_id, match.group("name") if match else sweep_id, first.created,
                                   first.source, [r.id for r in members], count_statuses(r.status for r in members)))
    # created has whole seconds: two sweeps of the same second are ordered by their runs' ids
    return sorted(sweeps, key=lambda s: (s.created, s.run_ids[0]), reverse=True)


def stored_sweeps(store: RunStore) -> list[SweepSummary]:
    """Every sweep in the store, newest first."""
    return summarize(store.search_runs(order_by="id", descending=False))
