"""What our stored runs say about each comparison of the report: numbers per line, and a verdict.

``outcome`` is pure (runs and their epochs in, an ``Outcome`` out); ``collect`` reads the store for the
newest reproduction of each comparison. A line's numbers are read at its epoch, as the report did: our
training accuracy is a full pass over the training set after that epoch (the running average over the
epoch's batches is used only when a run has no full pass stored, and then it is said so).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from experiments.analysis import stats
from experiments.report.presets import VARIANT_NAMES, Claim, Comparison, Member, training_key, variants
from experiments.report.reproduce import GROUP_PREFIX, SCALE_TAG
from experiments.runs.frames import epochs_frame
from experiments.runs.store import RunRecord, RunStore

HOLDS, REVERSED, NOT_SHOWN, UNKNOWN = "holds", "does not hold (reversed)", "not shown (within seed noise)", "cannot tell"


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
        note = f"diverged ({self.diverged} of {self.diverged + getattr(self, which).n} seeds)"
        return note if self.all_diverged else f"{base}; {note}"


@dataclass
class ClaimResult:
    claim: Claim
    verdict: stats.Verdict
    status: str                  # HOLDS, REVERSED, NOT_SHOWN or UNKNOWN


@dataclass
class Outcome:
    """One comparison as reproduced: the group it came from, each line's numbers, each claim's verdict."""

    comparison: Comparison
    group_id: str | None
    lines: list[LineResult]
    claims: list[ClaimResult]
    train_size: int = 0

    @property
    def complete(self) -> bool:
        return all(line.test.n or line.diverged for line in self.lines)

    @property
    def status(self) -> str:
        """Whether the report's conclusion holds for our (correct) network, over all its claims."""
        kinds = [c.status for c in self.claims]
        if not kinds or UNKNOWN in kinds:
            return UNKNOWN
        if REVERSED in kinds:
            return REVERSED
        if all(k == HOLDS for k in kinds):
            return HOLDS
        return NOT_SHOWN if NOT_SHOWN in kinds and HOLDS not in kinds else "partly holds"

    @property
    def evidence(self) -> str:
        """Our numbers behind the verdict: each claim's two lines, final test accuracy over seeds, the test."""
        parts = []
        for c in self.claims:
            better, worse = self.line(c.claim.better), self.line(c.claim.worse)
            v = c.verdict
            numbers = f", {stats.format_p(v.p)}, d = {v.effect_size:.1f}" if v.p is not None else ""
            parts.append(f"{c.claim.better} {better.text('final_test')} vs {worse.text('final_test')} {c.claim.worse} "
                         f"({v.kind}{numbers})")
        return "; ".join(parts)

    @property
    def verdict_line(self) -> str:
        """One line: does the report's conclusion hold for this variant of our network, on what numbers."""
        c = self.comparison
        name = c.id if c.variant == "mean" else f"{c.id} ({c.variant_name})"
        if not self.complete:
            return f"{name}: not reproduced yet (run: python -m experiments reproduce {c.id} --variant {c.variant})"
        return f"{name}: {self.status}. Ours on test: {self.evidence}"

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
            and (r.epochs_done >= member.read_epoch or r.status == "diverged")]


def outcome(comparison: Comparison, runs: Sequence[RunRecord], epochs, group_id: str | None = None) -> Outcome:
    """Our numbers and verdicts for ``comparison`` from ``runs`` and their epochs (a frames.epochs_frame)."""
    lines = []
    for m in comparison.members:
        matched = sorted(matching_runs(m, runs), key=_seed)
        train, test, final_test, fallback = [], [], [], False
        diverged = sum(r.status == "diverged" and r.epochs_done < m.read_epoch for r in matched)
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
        lines.append(LineResult(m, [r.id for r in matched], stats.spread(train), stats.spread(test), train, test,
                                fallback, final_test, diverged))
    by_label = {line.member.label: line for line in lines}
    claims = []
    for claim in comparison.claims:
        better, worse = by_label[claim.better], by_label[claim.worse]
        v = _diverged_verdict(better, worse) or stats.verdict(better.final_test_values, worse.final_test_values,
                                                               claim.better, claim.worse)
        claims.append(ClaimResult(claim, v, _status(v)))
    return Outcome(comparison, group_id, lines, claims, _train_size(runs))


def _seed(run: RunRecord) -> int:
    return run.config.seed if run.config else 0


