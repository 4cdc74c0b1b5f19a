"""The sweeps in a store, found from their runs: every trial is a run of the group ``<sweep id>`` tagged
``sweep:<sweep id>``, whichever process started it (the dashboard, the command line, Ray) and however long
ago. So the dashboard lists every sweep after a restart, not just the ones it started itself."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from experiments.i18n import _
from experiments.store import RunRecord, RunStore
from experiments.sweeps.spec import TAG_PREFIX
from nn.status import RunStatus

_TRIAL_NAME = re.compile(r"^(?P<name>.*) #\d+: ")  # spec.run_name: "<sweep name> #<index>: <settings>"


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
        states = ", ".join(f"{n} {s}" for s, n in self.statuses.items())
        when = self.created[:16].replace("T", " ")
        trials = _("{n} trials").format(n=len(self.run_ids))  # one form: the English label reads as it always did
        return f"{self.name} · {when} · {trials}: {states} · {self.source or '?'}"


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
        statuses: dict[str, int] = {}
        for run in members:
            statuses[run.status] = statuses.get(run.status, 0) + 1
        sweeps.append(SweepSummary(sweep_id, match.group("name") if match else sweep_id, first.created,
                                   first.source, [r.id for r in members], statuses))
    # created has whole seconds: two sweeps of the same second are ordered by their runs' ids
    return sorted(sweeps, key=lambda s: (s.created, s.run_ids[0]), reverse=True)


def stored_sweeps(store: RunStore) -> list[SweepSummary]:
    """Every sweep in the store, newest first."""
    return summarize(store.search_runs(order_by="id", descending=False))
