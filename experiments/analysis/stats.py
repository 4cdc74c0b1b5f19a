"""Seed groups: mean and spread of runs that differ only by seed, and whether two configs really differ.

The verdict is Welch's t-test (unequal variances) on one accuracy per seed, two-sided, at p < 0.05; the
caller picks which accuracy and names it (``test_name``): never one read at an epoch chosen on the same
numbers (see ``seeds.VERDICT_BY``); always reported with the difference and an effect size (Cohen's d).
With a few seeds per config the test has little power: it only passes large, consistent differences, and
"within seed noise" means "not shown", not "equal". The distributions come from SciPy (``scipy.stats``:
Welch's test, t-based confidence intervals, Benjamini-Hochberg's false discovery control for tables of many
comparisons). Pure functions on plain numbers and pandas frames.

Every sentence is in the current language (``experiments.i18n``); ``TEST_NAME`` and ``SMALL_N_NOTE`` are read
through the module's ``__getattr__``, so each reading is in the language of the moment.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from experiments.analysis.rounding import rounded
from experiments.i18n import N_, _, decimal, localized, ngettext

ALPHA = 0.05


def __getattr__(name: str) -> str:
    """``TEST_NAME`` and ``SMALL_N_NOTE``: constants in words, read in the current language each time."""
    if name == "TEST_NAME":
        return _("Welch's t-test (two-sided, p < 0.05)")
    if name == "SMALL_N_NOTE":
        return small_n_note()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def test_name(on: str) -> str:
    """The test named with the numbers it is run on: "Welch's t-test on <on> (two-sided, p < 0.05)"."""
    return _("Welch's t-test on {numbers} (two-sided, p < 0.05)").format(numbers=on)


class VerdictKind(Enum):
    """What a seed verdict found; its words for the user are ``VERDICT_TEXT`` (``kind.text``)."""

    REAL = "real"            # p < alpha: the difference is larger than the seeds' spread explains
    NOISE = "noise"          # p >= alpha: not shown (which is not "equal")
    UNKNOWN = "unknown"      # too few runs on a side to judge

    @property
    def text(self) -> str:
        """The kind in words, in the current language."""
        return _(VERDICT_TEXT[self])


# The kinds in English (the catalog's msgids); ``VerdictKind.text`` reads them translated.
VERDICT_TEXT = {VerdictKind.REAL: N_("a real difference"), VerdictKind.NOISE: N_("within seed noise"),
                VerdictKind.UNKNOWN: N_("cannot tell")}


def small_n_note(n: int | Sequence[int] | None = None) -> str:
    """The caveat on the test's power, naming the seeds per config actually used (one count or several)."""
    counts = sorted({int(n)} if isinstance(n, int) else {int(k) for k in (n or ()) if k})
    if not counts:
        many = _("a few seeds")
    elif len(counts) == 1:
        many = ngettext("{n} seed", "{n} seeds", counts[0]).format(n=counts[0])
    else:
        many = _("{low} to {high} seeds").format(low=counts[0], high=counts[-1])
    return _("With {seeds} per config Welch's test has few degrees of freedom: it confirms only large, consistent "
             "differences; 'within seed noise' means the difference is not shown, not that there is none.").format(
        seeds=many)


# ---------------------------------------------------------------------- spread over seeds
@dataclass(frozen=True)
class Spread:
    """Mean and spread of one number over seeds (``std`` is the sample standard deviation, 0 for n = 1)."""

    n: int
    mean: float
    std: float
    min: float
    max: float

    def text(self, percent: bool = True, digits: int = 2) -> str:
        """E.g. ``"97.81 ± 0.12%"`` (``"97.81%"`` for one run, ``"-"`` for none), rounded by ``rounded``."""
        if self.n == 0:
            return "-"
        k = 100.0 if percent else 1.0
        mean, std = localized(rounded(self.mean * k, digits)), localized(rounded(self.std * k, digits))
        if self.n == 1:
            return _("{value}%").format(value=mean) if percent else mean
        return _("{mean} ± {std}%").format(mean=mean, std=std) if percent else f"{mean} ± {std}"