def _train_size(runs: Sequence[RunRecord]) -> int:
    """The largest training-set cut among the runs (0: the whole set); unreadable settings count as none."""
    return max((r.config.train_size for r in runs if r.config), default=0)


def _diverged_verdict(better: LineResult, worse: LineResult) -> stats.Verdict | None:
    """A line that diverged on every seed loses to one that trained (None unless exactly one side diverged)."""
    if better.all_diverged == worse.all_diverged or not (better.final_test_values or worse.final_test_values):
        return None
    dead, alive = (better, worse) if better.all_diverged else (worse, better)
    text = (f"{stats.REAL}: {dead.member.label} diverged on all {dead.diverged} seeds (the loss exploded), "
            f"{alive.member.label} trained to {alive.final_test.text()}")
    diff = -math.inf if better.all_diverged else math.inf
    return stats.Verdict(stats.REAL, text, diff, len(better.final_test_values), len(worse.final_test_values))


def _status(v: stats.Verdict) -> str:
    if v.kind == stats.UNKNOWN:
        return UNKNOWN
    if v.kind == stats.NOISE:
        return NOT_SHOWN
    return HOLDS if v.diff > 0 else REVERSED


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
    runs = [r for r in store.search_runs(tag="report", order_by="id", descending=False)
            if r.group_id and (r.group_id == group_id if group_id else r.group_id.startswith(GROUP_PREFIX))]
    groups: dict[str, list[RunRecord]] = {}
    for r in runs:
        groups.setdefault(r.group_id or "", []).append(r)  # every run here has a group (filtered above)
    frames: dict[str, Any] = {}
    results = []
    for comparison in comparisons:
        chosen = None
        for gid in sorted(groups, reverse=True):
            scaled = comparison.scaled(group_scale(groups[gid]))
            if all(matching_runs(m, groups[gid]) for m in scaled.members):
                chosen = gid, scaled
                break
        if chosen is None:
            results.append(outcome(comparison, [], _empty_frame(), None))
            continue
        gid, scaled = chosen
        if gid not in frames:
            frames[gid] = epochs_frame(store, [r.id for r in groups[gid]])
        results.append(outcome(scaled, groups[gid], frames[gid], gid))
    return results


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

    @property
    def flip(self) -> str:
        return flip_note(self.mean, self.sum)


def flip_note(mean: Outcome | None, summed: Outcome | None) -> str:
    """One sentence when the report's conclusion holds under one gradient convention and not the other.

    Empty when either variant is missing, incomplete or undecided, or when both agree.
    """
    if mean is None or summed is None or not (mean.complete and summed.complete):
        return ""
    a, b = mean.status, summed.status
    if UNKNOWN in (a, b) or a == b:
        return ""
    sum_name, mean_name = VARIANT_NAMES["sum"], VARIANT_NAMES["mean"]
    said = {HOLDS: "holds", REVERSED: "is reversed", NOT_SHOWN: "is not shown (within seed noise)"}
    a, b = said.get(a, "only partly holds"), said.get(b, "only partly holds")
    if b == "holds":
        return (f"The conclusion flips with the gradient convention: it holds {sum_name} (gradient summed over the "
                f"batch, an effective learning rate of lr x batch size) but {a} for the {mean_name}.")
    if a == "holds":
        return (f"The conclusion flips with the gradient convention: it holds for the {mean_name} but {b} "
                f"{sum_name} (gradient summed over the batch).")
    return (f"The verdict changes with the gradient convention: it {a} for the {mean_name} and {b} {sum_name} "
            f"(gradient summed over the batch).")


def collect_variants(store: RunStore, comparisons: Sequence[Comparison], which: str = "both",
                     group_id: str | None = None) -> list[VariantOutcomes]:
    """``collect`` for each comparison in the chosen variant(s) ("mean", "sum" or "both"), paired up."""
    found = collect(store, variants(comparisons, which), group_id)
    by_key = {(o.comparison.id, o.comparison.variant): o for o in found}
    return [VariantOutcomes(by_key.get((c.id, "mean")), by_key.get((c.id, "sum"))) for c in comparisons]


def _empty_frame():
    import pandas as pd

    from experiments.runs.store import EPOCH_METRICS
    return pd.DataFrame(columns=["run_id", "epoch", *EPOCH_METRICS])


def is_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
