"""Plotly figure builders for the dashboard: plain data in, a Plotly figure (or table) out.

Pure functions: no Streamlit, no store, no training. That keeps every chart testable without a browser
and lets the command line or a notebook draw the same pictures. Text that may come from a user (run
names, notes, folder paths) is HTML-escaped before it reaches Plotly, which renders a subset of HTML
(including links) in legends and hover labels.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

from experiments.analysis.rounding import acc_percent, percent_text, rounded
from experiments.i18n import N_, _, language
from experiments.store.best import best_epoch_choice, best_epoch_name
from nn.pixels import as_inputs

# Marked for the catalog (N_): read through _() where shown, since these tables are built before a language is
# chosen.
METRIC_NAMES = {"val_acc": N_("Validation accuracy"), "test_acc": N_("Test accuracy"),
                "train_acc": N_("Train accuracy"), "val_loss": N_("Validation loss"), "test_loss": N_("Test loss"),
                "train_loss": N_("Train loss"), "lr": N_("Learning rate")}  # the lr per epoch: a schedule drawn
X_AXES = {"epoch": N_("Epoch"), "elapsed": N_("Seconds")}
# Distinct colours: Plotly's ten, then Dark24 for more runs (colour-blind-friendlier first).
PALETTE = list(qualitative.Plotly) + [c for c in qualitative.Dark24 if c not in qualitative.Plotly]
LN10 = math.log(10)


@dataclass(frozen=True)
class SplitStyle:
    """How one data split is drawn on every chart of epochs: its own colour, dash and marker symbol, so the
    three splits never differ by dash alone (a dash is hard to tell at a glance, and invisible on a point)."""

    word: str
    color: str
    dash: str
    symbol: str


# Colours outside the run palette's first entries, so a split never reads as a run.
SPLIT_STYLES = {"train": SplitStyle(N_("train"), "#636363", "solid", "circle"),
                "val": SplitStyle(N_("validation"), "#e6550d", "dot", "square"),
                "test": SplitStyle(N_("test"), "#3182bd", "dash", "diamond")}
KIND_WORDS = {"loss": N_("loss"), "acc": N_("acc")}


def __getattr__(name: str) -> str:
    """``SPLITS_LEGEND``: the legend's title for several runs, in the current language each time it is read."""
    if name == "SPLITS_LEGEND":
        return splits_legend()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def splits_legend() -> str:
    """How the splits are drawn, above a legend of several runs."""
    return _("● train (solid) · ■ validation (dotted) · ◆ test (dashed) · the line's colour is the run:")


def separators() -> str | None:
    """Plotly's decimal and thousands marks for the current language (its ``layout.separators``): ",." in
    Spanish, so the axes' ticks read as the text around them; None (Plotly's own ".,") in English."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    marks = get_decimal_symbol(language()) + get_group_symbol(language())
    return None if marks == ".," else marks


def safe(text: Any) -> str:
    """User text made inert for Plotly labels (which render <a>, <b> and friends)."""
    return html.escape(str(text), quote=True)


def distinct_colors(n: int) -> list[str]:
    """``n`` colours, as distinct as the palette allows (it cycles beyond its length)."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def colors_for_values(values: Sequence[Any]) -> list[str]:
    """One colour per value: a sequential scale for numbers (log-spaced if they span decades),
    distinct palette colours for anything else. Equal values get equal colours."""
    uniq = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in uniq) and len(uniq) > 1:
        nums = np.array(uniq, dtype=float)
        if nums.min() > 0 and nums.max() / nums.min() >= 100:
            nums = np.log10(nums)
        span = nums.max() - nums.min()
        pos = (nums - nums.min()) / span if span else np.zeros_like(nums)
        scale = dict(zip(uniq, sample_colorscale("Viridis", [0.05 + 0.85 * float(p) for p in pos])))
    else:
        scale = dict(zip(uniq, distinct_colors(len(uniq))))
    return [scale[v] for v in values]


