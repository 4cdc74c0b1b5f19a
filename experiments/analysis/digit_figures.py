"""Figures for a drawn digit: the 28 x 28 input the network sees, its ten probabilities, the units that fire.

Pure functions (plain data in, a Plotly figure out), like experiments/analysis/figures.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from experiments.analysis.digit import HiddenUnit
from experiments.analysis.figures import image_grid, safe, separators
from experiments.i18n import _, decimal, percent_sign


def input_figure(image: np.ndarray, title: str | None = None) -> go.Figure:
    """The preprocessed digit as MNIST shows it: white ink on black, one cell per input pixel (``title``: by
    default "what the network sees (28 x 28)")."""
    title = _("what the network sees (28 x 28)") if title is None else title
    image = np.asarray(image, dtype=float).reshape(28, 28)
    fig = go.Figure(go.Heatmap(z=image, colorscale="gray", zmin=0.0, zmax=1.0, showscale=False,
                               hovertemplate=_("row {y}, column {x}: {z}").format(y="%{y}", x="%{x}", z="%{z:.2f}")
                               + "<extra></extra>"))
    fig.update_layout(title=dict(text=safe(title), font=dict(size=13)), height=300, width=300,
                      xaxis=dict(visible=False, scaleanchor="y", constrain="domain"),
                      yaxis=dict(visible=False, autorange="reversed"), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def probabilities_figure(probabilities: Sequence[float] | np.ndarray, title: str = "") -> go.Figure:
    """One bar per digit, its probability written on it; the predicted digit's bar is highlighted."""
    p = np.asarray(probabilities, dtype=float)
    if p.shape != (10,) or not np.all(np.isfinite(p)):
        raise ValueError(f"expected ten finite probabilities, got shape {p.shape}")
    best = int(np.argmax(p))
    colors = ["#636EFA" if i != best else "#EF553B" for i in range(10)]
    fig = go.Figure(go.Bar(x=[str(i) for i in range(10)], y=p, marker_color=colors,
                           text=[percent_sign(f"{v:.1%}"[:-1]) for v in p], textposition="outside",
                           cliponaxis=False, hovertemplate=_("digit {x}: {value}").format(x="%{x}", value="%{y:.2%}")
                           + "<extra></extra>"))
    fig.update_layout(title=dict(text=safe(title), font=dict(size=13)) if title else None,
                      xaxis=dict(title=_("digit"), type="category"), separators=separators(),
                      yaxis=dict(title=_("probability"), tickformat=".0%", range=[0, 1.1]),
                      height=320, margin=dict(l=50, r=20, t=40 if title else 20, b=40))
    return fig


def hidden_units_figure(units: Sequence[HiddenUnit], columns: int = 8) -> go.Figure:
    """The first-layer weight images of the units that respond most, titled with unit and activation."""
    images = np.array([u.weights for u in units]).reshape(-1, 28, 28)
    titles = [_("unit {i}: {activation}").format(i=u.index, activation=decimal(u.activation, 2)) for u in units]
    return image_grid(images, titles, columns=columns, colorscale="RdBu_r", symmetric=True)
