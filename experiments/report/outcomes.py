"""What our stored runs say about each comparison of the report: numbers per line, and a verdict.

``outcome`` is pure (runs and their epochs in, an ``Outcome`` out); ``collect`` reads the store for the
newest reproduction of each comparison. A line's numbers are read at its epoch, as the report did: our
training accuracy is a full pass over the training set after that epoch (the running average over the
epoch's batches is used only when a run has no full pass stored, and then it is said so). Each seed counts
once: runs repeating a line's settings and seed (a comparison queued twice) are collapsed before any
statistic (``seeds.one_per_seed``). Everything here is data; ``wording`` turns it into sentences.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from experiments.analysis import stats
from experiments.analysis.seeds import one_per_seed
from experiments.i18n import _, ngettext
from experiments.report.presets import Claim, Comparison, Member, line_name, training_key, variants
from experiments.report.reproduce import GROUP_PREFIX, SCALE_TAG
from experiments.store import RunRecord, RunStore
from experiments.store.export import epochs_frame
from nn.status import RunStatus


class ClaimOutcome(Enum):
    """Whether the report's conclusion holds for our runs (one claim, or a comparison over all its claims).

    The words shown for each are in ``experiments.report.wording``.
    """

    HOLDS = "holds"
    REVERSED = "reversed"      # our runs show the opposite order, beyond seed noise
    NOT_SHOWN = "not shown"    # the difference is within seed noise
    PARTLY = "partly holds"    # some claims hold, others do not (comparisons only)
    UNKNOWN = "unknown"        # too few runs to judge


@dataclass
class LineResult:
    """Our numbers for one line of a comparison, over its seeds (accuracies as fractions)."""

    member: Member
    run_ids: list[int]
    train: stats.Spread          # training-set accuracy, read as the report read its number
    test: stats.Spread           # test-set accuracy, read the same way
    train_values: list[float] = field(default_factory=list)
    test_values: list[float] = field(default_factory=list)
    train_is_running_average: bool = False   # True if some run had no full pass stored
    final_test_values: list[float] = field(default_factory=list)   # test accuracy at the read epoch: the verdict's data
    diverged: int = 0            # seeds whose run diverged before the read epoch (no numbers, a useless network)
    duplicates: list[int] = field(default_factory=list)   # runs repeating a counted (settings, seed): left out

    @property
    def final_test(self) -> stats.Spread:
        return stats.spread(self.final_test_values)

    @property
    def all_diverged(self) -> bool:
        return self.diverged > 0 and not self.final_test_values

    def text(self, which: str = "test") -> str:
        """The spread as text (``which``: "test", "train" or "final_test"), with any diverged seeds said."""
        base = getattr(self, which).text()
        if not self.diverged:
            return base
        total = self.diverged + getattr(self, which).n
        note = ngettext("diverged ({n} of {total} seed)", "diverged ({n} of {total} seeds)", total).format(
            n=self.diverged, total=total)
        return note if self.all_diverged else f"{base}; {note}"


@dataclass
class ClaimResult:
    claim: Claim
    verdict: stats.Verdict
    status: ClaimOutcome         # HOLDS, REVERSED, NOT_SHOWN or UNKNOWN


@dataclass
class Outcome:
    """One comparison as reproduced: the group it came from, each line's numbers, each claim's verdict."""

    comparison: Comparison
    group_id: str | None
    lines: list[LineResult]
    claims: list[ClaimResult]
    train_size: int = 0
    waiting: list[int] = field(default_factory=list)   # runs still to reach their line's epoch (``waiting_runs``)

    @property
    def complete(self) -> bool:
        """Every run of the comparison has its epochs (none is still queued or training towards them) and
        every line has a number or diverged: only then is there a verdict (a verdict on the seeds that
        happen to be done first would change as the others finish)."""
        return not self.waiting and all(line.test.n or line.diverged for line in self.lines)

    @property
    def status(self) -> ClaimOutcome:
        """Whether the report's conclusion holds for our (correct) network, over all its claims."""
        kinds = [c.status for c in self.claims]
        if not kinds or ClaimOutcome.UNKNOWN in kinds:
            return ClaimOutcome.UNKNOWN
        if ClaimOutcome.REVERSED in kinds:
            return ClaimOutcome.REVERSED
        if all(k is ClaimOutcome.HOLDS for k in kinds):
            return ClaimOutcome.HOLDS
        return ClaimOutcome.PARTLY if ClaimOutcome.HOLDS in kinds else ClaimOutcome.NOT_SHOWN

    @property
    def both_diverged(self) -> bool:
        """Whether a claim cannot be judged because both its lines diverged on every seed: no more waiting
        will decide it (the verdict is "cannot tell", and the words must not say "yet")."""
        return any(c.status is ClaimOutcome.UNKNOWN and self.line(c.claim.better).all_diverged
                   and self.line(c.claim.worse).all_diverged for c in self.claims)

    @property
    def duplicates(self) -> list[int]:
        """Ids of runs left out because they repeat a counted run's settings and seed."""
        return sorted({i for line in self.lines for i in line.duplicates})

    @property
    def seeds(self) -> list[int]:
        """The number of seeds counted per line (for the note on the test's power)."""
        return [line.final_test.n for line in self.lines if line.final_test.n]

    def line(self, label: str) -> LineResult:
        for line in self.lines:
            if line.member.label == label:
                return line
        raise KeyError(label)

    def runs_by_label(self) -> dict[str, list[int]]:
        return {line.member.label: line.run_ids for line in self.lines}


