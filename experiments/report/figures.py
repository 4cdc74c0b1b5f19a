"""Plotly figures for one comparison of the report: our curves (mean and seed band) beside its numbers.

Pure functions, data in and a figure out, shared by ``python -m experiments report`` and the dashboard's Report
page. The report's accuracies are *training-set* ones, so ours are drawn on both sets: test (solid line, band = ±
one standard deviation over seeds), training by a full pass after the epoch (markers) and the training accuracy
averaged over the epoch's batches while it learned (dotted). The report's numbers are stars, dashed lines or a
dashed level (for a mean over epochs), always labelled "report". When the runs "as the report probably ran it"
(gradient summed over the batch) are given too, they are overlaid in the same colour, labelled "grad=sum": test
dash-dot with its band, training full pass as open diamonds, training loss dash-dot.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative

from experiments.analysis.figures import separators
from experiments.analysis.rounding import rounded
from experiments.analysis.stats import seed_bands
from experiments.i18n import N_, _, localized, ngettext
from experiments.report.presets import Comparison, Member, line_name, training_key

METRICS = ("accuracy", "loss")
COLORS = list(qualitative.Plotly)


def comparison_figure(comparison: Comparison, epochs: Any, runs: Mapping[str, Sequence[int]],
                      metric: str = "accuracy", summed: Mapping[str, Sequence[int]] | None = None) -> go.Figure:
    """One comparison: our runs' curves for ``metric`` ("accuracy" or "loss") beside the report's numbers.

    ``epochs``: a frame with run_id, epoch and the metrics (``export.epochs_frame``); ``runs``: the run
    ids of each line, by the line's label (``Outcome.runs_by_label()``); lines without runs show only the
    report's numbers. Lines that share their runs (one long training read at several epochs) share a curve.
    ``summed``: the run ids of the sum variant of the same lines, by label (``epochs`` must hold them too).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)} (got {metric!r})")
    fig = go.Figure()
    summed_curves = _curves(comparison, summed or {})
    for i, (ids, members) in enumerate(_curves(comparison, runs)):
        color = COLORS[i % len(COLORS)]
        first = len(fig.data)
        if ids:
            _draw_ours(fig, epochs, ids, members, metric, color)
        if summed_curves[i][0]:
            _draw_ours(fig, epochs, summed_curves[i][0], members, metric, color, "sum")
        _draw_report(fig, members, metric, color)
        # one legend group per line (its colour): ours, grad=sum and the report's numbers under one title, so
        # a legend of a dozen entries reads as three or four lines and one click hides a whole line
        name = _safe(_curve_name(members))
        for trace in fig.data[first:]:
            trace.update(legendgroup=name, legendgrouptitle_text=name)
    unit = _("Accuracy (%)") if metric == "accuracy" else _("Loss (cross-entropy)")
    fig.update_layout(
        title=dict(text=_safe(comparison.shown_title), font=dict(size=15)), template="plotly_white",
        xaxis_title=_("Epoch"), yaxis_title=unit, separators=separators(), hovermode="closest", height=460,
        legend=dict(orientation="h", yanchor="top", y=-0.18, font=dict(size=11), groupclick="togglegroup"),
        margin=dict(l=60, r=20, t=60, b=40))
    return fig


def _curves(comparison: Comparison, runs: Mapping[str, Sequence[int]]) -> list[tuple[tuple[int, ...], list[Member]]]:
    """Lines grouped by training (same settings, read at different epochs), with the union of their runs."""
    groups: dict[str, tuple[set[int], list[Member]]] = {}
    for m in comparison.members:
        ids, members = groups.setdefault(training_key(m.config), (set(), []))
        ids.update(int(i) for i in runs.get(m.label, ()))
        members.append(m)
    return [(tuple(sorted(ids)), members) for ids, members in groups.values()]


def _curve_name(members: Sequence[Member]) -> str:
    if len(members) == 1:
        return line_name(members[0].label)
    c = members[0].config
    return f"{c.architecture} {c.optimizer} lr={c.lr:g}" + (f" L2={c.l2:g}" if c.l2 else "")


