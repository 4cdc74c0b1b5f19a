"""Plotly figures of the Insights page: importance beside its noise floor, slices, a contour, parallel coordinates.

Pure functions of plain data (an ImportanceResult, a Selection): no Streamlit, no store. Axes follow
``experiments.analysis.axes`` (log for the learning rate and L2, categories for choices and widths), so the
slices, the contour and the importance agree on how a setting is laid out. Labels that may come from
users pass through ``figures.safe``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.analysis.axes import Axis, AxisKind, axis_for
from experiments.analysis.figures import parallel_coordinates, safe, separators
from experiments.analysis.importance import ImportanceResult
from experiments.analysis.selection import Selection, check_setting, setting_values
from experiments.i18n import _, localized, percent_sign

FLOOR_COLOR = "#d62728"


def importance_figure(result: ImportanceResult) -> go.Figure:
    """Horizontal bars, most important on top, each with its seed-noise floor as a red tick when there is one
    (bars within noise are grey)."""
    ranking = list(reversed(result.ranking))
    colors = ["#1f77b4" if r.above_floor is not False else "#9aa5b1" for r in ranking]
    fig = go.Figure(go.Bar(x=[r.importance for r in ranking], y=[safe(r.setting) for r in ranking],
                           orientation="h", marker_color=colors, name=_("importance"),
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    if result.floors is not None:
        fig.add_trace(go.Scatter(x=[result.floors[r.setting] for r in ranking], y=[safe(r.setting) for r in ranking],
                                 mode="markers", name=_("seed-noise floor"),
                                 marker=dict(symbol="line-ns-open", size=26, color=FLOOR_COLOR, line_width=3),
                                 hovertemplate=_("noise floor {x}").format(x="%{x:.3f}") + "<extra></extra>"))
    fig.update_layout(height=120 + 40 * len(ranking), margin=dict(l=90, r=30, t=40, b=40),
                      xaxis_title=_("importance: squared error added by shuffling the setting (points²)"),
                      separators=separators())
    return fig


def _apply_axis(fig: go.Figure, axis: Axis, which: str, **where: int) -> None:
    """Set a subplot axis to the setting's layout (log, linear or ordered categories; 0 labelled on log)."""
    update = fig.update_xaxes if which == "x" else fig.update_yaxes
    title = axis.name + (_(" (log)") if axis.kind is AxisKind.LOG else "")
    if axis.kind is AxisKind.LOG:
        ticks = log_ticks(axis.positions, axis.zero_at)
        update(type="log", title_text=title, tickvals=ticks,
               ticktext=["0" if t == axis.zero_at else f"{t:g}" for t in ticks], **where)
    elif axis.kind is AxisKind.CATEGORICAL:
        update(type="category", categoryorder="array", categoryarray=axis.categories, title_text=title, **where)
    else:
        update(title_text=title, **where)


MOST_TICKS = 6       # a log axis labels every distinct value only when there are at most this many ...
APART = 10 ** 0.25   # ... and each is at least this factor (a quarter of a decade) above the one before


def log_ticks(positions: Sequence[float], zero_at: float | None = None) -> list[float]:
    """The values a log axis labels. A grid's few values are labelled each (the settings tried); a random or TPE
    sweep's many learning rates would print their labels on top of each other, so they get the decades (or
    1-2-5 steps within one decade) that span them instead. A zero drawn at ``zero_at`` keeps its tick."""
    values = sorted({float(v) for v in positions if v is not None and v != zero_at and v > 0})
    zero = [zero_at] if zero_at is not None and zero_at in positions else []
    if not values:
        return zero
    if len(values) <= MOST_TICKS and all(b / a >= APART for a, b in zip(values, values[1:])):
        return zero + values
    return zero + _round_ticks(values[0], values[-1])


def _round_ticks(low_value: float, high_value: float) -> list[float]:
    """Decades spanning [low_value, high_value] (1-2-5 steps when they lie within about one decade)."""
    low, high = math.floor(math.log10(low_value)), math.ceil(math.log10(high_value))
    steps = (1.0,) if high - low >= 2 else (1.0, 2.0, 5.0)
    ticks = [float(f"{m * 10.0 ** e:.12g}") for e in range(low, high + 1) for m in steps]
    return [t for t in ticks if low_value / APART <= t <= high_value * APART]


