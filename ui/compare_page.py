"""Compare: pick runs in a sortable table and overlay their curves; seed groups as mean and band with a verdict."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from experiments.analysis import seeds, stats
from experiments.analysis.figures import (
    METRIC_NAMES,
    X_AXES,
    Curve,
    colors_for_values,
    compare_figure,
    final_metrics_table,
    parallel_coordinates,
    run_curve,
)
from experiments.config import differing_fields, short_label
from ui import common
from ui.tables import column_config, pick_runs

PARCOORDS_MIN_RUNS = 4


def render() -> None:
    st.title("Compare")
    store = common.store()
    runs = store.search_runs()
    if not runs:
        st.info("No runs stored yet: train some on the **Train** page (or with `python -m experiments run`), "
                "then pick them here.", icon=":material/info:")
        return
    st.caption("Tick runs in the table to compare them (click a column header to sort).")
    picked_ids = pick_runs(runs, key="compare_table")
    if not picked_ids:
        st.info("Pick at least one run in the table.", icon=":material/touch_app:")
        return
    unreadable = [r for r in runs if r.id in picked_ids and r.config is None]
    if unreadable:
        st.caption(f"Left out (settings unreadable): {', '.join(f'run {r.id}' for r in unreadable)}.")
    picked = [r for r in runs if r.id in picked_ids and r.config is not None]
    if not picked:
        return
    compare_runs(picked)


def compare_runs(picked) -> None:
    """Controls, overlaid curves, the seed verdict, the final-metrics table and parallel coordinates."""
    store = common.store()
    configs = [r.config for r in picked]
    differ = differing_fields(configs)
    c1, c2, c3, c4, c5 = st.columns([2, 1.3, 1.3, 2, 1.6])
    metric = c1.selectbox("Metric", list(METRIC_NAMES), format_func=METRIC_NAMES.get, key="cmp_metric")
    x_axis = c2.radio("X axis", list(X_AXES), format_func=X_AXES.get, key="cmp_x", horizontal=True)
    smoothing = c3.slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="cmp_smooth",
                          help="Exponential moving average of the points (0 = raw).")
    color_by = c4.selectbox("Colour by", ["run"] + differ, key="cmp_color",
                            help="Distinct colours per run, or a colour scale over one setting.")
    group_seeds = c5.toggle("Average seeds", value=True, key="cmp_seeds",
                            help="Runs that differ only in their seed are drawn as their mean with a band.")
    epochs = {r.id: store.get_epochs(r.id) for r in picked}
    groups = seeds.group_by_config(picked) if group_seeds else [[r] for r in picked]
    names = differ if differ else []
    curves = []
    color_values = [getattr(g[0].config, color_by) if color_by != "run" else i for i, g in enumerate(groups)]
    colors = colors_for_values([_hashable(v) for v in color_values]) if color_by != "run" else [None] * len(groups)
    for group, color in zip(groups, colors):
        head = group[0]
        label = short_label(head.config, names) if names else f"run {head.id}"
        if len(group) == 1:
            if len(groups) > 1 and sum(1 for g in groups if short_label(g[0].config, names) == label) > 1:
                label = f"{label} (run {head.id}, seed {head.config.seed})"
            hover = f"run {head.id}: {head.name}\n{_settings_text(head.config, differ)}"
            curves.append(run_curve(label, epochs[head.id], metric, x_axis, hover, color))
        else:
            band = seeds.band([epochs[r.id] for r in group], metric, x_axis)
            hover = f"runs {', '.join(str(r.id) for r in group)}\n{_settings_text(head.config, differ)}"
            curves.append(Curve(label, band.x, band.mean, hover, color, band.low, band.high, members=len(group)))
    st.plotly_chart(compare_figure(curves, metric, x_axis, smoothing, uirevision=f"cmp-{metric}-{x_axis}"),
                    key="compare_chart", config={"displaylogo": False})
    lines = seeds.verdicts(groups, names)
    for line in lines:
        st.markdown(f"**Verdict** (final test accuracy, best against the others): {common.md_escape(line)}")
    if not lines and any(len(g) > 1 for g in groups) and len(groups) > 1:
        st.caption("A verdict needs at least two configurations with two or more seeds each.")
    elif lines:
        st.caption(stats.TEST_NAME + ". " + stats.SMALL_N_NOTE)
    _final_table(picked, differ)
    if len(picked) >= PARCOORDS_MIN_RUNS:
        fields = differ or ["hidden", "lr"]
        rows = [{**{f: _axis_value(getattr(r.config, f)) for f in fields}, "test_acc": r.test_acc} for r in picked]
        st.subheader("Settings against test accuracy")
        st.plotly_chart(parallel_coordinates(rows, fields), key="compare_parcoords")


def _final_table(picked, differ: list[str]) -> None:
    st.subheader("Final metrics")
    show_all = st.toggle("Show every setting", value=False, key="cmp_all_settings",
                         help="By default only the settings that differ between the picked runs are shown.")
    flat = [r.flat() for r in picked]
    all_settings = [k for k in picked[0].config.to_dict()] if show_all else None
    table = final_metrics_table(flat, differ, all_settings)
    st.dataframe(pd.DataFrame(table.rows), hide_index=True, column_config=column_config(), key="cmp_final")


def _settings_text(config, names: list[str]) -> str:
    return short_label(config, names or ["hidden", "activation", "optimizer", "lr"])


def _axis_value(value):
    return "-".join(map(str, value)) if isinstance(value, tuple) else value


def _hashable(value):
    return "-".join(map(str, value)) if isinstance(value, tuple) else value


common.run_page(render)