def spread(values: Sequence[float | None]) -> Spread:
    """Mean, sample std, min and max of the finite values (missing and NaN values are ignored)."""
    xs = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not len(xs):
        return Spread(0, math.nan, math.nan, math.nan, math.nan)
    std = float(xs.std(ddof=1)) if len(xs) > 1 else 0.0
    return Spread(len(xs), float(xs.mean()), std, float(xs.min()), float(xs.max()))


def seed_bands(epochs, groups: Mapping[str, Sequence[int]], metric: str):
    """Per-epoch spread of ``metric`` for each group of runs (a pandas DataFrame).

    ``epochs`` is a frame with ``run_id``, ``epoch`` and the metric (e.g. ``export.epochs_frame``);
    ``groups`` maps a label to the ids of its runs (one per seed). Returns one row per (label, epoch) with
    n, mean, std (sample; 0 for one run), min and max, over the runs that have a value at that epoch.
    """
    import pandas as pd

    columns = ["label", "epoch", "n", "mean", "std", "min", "max"]
    rows = []
    for label, ids in groups.items():
        part = epochs[epochs["run_id"].isin(list(ids))][["epoch", metric]].dropna()
        for epoch, values in part.groupby("epoch")[metric]:
            s = spread(values.astype(float).tolist())
            rows.append((label, int(epoch), s.n, s.mean, s.std, s.min, s.max))
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------------- Welch's t-test
@dataclass(frozen=True)
class Welch:
    """Welch's t statistic, its degrees of freedom and the two-sided p-value."""

    t: float
    df: float
    p: float


def welch(a: Sequence[float], b: Sequence[float]) -> Welch:
    """Welch's unequal-variances t-test of mean(a) - mean(b) (``scipy.stats.ttest_ind``, equal_var=False).

    Needs at least 2 values in each. Two groups without any spread get t = 0 (p = 1) for equal means and
    t = ±inf (p = 0) otherwise, where SciPy would return NaN.
    """
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(xa) < 2 or len(xb) < 2:
        raise ValueError("Welch's t-test needs at least two values in each group")
    va, vb = float(xa.var(ddof=1)) / len(xa), float(xb.var(ddof=1)) / len(xb)
    diff = float(xa.mean() - xb.mean())
    if va + vb == 0:
        return Welch(0.0 if diff == 0 else math.copysign(math.inf, diff), math.inf, 1.0 if diff == 0 else 0.0)
    with warnings.catch_warnings():  # a group of equal values (one side without spread) is exact, not imprecise
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        result = scipy_stats.ttest_ind(xa, xb, equal_var=False)
    return Welch(float(result.statistic), float(result.df), float(result.pvalue))


# ---------------------------------------------------------------------- intervals and many comparisons
@dataclass(frozen=True)
class Interval:
    """A t-based confidence interval for a mean (``low``/``high`` NaN when it cannot be given, n < 2)."""

    mean: float
    low: float
    high: float
    level: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


ACCURACY_RANGE = (0.0, 1.0)  # what an accuracy (a fraction) can be


def mean_interval(values: Sequence[float | None], level: float = 0.95,
                  bounds: tuple[float, float] | None = None) -> Interval:
    """Mean and its ``level`` confidence interval, mean ± t(1 - (1-level)/2, n-1) · s/√n (``scipy.stats.t``).

    Missing and NaN values are ignored. One value gives its mean with no interval (NaN bounds); values
    without spread give a zero-width interval. ``bounds`` is the range the quantity can take (an accuracy:
    ``ACCURACY_RANGE``): the interval is cut to it, since with two seeds the t-interval is wide enough to
    reach past 100% although no mean accuracy can lie there (the cut interval still covers every possible
    mean the uncut one covered).
    """
    s = spread(values)
    if s.n < 2:
        return Interval(s.mean, math.nan, math.nan, level)
    half = float(scipy_stats.t.ppf(0.5 + level / 2, s.n - 1)) * s.std / math.sqrt(s.n)
    low, high = s.mean - half, s.mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Interval(s.mean, low, high, level)


