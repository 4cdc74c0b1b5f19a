"""The Dynamics view of one run: per-layer series over the epochs and histograms as heatmaps.

Shown live on Train (for the run in focus) and on Inspect (for any run). Widgets only: the numbers come from
the store (experiments/store/dynamics.py) and the figures from experiments/analysis/dynamics_figures.py.
"""
from __future__ import annotations

import streamlit as st

from experiments.analysis.dynamics_figures import (
    HISTOGRAM_KINDS,
    histogram_heatmap,
    layer_series_figure,
    penalty_figure,
)
from experiments.i18n import _
from experiments.store import RunRecord
from experiments.store.dynamics import get_batch_points, get_layer_stats
from ui import common

CONFIG = {"displaylogo": False}


def dynamics_view(run: RunRecord, key: str) -> None:
    """The run's dynamics; ``key`` prefixes the element keys (one view per page)."""
    store = common.store()
    stats = get_layer_stats(store, run.id)
    if not stats:
        st.caption(_("Run {id} has no per-layer dynamics yet: they are measured after each epoch (runs trained "
                     "before this was added have none).").format(id=run.id))
        return
    st.caption(_("Measured after every epoch on a sample of training images. The update ratio is how much one step "
                 "changes a layer's weights, relative to them: about 1e-3 is healthy; far above, the learning rate "
                 "is too high; far below, too low (the shaded band)."))
    health = "saturated_fraction" if run.config is not None and run.config.activation != "relu" else "dead_fraction"
    left, right = st.columns(2)
    for column, measure in zip((left, right, left, right), ("update_ratio", health, "weight_norm", "grad_norm")):
        column.plotly_chart(layer_series_figure(stats, measure), key=f"{key}_{measure}", config=CONFIG)
    epochs = store.get_epochs(run.id)
    if any(e.get("l2_penalty") for e in epochs):
        st.plotly_chart(penalty_figure(epochs, get_batch_points(store, run.id)), key=f"{key}_penalty", config=CONFIG)
    layers = sorted({s.layer for s in stats})
    c1, c2 = st.columns([1, 2])
    layer = c1.selectbox(_("Layer"), layers, key=f"{key}_layer",
                         format_func=lambda n: _("layer {layer}").format(layer=n)) or layers[0]
    kinds = list(HISTOGRAM_KINDS)
    kind = c2.radio(_("Histogram of"), kinds, key=f"{key}_hist", horizontal=True,
                    format_func=lambda k: _(HISTOGRAM_KINDS[k])) or kinds[0]
    st.plotly_chart(histogram_heatmap(stats, layer, kind), key=f"{key}_heatmap", config=CONFIG)
