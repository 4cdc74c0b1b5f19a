"""The reveal's chart: each run's mean curve over its seeds, and the student's drawn curve if they drew one.

Plain data in, a Plotly figure out (no Streamlit), like experiments.analysis.figures, whose colours and
label escaping it reuses.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from experiments.analysis.figures import distinct_colors, safe
from experiments.exercises.judge import Outcome
from experiments.exercises.spec import Exercise
from experiments.i18n import N_, _, ngettext

# The metrics in English (the catalog's msgids); ``metric_name`` reads them in the current language.
METRIC_NAMES = {"test_acc": N_("test accuracy"), "val_acc": N_("validation accuracy"),
                "train_acc": N_("training accuracy"), "test_loss": N_("test loss"), "val_loss": N_("validation loss"),
                "train_loss": N_("training loss")}


def metric_name(metric: str) -> str:
    """An epoch metric in words, in the current language ("validation accuracy", "exactitud de validación")."""
    return _(METRIC_NAMES[metric]) if metric in METRIC_NAMES else metric


def reveal_figure(exercise: Exercise, result: Outcome, drawn: Sequence[float] = ()) -> go.Figure:
    """Mean curve per run (and the student's curve, dashed) against the epoch."""
    k = 100.0 if exercise.percent else 1.0
    fig = go.Figure()
    for line, color in zip(result.lines, distinct_colors(len(result.lines))):
        y = [v * k if math.isfinite(v) else None for v in line.curve]
        fig.add_trace(go.Scatter(x=list(range(1, len(y) + 1)), y=y, mode="lines+markers", name=safe(line.label),
                                 line={"color": color}))
    if drawn:
        x = list(exercise.drawn_epochs) if exercise.target else list(range(1, len(drawn) + 1))
        fig.add_trace(go.Scatter(x=x, y=[v * k for v in drawn], mode="lines+markers",
                                 name=_("your curve"), line={"color": "black", "dash": "dash"}))
    name = metric_name(exercise.metric)
    seeds = len(exercise.seeds)
    title = ngettext("{metric}, mean over {n} seed", "{metric}, mean over {n} seeds", seeds).format(
        metric=name.capitalize(), n=seeds)
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"},
                      title=title)
    fig.update_xaxes(title=_("epoch"), dtick=1 if len(result.lines[0].curve) <= 12 else None)
    fig.update_yaxes(title=f"{name} (%)" if exercise.percent else name)
    return fig