def bh_adjust(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (``scipy.stats.false_discovery_control``), in input order.

    A difference is "real" at a false discovery rate ``alpha`` when its adjusted p is below ``alpha``;
    across a whole table that keeps the expected share of false "real" calls at ``alpha`` or below.
    """
    if not len(p_values):
        return []
    adjusted = scipy_stats.false_discovery_control(np.asarray(p_values, dtype=float), method="bh")
    return [float(p) for p in np.atleast_1d(adjusted)]


# ---------------------------------------------------------------------- the verdict
@dataclass(frozen=True)
class Verdict:
    """Whether config A and config B differ beyond seed noise, with the numbers behind the call.

    Data only; ``text`` words it for the user (the one place the verdict becomes a sentence).
    """

    kind: VerdictKind
    diff: float               # mean(A) - mean(B), in the values' unit (fractions for accuracies)
    n_a: int
    n_b: int
    p: float | None = None
    t: float | None = None
    df: float | None = None
    effect_size: float | None = None   # Cohen's d with the average of the two variances
    name_a: str = "A"
    name_b: str = "B"
    percent: bool = True      # the values are fractions shown as percentage points
    detail: str = ""          # a reason given instead of the numbers (e.g. one side diverged on every seed)

    @property
    def real(self) -> bool:
        return self.kind is VerdictKind.REAL

    @property
    def text(self) -> str:
        """One line for the user: the call, the difference, and the test's numbers."""
        if self.detail:
            return f"{self.kind.text}: {self.detail}"
        if not self.n_a or not self.n_b:
            return _("{verdict}: no finished runs for {name}").format(
                verdict=self.kind.text, name=self.name_b if self.n_a else self.name_a)
        diff = decimal(self.diff * (100.0 if self.percent else 1.0), 2, sign=True)
        amount = _("{diff} points").format(diff=diff) if self.percent else diff
        lead = f"{self.name_a} - {self.name_b} = {amount}"
        if self.p is None:
            what = (_("one run each") if self.n_a == self.n_b == 1
                    else _("{a} vs {b} runs").format(a=self.n_a, b=self.n_b))
            return _("{verdict} ({runs}: no seed spread to compare with): {lead}").format(
                verdict=self.kind.text, runs=what, lead=lead)
        return _("{verdict}: {lead} (Welch t = {t}, df = {df}, {p}, Cohen's d = {d}; n = {a} and {b})").format(
            verdict=self.kind.text, lead=lead, t=decimal(self.t or 0.0, 2), df=decimal(self.df or 0.0, 1),
            p=format_p(self.p), d=decimal(self.effect_size or 0.0, 1), a=self.n_a, b=self.n_b)


def verdict(a: Sequence[float | None], b: Sequence[float | None], name_a: str = "A", name_b: str = "B",
            alpha: float = ALPHA, percent: bool = True) -> Verdict:
    """Compare the final values (e.g. test accuracies, one per seed) of two configs.

    "a real difference" needs p < ``alpha`` in Welch's t-test; the verdict always carries the difference, p
    and Cohen's d. With fewer than two runs on either side the answer is "cannot tell". Each value must be
    a different seed: the caller collapses repeated (config, seed) runs (``seeds.one_per_seed``).
    """
    xa = [float(v) for v in a if v is not None and math.isfinite(v)]
    xb = [float(v) for v in b if v is not None and math.isfinite(v)]
    names: dict[str, Any] = {"name_a": name_a, "name_b": name_b, "percent": percent}
    if not xa or not xb:
        return Verdict(VerdictKind.UNKNOWN, math.nan, len(xa), len(xb), **names)
    diff = float(np.mean(xa) - np.mean(xb))
    if len(xa) < 2 or len(xb) < 2:
        return Verdict(VerdictKind.UNKNOWN, diff, len(xa), len(xb), **names)
    w = welch(xa, xb)
    pooled = math.sqrt((np.var(xa, ddof=1) + np.var(xb, ddof=1)) / 2)
    d = diff / pooled if pooled > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    kind = VerdictKind.REAL if w.p < alpha else VerdictKind.NOISE
    return Verdict(kind, diff, len(xa), len(xb), w.p, w.t, w.df, d, **names)


def format_p(p: float) -> str:
    """``"p = 0.042"``, or ``"p < 0.001"`` for tiny values."""
    return f"p < {decimal(0.001, 3)}" if p < 0.001 else f"p = {decimal(p, 3)}"