def smooth(values: Sequence[float | None], weight: float) -> list[float | None]:
    """Exponential moving average with debiasing (TensorBoard's smoothing); ``weight`` in [0, 1).

    Missing or non-finite points stay missing and do not poison the average.
    """
    if not 0.0 < weight < 1.0:
        return [_finite(v) for v in values]
    out: list[float | None] = []
    avg, norm = 0.0, 0.0
    for v in values:
        v = _finite(v)
        if v is None:
            out.append(None)
            continue
        avg = weight * avg + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out.append(avg / norm)
    return out


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


# ---------------------------------------------------------------------- live training curves
@dataclass(frozen=True)
class LiveRun:
    """One run on the live charts: its legend label and the epochs logged so far."""

    label: str
    epochs: Sequence[Mapping[str, Any]]
    planned_epochs: int = 0


def live_figure(runs: Sequence[LiveRun], kind: str, uirevision: str = "live",
                zoom: Mapping[str, Sequence[float]] | None = None) -> go.Figure:
    """Loss (``kind="loss"``) or accuracy (``"acc"``) per epoch: train solid, test dashed, one colour per run.

    ``uirevision`` stays the same across refreshes so Plotly keeps the user's view where the chart is
    updated in place. Streamlit 1.67 re-mounts a chart whose data changed, which loses that view, so the
    page also passes the user's box-zoom back as ``zoom`` (``{"x": (lo, hi), "y": (lo, hi)}``): it is part
    of the figure and survives every new epoch. Dragging a box selects (the page turns it into the zoom).
    The legend sits above the plot, one entry per run (clicking it hides both of the run's lines), so that
    however many runs there are it never covers the axis titles; the y axis is named instead of a title.
    """
    if kind not in ("loss", "acc"):
        raise ValueError(f"kind must be 'loss' or 'acc', got {kind!r}")
    fig = go.Figure()
    several = len(runs) > 1
    values = _add_live_traces(fig, runs, kind)
    planned = max([r.planned_epochs for r in runs] + [max((len(r.epochs) for r in runs), default=0), 1])
    fig.update_layout(
        uirevision=uirevision,
        xaxis=dict(title=_("epoch"), range=[0.5, planned + 0.5], dtick=max(1, round(planned / 10))),
        yaxis=dict(title=_("loss (cross-entropy)") if kind == "loss" else _("accuracy"),
                   tickformat=".1%" if kind == "acc" else None),
        separators=separators(),
        height=360, margin=dict(l=60, r=20, t=30, b=45),
        legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom",
                    title=dict(text=splits_legend() if several else "")),
        dragmode="select", selectdirection="any")
    y_range = value_range(values, kind == "acc")
    if y_range is not None:
        fig.update_yaxes(range=y_range, autorange=False)
    if zoom:
        fig.update_xaxes(range=list(zoom["x"]), autorange=False)
        fig.update_yaxes(range=list(zoom["y"]), autorange=False)
    if kind == "loss":
        fig.add_hline(y=LN10, line=dict(color="gray", dash="dot", width=1),
                      annotation_text=_("ln 10 (chance)"), annotation_position="top left")
    return fig


def _add_live_traces(fig: go.Figure, runs: Sequence[LiveRun], kind: str) -> list[float | None]:
    """Each run's train, validation (if any) and test line, each split in its ``SPLIT_STYLES``; returns every
    y value. One run: the whole line takes the split's colour. Several: the line takes the run's colour (which
    run it is) and its markers the split's colour and symbol (which split)."""
    several = len(runs) > 1
    values: list[float | None] = []
    for run, run_color in zip(runs, distinct_colors(len(runs))):
        xs = [int(e["epoch"]) for e in run.epochs]
        for split, style in SPLIT_STYLES.items():
            ys = [_finite(e.get(f"{split}_{kind}")) for e in run.epochs]
            if split == "val" and all(y is None for y in ys):  # a run without a validation set
                continue
            values += ys
            word = _(style.word)
            name = safe(run.label) if several else word
            fig.add_trace(go.Scatter(
                x=xs, y=ys, name=name, mode="lines+markers",
                line=dict(color=run_color if several else style.color, dash=style.dash),
                marker=dict(size=7, color=style.color, symbol=style.symbol),
                legendgroup=safe(run.label), showlegend=not several or split == "train",
                hovertemplate=_("{name} · {split}<br>epoch {x}<br>{split} {kind} {y}").format(
                    name=name, split=word, kind=_(KIND_WORDS[kind]), x="%{x}", y="%{y:.4f}") + "<extra></extra>"))
    return values