def matching_runs(member: Member, runs: Sequence[RunRecord]) -> list[RunRecord]:
    """Runs trained with the line's settings (any seed, data size, length) that reached its epoch, or diverged
    before it (a result too: that network is useless)."""
    key = training_key(member.config)
    return [r for r in runs if r.config is not None and training_key(r.config) == key
            and (r.epochs_done >= member.read_epoch or r.status == RunStatus.DIVERGED)]


def waiting_runs(comparison: Comparison, runs: Sequence[RunRecord]) -> list[int]:
    """Ids of the runs of ``comparison``'s lines still on their way to the line's epoch (queued or training):
    while any is, there is no verdict. Runs that ended (finished, stopped, diverged, failed) are not waited
    for."""
    read_at = {training_key(m.config): m.read_epoch for m in comparison.members}
    return [r.id for r in runs if r.config is not None and RunStatus.parse(r.status).is_active
            and r.epochs_done < read_at.get(training_key(r.config), -1)]


def outcome(comparison: Comparison, runs: Sequence[RunRecord], epochs: Any, group_id: str | None = None) -> Outcome:
    """Our numbers and verdicts for ``comparison`` from ``runs`` and their epochs (an export.epochs_frame)."""
    lines = [line_result(m, runs, epochs) for m in comparison.members]
    by_label = {line.member.label: line for line in lines}
    claims = []
    for claim in comparison.claims:
        better, worse = by_label[claim.better], by_label[claim.worse]
        v = _diverged_verdict(better, worse) or stats.verdict(better.final_test_values, worse.final_test_values,
                                                               line_name(claim.better), line_name(claim.worse))
        claims.append(ClaimResult(claim, v, _status(v)))
    return Outcome(comparison, group_id, lines, claims, train_size_of(runs), waiting_runs(comparison, runs))


def _seed(run: RunRecord) -> int:
    return run.config.seed if run.config else 0


def _training_key(run: RunRecord) -> str | None:
    """``training_key`` of a run's settings (None for unreadable ones, which ``matching_runs`` leaves out)."""
    return training_key(run.config) if run.config else None


def train_size_of(runs: Sequence[RunRecord]) -> int:
    """The largest training-set cut among the runs (0: the whole set); unreadable settings count as none."""
    return max((r.config.train_size for r in runs if r.config), default=0)


def line_result(m: Member, runs: Sequence[RunRecord], epochs: Any) -> LineResult:
    """One line's numbers over its seeds, each (settings, seed) counted once."""
    once = one_per_seed(matching_runs(m, runs), key=_training_key)
    matched = sorted(once.kept, key=_seed)
    train, test, final_test, fallback = [], [], [], False
    diverged = sum(r.status == RunStatus.DIVERGED and r.epochs_done < m.read_epoch for r in matched)
    for r in matched:
        rows = epochs[(epochs["run_id"] == r.id) & (epochs["epoch"] <= m.read_epoch)].sort_values("epoch")
        final = rows[rows["epoch"] == m.read_epoch]
        if m.measure == "final":
            rows = final
        if rows.empty or final.empty:
            continue
        final_test.append(float(final["test_acc"].astype(float).iloc[0]))
        full = rows["full_train_acc"].astype(float)
        if full.isna().any():
            fallback = True
            full = full.fillna(rows["train_acc"].astype(float))
        train.append(float(full.mean()))
        test.append(float(rows["test_acc"].astype(float).mean()))
    return LineResult(m, [r.id for r in matched], stats.spread(train), stats.spread(test), train, test,
                      fallback, final_test, diverged, [r.id for r in once.dropped])