FEW_POINTS = 3   # a line trace with this many points or fewer also gets markers (one point draws no line)


@dataclass(frozen=True)
class _Series:
    """One of our metrics drawn for a line: its column, words, dash (None: markers only) and seed band."""

    column: str
    what: str
    dash: str | None
    band: bool


_SERIES = {
    ("accuracy", "mean"): (_Series("test_acc", N_("test"), "solid", True),
                           _Series("full_train_acc", N_("train, full pass"), None, False),
                           _Series("train_acc", N_("train, average over the epoch"), "dot", False)),
    ("loss", "mean"): (_Series("train_loss", N_("train"), "solid", True),
                       _Series("test_loss", N_("test"), "dot", False)),
    # the sum variant has fewer series: the overlay must not drown the correct network's curves
    ("accuracy", "sum"): (_Series("test_acc", N_("test"), "dashdot", True),
                          _Series("full_train_acc", N_("train, full pass"), None, False)),
    ("loss", "sum"): (_Series("train_loss", N_("train"), "dashdot", True),),
}


def _draw_ours(fig: go.Figure, epochs: Any, ids: Sequence[int], members: Sequence[Member], metric: str,
               color: str, variant: str = "mean") -> None:
    name = _safe(_curve_name(members))
    last = max(m.read_epoch for m in members)
    frame = epochs[epochs["run_id"].isin(list(ids)) & (epochs["epoch"] <= last)]
    scale = 100.0 if metric == "accuracy" else 1.0
    who = _("ours, grad=sum") if variant == "sum" else _("ours")
    for series in _SERIES[(metric, variant)]:
        b = seed_bands(frame, {name: ids}, series.column)
        if b.empty:
            continue
        x, mean, std = b["epoch"].tolist(), (b["mean"] * scale).tolist(), (b["std"] * scale).tolist()
        shown = [localized(rounded(v, 2 if metric == "accuracy" else 3)) for v in mean]  # as the verdict rounds
        n = int(b["n"].max())
        what = (ngettext("{what}, {n} seed", "{what}, {n} seeds", n).format(what=_(series.what), n=n) if n > 1
                else _(series.what))
        label = f"{who}: {name} ({what})"
        if series.band and n > 1:
            ceiling = 100.0 if metric == "accuracy" else math.inf  # a band never leaves what the value can be
            fig.add_trace(go.Scatter(x=x + x[::-1], y=[min(m + s, ceiling) for m, s in zip(mean, std)] +
                                     [max(m - s, 0.0) for m, s in zip(mean, std)][::-1],
                                     fill="toself", fillcolor=_fade(color, 0.09 if variant == "sum" else 0.18),
                                     line=dict(width=0), hoverinfo="skip",
                                     showlegend=False))
        fig.add_trace(_mean_trace(series, x, mean, std, n, label, color, variant).update(
            customdata=shown, hovertemplate=_("epoch {x}: {value}").format(x="%{x}", value="%{customdata}")
            + "<extra>" + label + "</extra>"))


def _mean_trace(series: _Series, x: list[Any], mean: list[float], std: list[float], n: int, label: str,
                color: str, variant: str) -> go.Scatter:
    """The mean over seeds of one series: markers with error bars for sparse points, else a line (with
    markers, and error bars where a band would be a sliver, when it has few points)."""
    if series.dash is None:
        return go.Scatter(x=x, y=mean, mode="markers", name=label,
                          marker=dict(color=color, size=9, symbol="diamond-open" if variant == "sum" else "diamond"),
                          error_y=dict(type="data", array=std, visible=n > 1, color=color))
    return go.Scatter(x=x, y=mean, mode=line_mode(len(x)), name=label,
                      line=dict(color=color, dash=series.dash, width=2.5 if series.band else 1.5),
                      marker=dict(color=color, size=7),
                      error_y=dict(type="data", array=std, color=color,
                                   visible=series.band and n > 1 and len(x) <= FEW_POINTS))