def value_range(values: Sequence[float | None], is_acc: bool) -> list[float] | None:
    """An explicit y range where Plotly's own would mislead, else None (autorange).

    With no point Plotly spans -1 to 4 (an accuracy axis from -100% to 400%) and it pads a lone value by
    whole units; an accuracy lies in [0, 1], so its axis is always fitted to the points within that.
    """
    finite = [v for v in values if v is not None]
    if not finite:
        return [0.0, 1.0] if is_acc else [0.0, round(LN10 * 1.2, 2)]
    low, high = min(finite), max(finite)
    if not is_acc and high > low:
        return None
    pad = max((high - low) * 0.08, 0.02 if is_acc else 0.1 * max(abs(high), 0.01))
    low, high = max(0.0, low - pad), high + pad
    return [low, min(1.0, high)] if is_acc else [low, high]


def training_figure(run: LiveRun, title: str = "") -> go.Figure:
    """One run's loss (left) and accuracy (right) per epoch side by side: ``live_figure``'s two charts as one
    figure, so a notebook can show and update a run's progress in a single output (``title`` above them)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1)
    for col, kind in ((1, "loss"), (2, "acc")):
        part = live_figure([run], kind)
        for trace in part.data:
            trace.showlegend = col == 1
            fig.add_trace(trace, row=1, col=col)
        fig.update_xaxes(part.layout.xaxis, row=1, col=col)
        fig.update_yaxes(part.layout.yaxis, row=1, col=col)
    fig.add_hline(y=LN10, line=dict(color="gray", dash="dot", width=1), annotation_text=_("ln 10 (chance)"),
                  annotation_position="top left", row=1, col=1)
    fig.update_layout(height=360, margin=dict(l=60, r=20, t=60 if title else 30, b=45),
                      title=dict(text=safe(title), font=dict(size=14)) if title else None,
                      legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"))
    return fig


# ---------------------------------------------------------------------- comparison
@dataclass
class Curve:
    """One line of a comparison: a run, or the mean of a seed group with its band.

    ``x``/``y`` are the points; ``low``/``high`` (same length) draw a shaded band when given.
    """

    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    hover: str = ""
    color: str | None = None
    low: Sequence[float | None] | None = None
    high: Sequence[float | None] | None = None
    members: int = 1


def run_curve(label: str, epochs: Sequence[Mapping[str, Any]], metric: str, x_axis: str = "epoch",
              hover: str = "", color: str | None = None) -> Curve:
    """A Curve from one run's epoch logs (``metric`` one of METRIC_NAMES, ``x_axis`` epoch or elapsed)."""
    _check_metric(metric, x_axis)
    return Curve(label, [e[x_axis] for e in epochs], [_finite(e.get(metric)) for e in epochs], hover, color)


