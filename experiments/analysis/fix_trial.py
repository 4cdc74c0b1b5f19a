""""Try this fix": queue a run's settings and the diagnosis's fixed settings, a few seeds each, as one group,
and judge with Welch's t-test whether the fix helped, by how much, or is within seed noise.

The group's id names the run it tests (``fix-<run id>-<random>``), so the verdict can be recomputed from the
store alone (after a restart, or from another process): runs of the group with the original run's settings
are the baseline, the others the fix.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from experiments.access import Identity
from experiments.analysis import ranking, seeds, stats
from experiments.analysis.diagnosis import DiagnosisKind, Finding, diagnose
from experiments.analysis.rounding import acc_percent
from experiments.config import MAX_SEED, RunConfig
from experiments.i18n import _, ngettext
from experiments.store import RunRecord, RunStore
from experiments.store.dynamics import get_layer_stats
from nn.status import RunStatus

PREFIX = "fix-"
SEEDS = 3


class NoFixError(ValueError):
    """The run has no finding with a fix (or not the one asked for): the message says which."""


class Submitter(Protocol):
    """What queues runs: ``RunManager.submit_many``."""

    def submit_many(self, configs: list[RunConfig], names: list[str | None] | None = None,
                    group_id: str | None = None, source: str = "dashboard", *,
                    identity: Identity | None = None) -> list[int]: ...


@dataclass(frozen=True)
class FixPlan:
    """The runs a fix trial queues: the original settings and the fixed ones, with the same seeds."""

    run_id: int
    finding: Finding
    original: RunConfig
    fixed: RunConfig
    seeds: tuple[int, ...]

    def configs(self) -> list[RunConfig]:
        return [c.replace(seed=s) for c in (self.original, self.fixed) for s in self.seeds]

    def names(self) -> list[str | None]:
        return [f"fix {self.run_id}: {role} seed {s}" for role in ("original", "fixed") for s in self.seeds]


def run_findings(store: RunStore, run_id: int) -> tuple[RunRecord, list[Finding]]:
    """A stored run and its diagnosis from everything it logged."""
    run = store.get_run(run_id)
    return run, diagnose(store.get_epochs(run_id), run.status, run.message, run.config,
                         layers=get_layer_stats(store, run_id))


def plan_fix(store: RunStore, run_id: int, kind: DiagnosisKind | None = None, seeds: int = SEEDS) -> FixPlan:
    """The trial for ``run_id``'s first finding with a fix (or its finding of ``kind``); NoFixError if none."""
    run, findings = run_findings(store, run_id)
    if run.config is None:
        raise NoFixError(_("run {id} has unreadable settings: there is nothing to fix").format(id=run_id))
    candidates = [f for f in findings if f.fix and (kind is None or f.kind == kind)]
    if not candidates:
        said = ", ".join(f.kind for f in findings) or _("nothing wrong")
        refusal = (_("run {id} has no '{kind}' finding (its diagnosis: {diagnosis})") if kind
                   else _("run {id} has no finding with a fix (its diagnosis: {diagnosis})"))
        raise NoFixError(refusal.format(id=run_id, kind=kind, diagnosis=said))
    finding = candidates[0]
    fixed = finding.fixed_config()
    if fixed is None:  # cannot happen: a candidate has a fix and the run has settings
        raise NoFixError(_("run {id}: the fix could not be applied").format(id=run_id))
    first = min(run.config.seed, MAX_SEED - seeds + 1)
    return FixPlan(run_id, finding, run.config, fixed, tuple(range(first, first + seeds)))


def queue_fix(submitter: Submitter, plan: FixPlan, source: str = "dashboard",
              identity: Identity | None = None) -> str:
    """Queue the plan's runs as one group, under ``identity`` (whose turns and budget they take); its id."""
    group_id = f"{PREFIX}{plan.run_id}-{uuid.uuid4().hex[:8]}"
    submitter.submit_many(plan.configs(), plan.names(), group_id=group_id, source=source, identity=identity)
    return group_id


def run_under_trial(group_id: str) -> int | None:
    """The run a fix group tests, from its id (None for another kind of group)."""
    parts = group_id.split("-")
    return int(parts[1]) if len(parts) == 3 and group_id.startswith(PREFIX) and parts[1].isdigit() else None


@dataclass(frozen=True)
class FixVerdict:
    """The trial's outcome: each side's accuracies at each seed's last epoch (validation when every run holds
    out a validation set, as Compare judges; else test; never at the best epoch, which is chosen on the
    validation numbers tested: see ``seeds.VERDICT_BY``) and Welch's verdict (fix - original)."""

    original: list[float]
    fixed: list[float]
    verdict: stats.Verdict
    pending: int              # runs of the group still queued or training
    failed: int               # runs that ended without an accuracy
    metric: str = "test_acc"  # "val_acc" or "test_acc": what was compared

    @property
    def text(self) -> str:
        if not self.original or not self.fixed:
            return _("No verdict yet: both sides need finished runs.")
        mean = stats.spread
        what = seeds.verdict_subject(self.metric).capitalize()
        head = _("{what} {original} with the original settings, {fixed} with the fix").format(
            what=what, original=acc_percent(mean(self.original).mean), fixed=acc_percent(mean(self.fixed).mean))
        if self.verdict.real:
            head = (_("The fix helped: {result}") if self.verdict.diff > 0
                    else _("The fix made it worse: {result}")).format(result=head)
        still = (ngettext(" ({n} run still to come)", " ({n} runs still to come)", self.pending).format(
            n=self.pending) if self.pending else "")
        return _("{result}; {verdict}{still}.").format(result=head, verdict=self.verdict.text, still=still)


def fix_verdict(store: RunStore, group_id: str) -> FixVerdict:
    """Judge a fix group from the store; ValueError if ``group_id`` is not a fix group."""
    run_id = run_under_trial(group_id)
    if run_id is None:
        raise ValueError(_("{group} is not a fix trial's group").format(group=repr(group_id)))
    base = store.get_run(run_id).config
    runs = store.search_runs(group_id=group_id, order_by="id", descending=False)
    original = [r for r in runs if _same(r.config, base)]
    fixed = [r for r in runs if r not in original]
    metric = ranking.metric_for(bool(runs) and all(r.has_validation for r in runs))
    values = {r.id: ranking.value(r, metric, seeds.VERDICT_BY) for r in runs}
    accs = [[v for r in side if (v := values[r.id]) is not None] for side in (original, fixed)]
    verdict = stats.verdict(accs[1], accs[0], _("fix"), _("original"))
    pending = sum(RunStatus(r.status).is_active for r in runs)
    failed = sum(values[r.id] is None and not RunStatus(r.status).is_active for r in runs)
    return FixVerdict(accs[0], accs[1], verdict, pending, failed, metric)


def _same(config: Any, base: RunConfig | None) -> bool:
    return config is not None and base is not None and config.replace(seed=0) == base.replace(seed=0)