def slice_figure(selection: Selection) -> go.Figure:
    """The metric against each varying setting, one panel each (every run a point, coloured alike)."""
    axes = [axis_for(name, setting_values(selection, name)) for name in selection.settings]
    fig = make_subplots(rows=1, cols=len(axes), shared_yaxes=True, horizontal_spacing=0.04)
    hover = [_("run {id}").format(id=r.id) for r in selection.runs]
    for col, axis in enumerate(axes, start=1):
        fig.add_trace(go.Scatter(x=axis.positions, y=selection.values, mode="markers", text=hover,
                                 marker=dict(size=8, opacity=0.7, color="#1f77b4"), showlegend=False,
                                 hovertemplate="%{text}: %{y:.4f}<extra></extra>"), row=1, col=col)
        _apply_axis(fig, axis, "x", row=1, col=col)
    fig.update_yaxes(title_text=selection.metric.label, tickformat=".1%", row=1, col=1)
    fig.update_layout(height=360, margin=dict(l=60, r=20, t=30, b=50), separators=separators())
    return fig


def _grid_positions(axis: Axis) -> list:
    return axis.categories if axis.kind is AxisKind.CATEGORICAL else sorted(set(axis.positions))


def contour_figure(selection: Selection, x_name: str, y_name: str) -> go.Figure:
    """The mean metric over each (x, y) pair of values as a contour, with the runs drawn on top.

    Cells no run visited stay empty (not interpolated). InsightError if a setting does not vary.
    """
    check_setting(selection, x_name)
    check_setting(selection, y_name)
    x_axis, y_axis = (axis_for(n, setting_values(selection, n)) for n in (x_name, y_name))
    xs, ys = _grid_positions(x_axis), _grid_positions(y_axis)
    sums, counts = np.zeros((len(ys), len(xs))), np.zeros((len(ys), len(xs)))
    for xv, yv, value in zip(x_axis.positions, y_axis.positions, selection.values):
        sums[ys.index(yv), xs.index(xv)] += value
        counts[ys.index(yv), xs.index(xv)] += 1
    z = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    fig = go.Figure(go.Contour(x=xs, y=ys, z=z.tolist(), colorscale="Viridis", connectgaps=False,
                               colorbar=dict(title=dict(text=selection.metric.label)),
                               hovertemplate=_("{x}, {y}: mean {z}").format(x="%{x}", y="%{y}", z="%{z:.4f}")
                               + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=x_axis.positions, y=y_axis.positions, mode="markers", showlegend=False,
                             marker=dict(color="white", size=6, line=dict(color="black", width=1)),
                             hoverinfo="skip"))
    _apply_axis(fig, x_axis, "x")
    _apply_axis(fig, y_axis, "y")
    fig.update_layout(height=420, margin=dict(l=60, r=20, t=30, b=50), separators=separators())
    return fig


def insight_parallel(selection: Selection) -> go.Figure:
    """The parallel coordinates of the selection's settings, ending in and coloured by the metric."""
    rows = [{**{n: v for n, v in zip(selection.settings, values)}, selection.metric.label: metric}
            for values, metric in zip(zip(*(setting_values(selection, n) for n in selection.settings)),
                                      selection.values)]
    return parallel_coordinates(rows, selection.settings, target=selection.metric.label)


def interval_text(mean: float, low: float, high: float, percent: bool = True) -> tuple[str, str]:
    """"97.81%" and "[97.60, 98.02]" (or "-" when the interval cannot be given), in the current language
    ("97,81 %" and "[97,60; 98,02]")."""
    k = 100.0 if percent else 1.0
    number = f"{mean * k:.2f}"
    shown = (percent_sign(number) if percent else localized(number)) if math.isfinite(mean) else "-"
    ci = (_("[{low}, {high}]").format(low=localized(f"{low * k:.2f}"), high=localized(f"{high * k:.2f}"))
          if math.isfinite(low) and math.isfinite(high) else "-")
    return shown, ci


def pairs(settings: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs of settings a contour can show, in setting order."""
    return [(a, b) for i, a in enumerate(settings) for b in settings[i + 1:]]