def _diverged_verdict(better: LineResult, worse: LineResult) -> stats.Verdict | None:
    """A line that diverged on every seed loses to one that trained (None unless exactly one side diverged)."""
    if better.all_diverged == worse.all_diverged or not (better.final_test_values or worse.final_test_values):
        return None
    dead, alive = (better, worse) if better.all_diverged else (worse, better)
    detail = _("{dead} diverged on all {n} seeds (the loss exploded), {alive} trained to {acc}").format(
        dead=line_name(dead.member.label), n=dead.diverged, alive=line_name(alive.member.label),
        acc=alive.final_test.text())
    diff = -math.inf if better.all_diverged else math.inf
    return stats.Verdict(stats.VerdictKind.REAL, diff, len(better.final_test_values), len(worse.final_test_values),
                         name_a=line_name(better.member.label), name_b=line_name(worse.member.label),
                         detail=detail)


def _status(v: stats.Verdict) -> ClaimOutcome:
    if v.kind is stats.VerdictKind.UNKNOWN:
        return ClaimOutcome.UNKNOWN
    if v.kind is stats.VerdictKind.NOISE:
        return ClaimOutcome.NOT_SHOWN
    return ClaimOutcome.HOLDS if v.diff > 0 else ClaimOutcome.REVERSED


def group_scale(runs: Sequence[RunRecord]) -> float:
    """The epochs scale a reproduction used (from its runs' tags; 1 if none)."""
    for r in runs:
        for tag in r.tags:
            if tag.startswith(SCALE_TAG):
                try:
                    return float(tag[len(SCALE_TAG):])
                except ValueError:
                    pass
    return 1.0


def collect(store: RunStore, comparisons: Sequence[Comparison], group_id: str | None = None) -> list[Outcome]:
    """For each comparison, the outcome of the newest reproduction that covers all its lines.

    Reproductions are the run groups named ``report-<time>``; ``group_id`` picks one instead.
    """
    groups: dict[str, list[RunRecord]] = {}
    for r in store.search_runs(tag="report", order_by="id", descending=False):
        if r.group_id and (r.group_id == group_id if group_id else r.group_id.startswith(GROUP_PREFIX)):
            groups.setdefault(r.group_id, []).append(r)
    frames: dict[str, Any] = {}
    results = []
    for comparison in comparisons:
        chosen = _newest_covering(comparison, groups)
        if chosen is None:
            results.append(outcome(comparison, [], _empty_frame(), None))
            continue
        gid, scaled = chosen
        if gid not in frames:
            frames[gid] = epochs_frame(store, [r.id for r in groups[gid]])
        results.append(outcome(scaled, groups[gid], frames[gid], gid))
    return results


def _newest_covering(comparison: Comparison, groups: dict[str, list[RunRecord]]) -> tuple[str, Comparison] | None:
    """The newest group with runs for every line of ``comparison`` (at the group's length), and that scaling."""
    for gid in sorted(groups, reverse=True):
        scaled = comparison.scaled(group_scale(groups[gid]))
        if all(matching_runs(m, groups[gid]) for m in scaled.members):
            return gid, scaled
    return None


@dataclass
class VariantOutcomes:
    """One comparison reproduced in each variant: ``mean`` (the correct network) and ``sum`` (as the report
    probably ran it); a variant that was not asked for is None."""

    mean: Outcome | None
    sum: Outcome | None

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for o in (self.mean, self.sum) if o is not None]

    @property
    def comparison(self) -> Comparison:
        return self.outcomes[0].comparison


def collect_variants(store: RunStore, comparisons: Sequence[Comparison], which: str = "both",
                     group_id: str | None = None) -> list[VariantOutcomes]:
    """``collect`` for each comparison in the chosen variant(s) ("mean", "sum" or "both"), paired up."""
    found = collect(store, variants(comparisons, which), group_id)
    by_key = {(o.comparison.id, o.comparison.variant): o for o in found}
    return [VariantOutcomes(by_key.get((c.id, "mean")), by_key.get((c.id, "sum"))) for c in comparisons]


def _empty_frame() -> Any:
    import pandas as pd

    from experiments.store import EPOCH_METRICS
    return pd.DataFrame(columns=["run_id", "epoch", *EPOCH_METRICS])
