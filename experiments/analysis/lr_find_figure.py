"""The learning-rate finder's picture: loss against learning rate on a log axis, both suggestions marked.

A pure function (plain data in, a Plotly figure out), like experiments/analysis/figures.py.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from experiments.analysis.figures import separators
from experiments.i18n import _

STEEPEST_COLOR, MINIMUM_COLOR = "#EF553B", "#00CC96"


def lr_find_figure(lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray,
                   smoothed: Sequence[float] | np.ndarray, steepest: float | None,
                   minimum: float | None) -> go.Figure:
    """Raw loss per step (faint), the smoothed loss (bold), and a vertical line at each suggestion."""
    lrs = np.asarray(lrs, dtype=float)
    raw = np.where(np.isfinite(losses), losses, np.nan)
    smooth = np.where(np.isfinite(smoothed), smoothed, np.nan)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=lrs, y=raw, mode="lines", name=_("loss per batch"),
                             line=dict(width=1, color="#AAB"),
                             hovertemplate=_("lr {x}: loss {y}").format(x="%{x:.3g}", y="%{y:.3f}")
                             + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=lrs, y=smooth, mode="lines", name=_("smoothed loss"),
                             line=dict(width=3, color="#636EFA"),
                             hovertemplate=_("lr {x}: smoothed {y}").format(x="%{x:.3g}", y="%{y:.3f}")
                             + "<extra></extra>"))
    for lr, name, color, side in ((steepest, _("steepest descent"), STEEPEST_COLOR, "top left"),
                                  (minimum, _("minimum / 10"), MINIMUM_COLOR, "top right")):
        if lr is not None and math.isfinite(lr) and lr > 0:
            fig.add_vline(x=lr, line=dict(color=color, dash="dash", width=2),
                          annotation=dict(text=f"{name}: {lr:.2g}", font=dict(color=color)),
                          annotation_position=side)
    # The axis spans the smoothed curve's top (the raw loss's last spikes would flatten everything else) and
    # the lowest loss either curve reaches.
    finite_smooth, finite_raw = smooth[np.isfinite(smooth)], raw[np.isfinite(raw)]
    top = float(finite_smooth.max()) if finite_smooth.size else 1.0
    low = float(min(finite_smooth.min(), finite_raw.min(initial=np.inf))) if finite_smooth.size else 0.0
    fig.update_layout(xaxis=dict(title=_("learning rate"), type="log", exponentformat="power"), separators=separators(),
                      yaxis=dict(title=_("training loss"), range=[max(0.0, low - 0.1 * (top - low)), top * 1.1]),
                      height=380, margin=dict(l=60, r=20, t=40, b=50), legend=dict(orientation="h", y=-0.25))
    return fig
