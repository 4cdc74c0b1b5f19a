"""The best epoch marked on a chart: a star on each run's curve where validation picked its best epoch.

A separate step from drawing the curves (``figures``), so the Train page's live charts and Compare's chart
mark it the same way.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from experiments.analysis.figures import safe


@dataclass(frozen=True)
class BestMark:
    """Where one run's best epoch sits on a chart, and the words for its hover."""

    label: str
    x: float
    y: float
    text: str


def best_mark(label: str, epochs: Sequence[Mapping[str, Any]], best_epoch: int | None, metric: str,
              x_axis: str = "epoch", monitor: str = "val_loss") -> BestMark | None:
    """The mark of epoch ``best_epoch`` on the curve of ``metric`` (None if the run has no best epoch or no
    finite value there)."""
    row = next((e for e in epochs if e.get("epoch") == best_epoch), None) if best_epoch else None
    if row is None:
        return None
    x, y = row.get(x_axis), row.get(metric)
    if x is None or y is None or not math.isfinite(y):
        return None
    return BestMark(label, float(x), float(y), f"{label}: best epoch {best_epoch} (by {monitor})")


def mark_best(fig: go.Figure, marks: Sequence[BestMark | None]) -> go.Figure:
    """Add a star per mark (one legend entry, "best epoch"); marks that are None are skipped."""
    shown = [m for m in marks if m is not None]
    if shown:
        fig.add_trace(go.Scatter(
            x=[m.x for m in shown], y=[m.y for m in shown], mode="markers", name="best epoch (validation)",
            marker=dict(symbol="star", size=14, color="gold", line=dict(color="black", width=1)),
            hovertext=[safe(m.text) for m in shown], hovertemplate="%{hovertext}<extra></extra>"))
    return fig