def compare_figure(curves: Sequence[Curve], metric: str, x_axis: str = "epoch", smoothing: float = 0.0,
                   uirevision: str = "compare") -> go.Figure:
    """Overlaid curves of one metric; seed groups as mean with a shaded band; hover text per curve."""
    _check_metric(metric, x_axis)
    fig = go.Figure()
    is_acc = metric.endswith("acc")
    for curve, default_color in zip(curves, distinct_colors(len(curves))):
        _add_curve(fig, curve, curve.color or default_color, smoothing, metric, x_axis)
    fig.update_layout(
        uirevision=uirevision, height=460, margin=dict(l=60, r=20, t=30, b=40),
        xaxis=dict(title=_(X_AXES[x_axis]).lower()),
        yaxis=dict(title=_(METRIC_NAMES[metric]).lower(), tickformat=".1%" if is_acc else None),
        legend=dict(orientation="v"), hovermode="closest", separators=separators())
    points = [v for c in curves for v in (*c.y, *(c.low or ()), *(c.high or ())) if _finite(v) is not None]
    if not points:  # Plotly would draw empty axes from -1 to 6: say why there is nothing instead
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.add_annotation(text=_("no finished epoch (or no finite value) to draw"), showarrow=False, x=0.5,
                           y=0.5, xref="paper", yref="paper")
        return fig
    y_range = value_range(points, is_acc) if is_acc or len(set(points)) == 1 else None
    if y_range is not None:  # smoothing averages the points, so it stays inside their range
        fig.update_yaxes(range=y_range)
    return fig


def _add_curve(fig: go.Figure, curve: Curve, color: str, smoothing: float, metric: str, x_axis: str) -> None:
    """One curve of a comparison: its line, and its shaded band when it has one."""
    label = safe(curve.label)
    if curve.low is not None and curve.high is not None:
        xs = list(curve.x)
        lo, hi = smooth(curve.low, smoothing), smooth(curve.high, smoothing)
        fig.add_trace(go.Scatter(x=xs + xs[::-1], y=hi + lo[::-1], fill="toself", fillcolor=_alpha(color, 0.18),
                                 line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=label,
                                 name=_("{label} band").format(label=label)))
    seeds = _(" (mean of {n} seeds)").format(n=curve.members) if curve.members > 1 else ""
    hover = safe(curve.hover or curve.label).replace("\n", "<br>")
    ys = smooth(curve.y, smoothing)
    # the hover text is formatted by the same rounding as the verdict's sentence (Plotly's "%{y:.2%}" rounded
    # 68.385% down where the sentence said 68.39%)
    shown = [("-" if y is None else percent_text(y) if metric.endswith("acc") else rounded(y, 4)) for y in ys]
    fig.add_trace(go.Scatter(
        x=list(curve.x), y=ys, name=label + seeds, customdata=shown,
        mode="lines+markers" if len(curve.x) <= 30 else "lines", line=dict(color=color, width=2),
        marker=dict(size=5), legendgroup=label,
        hovertemplate=f"{hover}{seeds}<br>{_(X_AXES[x_axis]).lower()} %{{x:.4g}}<br>"
                      f"{_(METRIC_NAMES[metric]).lower()} %{{customdata}}<extra></extra>"))


def _check_metric(metric: str, x_axis: str) -> None:
    if metric not in METRIC_NAMES:
        raise ValueError(f"metric must be one of {', '.join(METRIC_NAMES)}, got {metric!r}")
    if x_axis not in X_AXES:
        raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {x_axis!r}")


def _alpha(color: str, alpha: float) -> str:
    """``#rrggbb`` or ``rgb(r, g, b)`` as an rgba() string with the given opacity."""
    if color.startswith("#") and len(color) == 7:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    elif color.startswith("rgb"):
        r, g, b = (int(float(c)) for c in color[color.index("(") + 1:color.index(")")].split(",")[:3])
    else:
        return color
    return f"rgba({r}, {g}, {b}, {alpha})"