def line_mode(points: int) -> str:
    """Plotly's mode for a line of ``points`` points: with markers when there are few (one point draws no line)."""
    return "lines+markers" if points <= FEW_POINTS else "lines"


def _draw_report(fig: go.Figure, members: Sequence[Member], metric: str, color: str) -> None:
    """The report's numbers for these lines, at the report's own epochs and under its own labels."""
    drawn: set[str] = set()
    for m in members:
        r = m.report
        if r is None:
            continue
        series = r.train_accuracy_pct if metric == "accuracy" else r.loss
        if series and r.label not in drawn:
            drawn.add(r.label)
            _report_series(fig, r.label, series, metric, color)
        if metric == "accuracy" and m.report_pct is not None:
            _report_number(fig, m, series, color)
        if metric == "loss" and not r.loss:
            _report_losses(fig, m, color, drawn)


def _report_series(fig: go.Figure, run_label: str, series: Sequence[float], metric: str, color: str) -> None:
    what = _("train accuracy per epoch") if metric == "accuracy" else _("train loss per epoch")
    name = _("report: {line} ({what})").format(line=_safe(line_name(run_label)), what=what)
    fig.add_trace(go.Scatter(x=list(range(1, len(series) + 1)), y=list(series), mode="lines+markers",
                             name=name, line=dict(color=color, dash="dash", width=1.5),
                             marker=dict(symbol="x", size=6, color=color),
                             hovertemplate=_("epoch {x}: {value}").format(x="%{x}", value="%{y}")
                             + "<extra>" + name + "</extra>"))


def _report_number(fig: go.Figure, m: Member, series: Sequence[float], color: str) -> None:
    """The report's headline number for line ``m``: a dashed level for a mean over epochs, else a star."""
    name = _("report: {line}: {value} ({what})").format(line=_safe(line_name(m.reported_label)), value=m.report_text,
                                                         what=_safe(_(m.report_what) if m.report_what else ""))
    if m.measure == "mean":
        fig.add_trace(go.Scatter(x=[1, m.reported_epoch], y=[m.report_pct] * 2, mode="lines+markers", name=name,
                                 line=dict(color=color, dash="dash", width=2), marker=dict(color=color, size=5),
                                 customdata=[m.report_text] * 2,
                                 hovertemplate="%{customdata}<extra>" + name + "</extra>"))
    elif not (series and m.report_pct in series):
        fig.add_trace(go.Scatter(x=[m.reported_epoch], y=[m.report_pct], mode="markers", name=name,
                                 marker=dict(symbol="star", size=14, color=color, line=dict(color="black", width=1)),
                                 customdata=[m.report_text],
                                 hovertemplate=_("epoch {x}: {value}").format(x="%{x}", value="%{customdata}")
                                 + "<extra>" + name + "</extra>"))


def _report_losses(fig: go.Figure, m: Member, color: str, drawn: set[str]) -> None:
    """The report's first and last printed loss of line ``m``'s run, as stars (when it printed no series)."""
    r = m.report
    if r is None:
        return
    for epoch, value in ((1, r.first_epoch_loss), (m.reported_epoch, r.final_loss)):
        key = f"{r.label}@{epoch}"
        if value is None or key in drawn:
            continue
        drawn.add(key)
        name = _("report: {line}: loss {value} after epoch {epoch}").format(
            line=_safe(line_name(r.label)), value=localized(f"{value:g}"), epoch=epoch if epoch == 1 else r.epochs)
        fig.add_trace(go.Scatter(x=[epoch], y=[value], mode="markers", name=name,
                                 marker=dict(symbol="star", size=14, color=color, line=dict(color="black", width=1)),
                                 hovertemplate="%{y}<extra>" + name + "</extra>"))


def _fade(color: str, alpha: float = 0.18) -> str:
    color = color.lstrip("#")
    r, g, b = (int(color[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _safe(text: object) -> str:
    return html.escape(str(text), quote=True)
