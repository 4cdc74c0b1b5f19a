"""A verdict table for many configurations: each against the best, with the false discovery rate controlled.

One row per configuration (its seeds pooled, each (config, seed) counted once): n, mean and its 95% t-interval, cut
to [0, 100]% (every metric here is an accuracy). The best row is the highest mean among configurations with at least
two seeds (one lucky seed cannot be "the best"; if no configuration has two, the highest mean is marked and no row
gets a verdict). Every other row with two or more seeds gets its difference from the best and Welch's p-value, and
the p-values of the whole table are adjusted together by Benjamini-Hochberg: comparing twelve settings at p < 0.05
one by one would call some differences real by chance, while adjusted p < 0.05 keeps the expected share of false
"really worse" calls in the table at 5% or below. A row with a single seed says that no verdict is possible.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from experiments.analysis import stats
from experiments.analysis.seeds import group_by_config
from experiments.analysis.selection import Selection
from experiments.config import short_label
from experiments.i18n import _, decimal, ngettext, percent_sign

ALPHA = 0.05


def __getattr__(name: str) -> str:
    """``ONE_SEED``: a single seed's verdict, in the current language each time it is read."""
    if name == "ONE_SEED":
        return _("one seed: run more seeds for a verdict")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ConfigRow:
    """One configuration's pooled seeds and its comparison with the best."""

    label: str
    run_ids: list[int]
    n: int
    mean: float
    low: float                    # 95% interval (NaN for one seed)
    high: float
    best: bool = False
    diff: float | None = None     # mean - best mean (None for the best and for single-seed rows)
    p: float | None = None        # Welch's p against the best
    p_adjusted: float | None = None  # Benjamini-Hochberg over the table
    kind: stats.VerdictKind = stats.VerdictKind.UNKNOWN

    @property
    def diff_text(self) -> str:
        """The difference from the best in points, e.g. "-1.23"; "best" on the best row, "-" without one."""
        if self.best:
            return _("best")
        return decimal(self.diff * 100, 2, sign=True) if self.diff is not None else "-"

    @property
    def p_texts(self) -> tuple[str, str]:
        """Welch's p and the BH-adjusted p to four places ("-" where the row has none)."""
        return _p_text(self.p), _p_text(self.p_adjusted)

    @property
    def verdict(self) -> str:
        if self.best:
            return _("best")
        if self.n < 2:
            return _("one seed: run more seeds for a verdict")
        if self.p_adjusted is None:
            return _("{kind}: the best has a single seed").format(kind=self.kind.text)
        worse = _("really worse") if self.kind is stats.VerdictKind.REAL else stats.VerdictKind.NOISE.text
        return _("{verdict} (BH-adjusted {p})").format(verdict=worse, p=stats.format_p(self.p_adjusted))


def _p_text(p: float | None) -> str:
    return decimal(p, 4) if p is not None else "-"


@dataclass(frozen=True)
class VerdictTable:
    rows: list[ConfigRow]          # best first, then by mean
    metric_label: str
    comparisons: int               # rows judged against the best (the family BH adjusts over)

    @property
    def note(self) -> str:
        return (ngettext("{n} comparison with the best by Welch's t-test on the {metric}, p-values adjusted by "
                         "Benjamini-Hochberg (false discovery rate {alpha}). Intervals: 95% t-intervals cut to "
                         "0-100%, the range of an accuracy.",
                         "{n} comparisons with the best by Welch's t-test on the {metric}, p-values adjusted by "
                         "Benjamini-Hochberg (false discovery rate {alpha}). Intervals: 95% t-intervals cut to "
                         "0-100%, the range of an accuracy.", self.comparisons).format(
                    n=self.comparisons, metric=self.metric_label, alpha=percent_sign(f"{ALPHA * 100:.0f}"))
                + " " + stats.small_n_note([r.n for r in self.rows if r.n >= 2]))


def verdict_table(selection: Selection) -> VerdictTable:
    """The table for a selection (its runs grouped by every setting but the seed)."""
    value_of = {r.id: v for r, v in zip(selection.runs, selection.values)}
    groups = [g for g in group_by_config(selection.runs) if g]
    labels = [short_label(g[0].config, selection.settings) for g in groups]
    samples = [[value_of[r.id] for r in g] for g in groups]
    return table_from_samples(labels, samples, [[r.id for r in g] for g in groups], selection.metric.label)


def table_from_samples(labels: list[str], samples: list[list[float]], run_ids: list[list[int]] | None = None,
                       metric_label: str = "metric") -> VerdictTable:
    """The table from each configuration's values (one per seed); the testable core of ``verdict_table``."""
    run_ids = run_ids or [[] for _ in samples]
    intervals = [stats.mean_interval(s, bounds=stats.ACCURACY_RANGE) for s in samples]
    judged = [i for i, s in enumerate(samples) if len(s) >= 2]
    pool = judged or list(range(len(samples)))
    best = max(pool, key=lambda i: intervals[i].mean)
    others = [i for i in judged if i != best] if len(samples[best]) >= 2 else []
    p_values = {i: stats.welch(samples[i], samples[best]).p for i in others}
    adjusted = dict(zip(others, stats.bh_adjust([p_values[i] for i in others])))
    rows = [_row(i, labels[i], samples[i], run_ids[i], intervals, best, p_values, adjusted)
            for i in range(len(samples))]
    rows.sort(key=lambda r: (not r.best, -r.mean if math.isfinite(r.mean) else math.inf))
    return VerdictTable(rows, metric_label, len(others))


def _row(i: int, label: str, values: list[float], ids: list[int], intervals: list[stats.Interval], best: int,
         p_values: dict[int, float], adjusted: dict[int, float]) -> ConfigRow:
    ci = intervals[i]
    if i == best:
        return ConfigRow(label, ids, len(values), ci.mean, ci.low, ci.high, best=True)
    diff = ci.mean - intervals[best].mean if len(values) >= 2 else None
    if i not in adjusted:
        return ConfigRow(label, ids, len(values), ci.mean, ci.low, ci.high, diff=diff)
    kind = stats.VerdictKind.REAL if adjusted[i] < ALPHA else stats.VerdictKind.NOISE
    return ConfigRow(label, ids, len(values), ci.mean, ci.low, ci.high, False, diff, p_values[i], adjusted[i], kind)