def parallel_coordinates(rows: Sequence[Mapping[str, Any]], fields: Sequence[str],
                         target: str = "test_acc") -> go.Figure:
    """One line per run through its hyperparameters, coloured and ended by ``target`` (test accuracy).

    Text settings become evenly spaced categorical axes; numbers spanning decades get a log10 axis. A run
    without a finite ``target`` (no finished epoch, diverged) is left out: drawn at 0 it would read as a
    result (``scored_rows`` says which rows are drawn).
    """
    rows = scored_rows(rows, target)
    dims = []
    for name in fields:
        values = [r.get(name) for r in rows]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numeric:
            arr = np.array(values, dtype=float)
            if arr.min() > 0 and arr.max() / arr.min() >= 100:
                dims.append(dict(label=f"log10 {name}", values=np.log10(arr).tolist()))
            else:
                dims.append(dict(label=name, values=arr.tolist()))
        else:
            cats = sorted({str(v) for v in values})
            index = {c: i for i, c in enumerate(cats)}
            dims.append(dict(label=name, values=[index[str(v)] for v in values], tickvals=list(range(len(cats))),
                             ticktext=[safe(c) for c in cats]))
    scores = [float(r[target]) for r in rows]
    dims.append(dict(label=(_(METRIC_NAMES[target]) if target in METRIC_NAMES else target).lower(), values=scores))
    fig = go.Figure(go.Parcoords(line=dict(color=scores, colorscale="Viridis", showscale=True), dimensions=dims))
    fig.update_layout(height=420, margin=dict(l=60, r=60, t=50, b=30))
    return fig


def scored_rows(rows: Sequence[Mapping[str, Any]], target: str = "test_acc") -> list[Mapping[str, Any]]:
    """The rows with a finite ``target``: the ones a parallel-coordinates figure can place."""
    return [r for r in rows if _finite(r.get(target)) is not None]


# ---------------------------------------------------------------------- one run, inspected
def confusion_figure(cm: np.ndarray) -> go.Figure:
    """Heatmap of ``cm[true, predicted]`` counts with the counts written in the cells."""
    cm = np.asarray(cm)
    labels = [str(i) for i in range(cm.shape[0])]
    fig = go.Figure(go.Heatmap(z=cm, x=labels, y=labels, colorscale="Blues", text=cm, texttemplate="%{text}",
                               hovertemplate=_("true {y}, predicted {x}: {z}").format(x="%{x}", y="%{y}", z="%{z}")
                               + "<extra></extra>"))
    fig.update_layout(xaxis=dict(title=_("predicted"), type="category"),
                      yaxis=dict(title=_("true"), type="category", autorange="reversed"),
                      height=460, margin=dict(l=50, r=20, t=30, b=40))
    return fig


def per_class_figure(accuracy: Sequence[float] | np.ndarray) -> go.Figure:
    """Bar per digit: share of that digit's test images classified correctly."""
    acc = [_finite(a) for a in accuracy]
    shown = [acc_percent(a, "") for a in acc]
    fig = go.Figure(go.Bar(x=[str(i) for i in range(len(acc))], y=acc, text=shown, customdata=shown,
                           textposition="inside", insidetextanchor="end",
                           hovertemplate=_("digit {x}: {value}").format(x="%{x}", value="%{customdata}")
                           + "<extra></extra>"))
    low = min([a for a in acc if a is not None], default=0.0)
    fig.update_layout(xaxis=dict(title=_("digit"), type="category"), separators=separators(),
                      yaxis=dict(title=_("accuracy"), tickformat=".0%", range=[max(0.0, low - 0.1), 1.0]),
                      height=460, margin=dict(l=50, r=20, t=30, b=40))
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str], columns: int = 8, colorscale: str = "gray_r",
               symmetric: bool = False, height_per_row: int = 95) -> go.Figure:
    """Small images (n, 28, 28) tiled in a grid, each with a title above it.

    ``symmetric`` centres the colour scale on zero (for weights: red positive, blue negative).
    """
    images = np.asarray(images, dtype=float)
    n = len(images)
    fig = go.Figure()
    if n == 0:
        fig.update_layout(height=120, xaxis=dict(visible=False), yaxis=dict(visible=False),
                          annotations=[dict(text=_("nothing to show"), showarrow=False, x=0.5, y=0.5,
                                            xref="paper", yref="paper")])
        return fig
    h, w = images.shape[1:3]
    pad = 2
    rows = math.ceil(n / columns)
    cols = min(columns, n)
    mosaic = np.full((rows * (h + pad + 6), cols * (w + pad)), np.nan)
    annotations = []
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        top, left = r * (h + pad + 6) + 6, c * (w + pad)
        mosaic[top:top + h, left:left + w] = img
        annotations.append(dict(x=left + w / 2, y=top - 1, text=safe(titles[i]) if i < len(titles) else "",
                                showarrow=False, font=dict(size=10), yanchor="bottom"))
    finite = images[np.isfinite(images)]
    if symmetric:
        bound = float(np.abs(finite).max()) if finite.size else 0.0
        bound = bound or 1.0
        zmin, zmax = -bound, bound
    else:
        zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    fig.add_trace(go.Heatmap(z=mosaic, colorscale=colorscale, zmin=zmin, zmax=zmax, showscale=symmetric,
                             hoverinfo="skip"))
    fig.update_layout(annotations=annotations, height=rows * height_per_row + 40,
                      xaxis=dict(visible=False, scaleanchor="y", constrain="domain"),
                      yaxis=dict(visible=False, autorange="reversed"), margin=dict(l=10, r=10, t=20, b=10),
                      plot_bgcolor="white")
    return fig


