"""Seed groups: mean and spread of runs that differ only by seed, and whether two configs really differ.

The verdict is Welch's t-test (unequal variances) on the runs' final test accuracies, two-sided, at
p < 0.05, always reported with the difference and an effect size (Cohen's d). With 3 seeds per config the
test has little power: it only passes large, consistent differences, and "within seed noise" means "not
shown", not "equal". The Student-t distribution is computed here (regularized incomplete beta by continued
fraction), so the product needs no SciPy. Pure functions on plain numbers and pandas frames.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
REAL, NOISE, UNKNOWN = "a real difference", "within seed noise", "cannot tell"
TEST_NAME = "Welch's t-test on the final test accuracies (two-sided, p < 0.05)"
SMALL_N_NOTE = ("With 3 seeds per config Welch's test has few degrees of freedom: it confirms only large, "
                "consistent differences; 'within seed noise' means the difference is not shown, not that there is none.")


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
        """E.g. ``"97.81 ± 0.12%"`` (``"97.81%"`` for one run, ``"-"`` for none)."""
        if self.n == 0:
            return "-"
        k = 100.0 if percent else 1.0
        unit = "%" if percent else ""
        if self.n == 1:
            return f"{self.mean * k:.{digits}f}{unit}"
        return f"{self.mean * k:.{digits}f} ± {self.std * k:.{digits}f}{unit}"


def spread(values: Sequence[float | None]) -> Spread:
    """Mean, sample std, min and max of the finite values (missing and NaN values are ignored)."""
    xs = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not len(xs):
        return Spread(0, math.nan, math.nan, math.nan, math.nan)
    std = float(xs.std(ddof=1)) if len(xs) > 1 else 0.0
    return Spread(len(xs), float(xs.mean()), std, float(xs.min()), float(xs.max()))


def seed_bands(epochs, groups: Mapping[str, Sequence[int]], metric: str):
    """Per-epoch spread of ``metric`` for each group of runs (a pandas DataFrame).

    ``epochs`` is a frame with ``run_id``, ``epoch`` and the metric (e.g. ``frames.epochs_frame``);
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
    """Welch's unequal-variances t-test of mean(a) - mean(b); needs at least 2 values in each."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Welch's t-test needs at least two values in each group")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = float(a.mean() - b.mean())
    if va + vb == 0:
        return Welch(0.0 if diff == 0 else math.copysign(math.inf, diff), math.inf, 1.0 if diff == 0 else 0.0)
    t = diff / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return Welch(t, df, t_two_sided_p(t, df))


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom (df may be fractional)."""
    if math.isinf(t):
        return 0.0
    if math.isinf(df):
        return math.erfc(abs(t) / math.sqrt(2))
    return regularized_beta(df / (df + t * t), df / 2.0, 0.5)


def regularized_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by Lentz's continued fraction."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float, tiny: float = 1e-300, eps: float = 1e-15) -> float:
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


# ---------------------------------------------------------------------- the verdict
@dataclass(frozen=True)
class Verdict:
    """Whether config A and config B differ beyond seed noise, with the numbers behind the call."""

    kind: str                 # REAL, NOISE or UNKNOWN
    text: str                 # one line for the user
    diff: float               # mean(A) - mean(B), in the values' unit (fractions for accuracies)
    n_a: int
    n_b: int
    p: float | None = None
    t: float | None = None
    df: float | None = None
    effect_size: float | None = None   # Cohen's d with the average of the two variances

    @property
    def real(self) -> bool:
        return self.kind == REAL


def verdict(a: Sequence[float], b: Sequence[float], name_a: str = "A", name_b: str = "B",
            alpha: float = ALPHA, percent: bool = True) -> Verdict:
    """Compare the final values (e.g. test accuracies, one per seed) of two configs.

    "a real difference" needs p < ``alpha`` in Welch's t-test; the line always gives the difference, p
    and Cohen's d. With fewer than two runs on either side the answer is "cannot tell".
    """
    a = [float(v) for v in a if v is not None and math.isfinite(v)]
    b = [float(v) for v in b if v is not None and math.isfinite(v)]
    k, unit = (100.0, " points") if percent else (1.0, "")
    if not a or not b:
        return Verdict(UNKNOWN, f"{UNKNOWN}: no finished runs for {name_a if not a else name_b}",
                       math.nan, len(a), len(b))
    diff = float(np.mean(a) - np.mean(b))
    lead = f"{name_a} - {name_b} = {diff * k:+.2f}{unit}"
    if len(a) < 2 or len(b) < 2:
        what = "one run each" if len(a) == len(b) == 1 else f"{len(a)} vs {len(b)} runs"
        return Verdict(UNKNOWN, f"{UNKNOWN} ({what}: no seed spread to compare with): {lead}", diff, len(a), len(b))
    w = welch(a, b)
    pooled = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)
    d = diff / pooled if pooled > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    kind = REAL if w.p < alpha else NOISE
    text = (f"{kind}: {lead} (Welch t = {w.t:.2f}, df = {w.df:.1f}, {format_p(w.p)}, Cohen's d = {d:.1f}; "
            f"n = {len(a)} and {len(b)})")
    return Verdict(kind, text, diff, len(a), len(b), w.p, w.t, w.df, d)


def format_p(p: float) -> str:
    """``"p = 0.042"``, or ``"p < 0.001"`` for tiny values."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
