"""Figures of a run's training dynamics, pure functions of the logged series (no Streamlit, no store).

- ``add_batch_lines``: the within-epoch points as thin lines under the epoch curves (Train's live charts,
  Compare), x = epoch as a fraction;
- ``layer_series_figure``: one per-layer measure over the epochs (weight norm, gradient norm, the update-to-
  weight ratio with the rule of thumb's band, dead or saturated units);
- ``histogram_heatmap``: a layer's weights, gradients or activations as a heatmap of epoch x bin;
- ``penalty_figure``: the cross-entropy beside the L2 penalty, the two parts of the objective.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from experiments.analysis.diagnosis import LN10, RATIO_HIGH, RATIO_LOW, UPDATE_RATIO
from experiments.analysis.figures import KIND_WORDS, distinct_colors, safe, separators
from experiments.i18n import N_, _
from nn.batch_curve import BatchPoint
from nn.dynamics import LayerStats

# Marked for the catalog (N_), read through _() where shown.
LAYER_MEASURES = {"update_ratio": N_("update / weight per step"), "weight_norm": N_("weight norm"),
                  "grad_norm": N_("gradient norm"), "dead_fraction": N_("dead ReLUs"),
                  "saturated_fraction": N_("saturated units")}
HISTOGRAM_KINDS = {"weights": N_("weights"), "gradients": N_("gradients"), "activations": N_("activations")}


@dataclass(frozen=True)
class BatchLine:
    """One run's within-epoch points, drawn in ``color`` (the run's colour on the chart)."""

    label: str
    points: Sequence[BatchPoint]
    color: str | None = None


def add_batch_lines(fig: go.Figure, lines: Sequence[BatchLine], kind: str, widen_y: bool = True) -> go.Figure:
    """Thin, faint lines of the within-epoch loss (``kind="loss"``) or accuracy (``"acc"``) under a figure's
    epoch curves; ``widen_y`` stretches fixed axis ranges to include them (not while the user has zoomed)."""
    if kind not in ("loss", "acc"):
        raise ValueError(f"kind must be 'loss' or 'acc', got {kind!r}")
    values: list[float] = []
    for line, default in zip(lines, distinct_colors(len(lines))):
        ys = [y if np.isfinite(y) else None for y in (getattr(p, kind) for p in line.points)]
        values += [y for y in ys if y is not None]
        label = safe(line.label)
        fig.add_trace(go.Scatter(
            x=[p.x for p in line.points], y=ys, mode="lines", name=_("{label} · every few batches").format(label=label),
            line=dict(color=line.color or default, width=1), opacity=0.45, showlegend=False, legendgroup=label,
            hovertemplate=_("{label} · within the epoch<br>epoch {x}<br>train {kind} {y}").format(
                label=label, kind=_(KIND_WORDS[kind]), x="%{x:.2f}", y="%{y:.4f}") + "<extra></extra>"))
    if widen_y and values:
        _widen(fig, values, kind)
    return fig


def _widen(fig: go.Figure, values: list[float], kind: str) -> None:
    """Fixed axis ranges stretched to the within-epoch points: y to their values, x down to 0 (epoch 1's)."""
    y_range, x_range = fig.layout.yaxis.range, fig.layout.xaxis.range
    if y_range is not None:
        low, high = min(y_range[0], min(values)), max(y_range[1], max(values) * 1.02)
        fig.update_yaxes(range=[max(low, 0.0), min(high, 1.0)] if kind == "acc" else [low, high])
    if x_range is not None:
        fig.update_xaxes(range=[0, x_range[1]])


def _by_layer(stats: Sequence[LayerStats], measure: str) -> dict[int, tuple[list[int], list[float | None]]]:
    series: dict[int, tuple[list[int], list[float | None]]] = {}
    for s in stats:
        value = getattr(s, measure)
        xs, ys = series.setdefault(s.layer, ([], []))
        xs.append(s.epoch)
        ys.append(value if value is not None and np.isfinite(value) else None)
    return series


def layer_series_figure(stats: Sequence[LayerStats], measure: str) -> go.Figure:
    """One line per layer of ``measure`` (a key of LAYER_MEASURES) over the epochs. The update ratio is on a
    log axis with the band where the rule of thumb (about 1e-3 per step) holds; outside it the diagnosis
    calls the updates too large or too small."""
    if measure not in LAYER_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(LAYER_MEASURES)}, got {measure!r}")
    fig = go.Figure()
    series = {layer: xy for layer, xy in _by_layer(stats, measure).items() if any(v is not None for v in xy[1])}
    for (layer, (xs, ys)), color in zip(sorted(series.items()), distinct_colors(len(series))):
        fig.add_trace(go.Scatter(x=xs, y=ys, name=_("layer {layer}").format(layer=layer), mode="lines+markers",
                                 line=dict(color=color),
                                 hovertemplate=_("layer {layer}<br>epoch {x}").format(layer=layer, x="%{x}")
                                 + f"<br>{_(LAYER_MEASURES[measure])} "
                                               f"%{{y:.3g}}<extra></extra>"))
    fractions = measure in ("dead_fraction", "saturated_fraction")
    fig.update_layout(height=300, margin=dict(l=60, r=20, t=40, b=40), title=_(LAYER_MEASURES[measure]),
                      xaxis=dict(title=_("epoch"), dtick=1 if len(stats) < 40 else None), separators=separators(),
                      yaxis=dict(title=_(LAYER_MEASURES[measure]), tickformat=".0%" if fractions else None))
    if fractions:
        fig.update_yaxes(range=[0, 1])
    if measure == "update_ratio":
        fig.update_yaxes(type="log", exponentformat="e")
        fig.add_hrect(y0=RATIO_LOW, y1=RATIO_HIGH, fillcolor="green", opacity=0.08, line_width=0)
        fig.add_hline(y=UPDATE_RATIO, line=dict(color="green", dash="dot", width=1))
        fig.add_annotation(x=0, xref="paper", y=math.log10(UPDATE_RATIO), yref="y", text=_("rule of thumb ~1e-3"),
                           showarrow=False, xanchor="left", yanchor="bottom", font=dict(color="green"))
    if not series:
        fig.add_annotation(text=_("not measured for this run"), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper")
    return fig


def histogram_heatmap(stats: Sequence[LayerStats], layer: int, kind: str) -> go.Figure:
    """Layer ``layer``'s histogram of ``kind`` (weights, gradients, activations): epoch (y) x bin (x), the
    colour the share of values in the bin (the bins are fixed, so the epochs line up)."""
    if kind not in HISTOGRAM_KINDS:
        raise ValueError(f"kind must be one of {', '.join(HISTOGRAM_KINDS)}, got {kind!r}")
    rows = [(s.epoch, s.histograms[kind]) for s in stats if s.layer == layer and kind in s.histograms]
    fig = go.Figure()
    if rows:
        first = rows[0][1]
        edges = np.linspace(first.lo, first.hi, len(first.counts) + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        shares = [np.asarray(h.counts, dtype=float) / max(sum(h.counts), 1) for _, h in rows]
        fig.add_trace(go.Heatmap(x=centres, y=[e for e, _ in rows], z=shares, colorscale="Viridis",
                                 colorbar=dict(title=_("share"), tickformat=".0%"),
                                 hovertemplate=_("epoch {y}<br>value {x}<br>share {z}").format(
                                     y="%{y}", x="%{x:.3g}", z="%{z:.1%}") + "<extra></extra>"))
    else:
        fig.add_annotation(text=_("not measured for this layer"), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper")
    fig.update_layout(height=300, margin=dict(l=60, r=20, t=40, b=40),
                      title=_("layer {layer}: {kind}").format(layer=layer, kind=_(HISTOGRAM_KINDS[kind])),
                      xaxis=dict(title=_(HISTOGRAM_KINDS[kind])), yaxis=dict(title=_("epoch"), autorange="reversed"),
                      separators=separators())
    return fig


def penalty_figure(epochs: Sequence[Mapping[str, object]], points: Sequence[BatchPoint] = ()) -> go.Figure:
    """The two parts of the training objective: the cross-entropy and the L2 penalty (log axis), per epoch
    and, when recorded, every few batches. A penalty above the cross-entropy means L2 dominates."""
    fig = go.Figure()
    xs = [e["epoch"] for e in epochs]
    for key, name, color in (("train_loss", _("cross-entropy"), "#1f77b4"), ("l2_penalty", _("L2 penalty"), "#d62728")):
        ys = [e.get(key) for e in epochs]
        fig.add_trace(go.Scatter(x=xs, y=ys, name=name, mode="lines+markers", line=dict(color=color),
                                 hovertemplate=_("{name}<br>epoch {x}<br>{y}").format(name=name, x="%{x}", y="%{y:.4g}")
                                 + "<extra></extra>"))
    if points:
        fig.add_trace(go.Scatter(x=[p.x for p in points], y=[p.l2_penalty for p in points], mode="lines",
                                 line=dict(color="#d62728", width=1), opacity=0.4, showlegend=False,
                                 name=_("L2 penalty, within epochs"), hoverinfo="skip"))
    fig.add_hline(y=LN10, line=dict(color="gray", dash="dot", width=1), annotation_text=_("ln 10 (chance)"),
                  annotation_position="top left")
    fig.update_layout(height=300, margin=dict(l=60, r=20, t=40, b=40), title=_("cross-entropy and L2 penalty"),
                      xaxis=dict(title=_("epoch")), yaxis=dict(title=_("per example"), type="log"),
                      separators=separators(),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    return fig