def misclassified_figure(images: np.ndarray, true: Sequence[int], predicted: Sequence[int],
                         columns: int = 10) -> go.Figure:
    """Misclassified test digits, each titled "true → predicted"."""
    titles = [f"{t} → {p}" for t, p in zip(true, predicted)]
    return image_grid(as_inputs(images).reshape(-1, 28, 28), titles, columns=columns)  # pixels shown in [0, 1]


def weights_figure(first_layer: np.ndarray, columns: int = 10) -> go.Figure:
    """The first layer's incoming weights, one 28x28 image per unit (red positive, blue negative)."""
    w = np.asarray(first_layer)  # (784, units)
    images = w.T.reshape(-1, 28, 28)
    titles = [_("unit {i}").format(i=i) for i in range(len(images))]
    return image_grid(images, titles, columns=columns, colorscale="RdBu_r",
                      symmetric=True)


# ---------------------------------------------------------------------- the best epoch marked on a chart
@dataclass(frozen=True)
class BestMark:
    """Where one run's best epoch sits on a chart, and the words for its hover."""

    label: str
    x: float
    y: float
    text: str
    monitor: str = "val_loss"


def best_mark(label: str, epochs: Sequence[Mapping[str, Any]], best_epoch: int | None, metric: str,
              x_axis: str = "epoch", monitor: str = "val_loss") -> BestMark | None:
    """The mark of epoch ``best_epoch`` on the curve of ``metric`` (None if the run has no best epoch or no
    finite value there). The hover says the epoch is chosen by ``monitor`` (validation loss by default): on
    an accuracy chart the star may sit below a higher point, and the words say why."""
    row = next((e for e in epochs if e.get("epoch") == best_epoch), None) if best_epoch else None
    if row is None:
        return None
    x, y = row.get(x_axis), row.get(metric)
    if x is None or y is None or not math.isfinite(y):
        return None
    return BestMark(label, float(x), float(y), _("{label}: best epoch {epoch}, {rule}").format(
                        label=label, epoch=best_epoch, rule=best_epoch_choice(monitor)),
                    monitor)


def mark_best(fig: go.Figure, marks: Sequence[BestMark | None]) -> go.Figure:
    """Add a star per mark (one legend entry naming the rule, "best epoch (lowest val. loss)"); marks that
    are None are skipped."""
    shown = [m for m in marks if m is not None]
    if shown:
        monitors = {m.monitor for m in shown}
        name = (best_epoch_name(monitors.pop()) if len(monitors) == 1
                else _("best epoch (by each run's validation rule)"))
        fig.add_trace(go.Scatter(
            x=[m.x for m in shown], y=[m.y for m in shown], mode="markers", name=name,
            marker=dict(symbol="star", size=14, color="gold", line=dict(color="black", width=1)),
            hovertext=[safe(m.text) for m in shown], hovertemplate="%{hovertext}<extra></extra>"))
    return fig
