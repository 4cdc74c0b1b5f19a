"""Insights: which setting mattered (importance beside its seed-noise floor), slices, a contour, and a verdict
table over many configurations. Only layout: the numbers come from ``experiments.analysis.insights``, the
same ones ``python -m experiments insights`` prints.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from experiments.analysis import insight_figures as figs
from experiments.analysis.insights import Insights, compute, replicate_plan
from experiments.analysis.selection import (
    DEFAULT_METRIC,
    Metric,
    Source,
    SourceKind,
    dataset_choices,
)
from experiments.sweeps.catalog import stored_sweeps
from ui import common

KINDS = {"A sweep": SourceKind.SWEEP, "A tag": SourceKind.TAG, "A search (as in History)": SourceKind.SEARCH,
         "All finished runs on one dataset and split": SourceKind.DATASET}
DEFAULT_CHOICE = f"default: {DEFAULT_METRIC.label}"


def _source() -> Source | None:
    """The run selection widgets; None until the user has chosen something."""
    kind = KINDS[st.radio("Runs", list(KINDS), horizontal=True, key="in_kind", persist_state=common.KEEP)]
    store = common.store()
    if kind is SourceKind.SWEEP:
        labels = {s.sweep_id: s.label() for s in stored_sweeps(store)}
        value = st.selectbox("Sweep", list(labels), key="in_sweep", placeholder="no sweeps yet",
                             index=0 if labels else None, format_func=lambda i: labels.get(i, i))
    elif kind is SourceKind.DATASET:
        options = dataset_choices(store)
        value = st.selectbox("Dataset and split", options, key="in_dataset", index=0 if options else None)
    elif kind is SourceKind.TAG:
        value = st.text_input("Tag", key="in_tag", persist_state=common.KEEP, max_chars=40).strip()
    else:
        value = st.text_input("Search", key="in_search",
                              persist_state=common.KEEP, max_chars=200, placeholder="e.g. optimizer=adam lr=0.001",
                              help="The History page's search: settings as key=value, other words in names, notes "
                                   "and tags.").strip()
    return Source(kind, value or "") if value or kind is SourceKind.SEARCH else None


@st.cache_data(ttl=20, show_spinner="Computing importance and its noise floor...")
def _insights(path: str, kind: str, value: str, metric: str, include_pruned: bool, runs: int) -> Insights:
    """Cached per selection (``runs``, the store's run count, renews it when runs are added)."""
    return compute(common.store(), Source(SourceKind(kind), value), Metric(metric) if metric else None,
                   include_pruned)


def _importance(result: Insights) -> None:
    imp = result.importance
    st.subheader("Which setting mattered")
    st.plotly_chart(figs.importance_figure(imp), key="in_importance")
    if imp.floors is None:
        st.warning(common.message_text(imp.note), icon=":material/info:")
        _offer_replicates(result)
    else:
        above = [r.setting for r in imp.ranking if r.above_floor]
        st.caption(f"{imp.method}. Red ticks: the importance seed noise alone reaches (from "
                   f"{imp.replicated_configs} configurations run with several seeds). Above it: "
                   f"{', '.join(above) or 'nothing'}.")


def _offer_replicates(result: Insights) -> None:
    plan = replicate_plan(result.selection, result.source)
    if not plan.configs:
        return
    more = f" ({plan.left_out} more configurations left for later)" if plan.left_out else ""
    if st.button(f"Queue {len(plan.configs)} seed replicates{more}", key="in_replicates", icon=":material/add:",
                 help="One more seed of each configuration that has a single seed, best first; tagged so that "
                      "they join this selection.") and common.first_click("replicates", plan.configs):
        for config in plan.configs:
            common.manager().submit(config, source="insights", tags=plan.tags, identity=common.identity())
        st.toast(f"Queued {len(plan.configs)} replicates", icon=":material/play_arrow:")


def _views(result: Insights) -> None:
    sel = result.selection
    st.subheader("Slices")
    st.plotly_chart(figs.slice_figure(sel), key="in_slices")
    pairs = figs.pairs(sel.settings)
    if pairs:
        st.subheader("Contour")
        pair = st.selectbox("Pair of settings", pairs, format_func=lambda p: f"{p[0]} x {p[1]}", key="in_pair")
        st.plotly_chart(figs.contour_figure(sel, *pair), key="in_contour")
    st.subheader("Parallel coordinates")
    st.plotly_chart(figs.insight_parallel(sel), key="in_parallel")


def _verdicts(result: Insights) -> None:
    table = result.table
    st.subheader("Verdicts: each configuration against the best")
    rows = []
    for r in table.rows:
        mean, ci = figs.interval_text(r.mean, r.low, r.high)
        p, p_adjusted = r.p_texts
        rows.append({"configuration": ("★ " if r.best else "") + r.label, "verdict": r.verdict, "n": r.n,
                     "mean": mean, "95% CI": ci, "difference (points)": r.diff_text, "p (Welch)": p,
                     "p (BH-adjusted)": p_adjusted})
    # the verdict second and wide: last in a nine-column table it was cut off at 1280 px
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="in_table", column_config={
        "verdict": st.column_config.TextColumn(width="large")})
    st.caption(common.message_text(table.note))


def render() -> None:
    st.title("Insights")
    st.caption("Which setting mattered, how much of it is seed noise, and which configurations are really "
               "worse than the best. The same numbers: `python -m experiments insights`.")
    source = _source()
    c1, c2 = st.columns([2, 1])
    choices = [DEFAULT_CHOICE, *(m.label for m in Metric if common.visible([m.value]))]
    metric_label = c1.selectbox("Metric", choices, key="in_metric", persist_state=common.KEEP)
    include_pruned = c2.checkbox("Include pruned trials", key="in_pruned", persist_state=common.KEEP,
                                 help="Trials a TPE sweep's pruner stopped early: their best epoch is an early one.")
    if source is None:
        st.info("Choose the runs to look at.", icon=":material/info:")
        return
    metric = next((m.value for m in Metric if m.label == metric_label), "")
    result = _insights(common.store_path(), source.kind.value, source.value, metric, include_pruned,
                       common.store().count_runs())
    sel = result.selection
    st.markdown(f"**{len(sel.runs)} runs** of {common.md_escape(source.describe())}; metric: "
                f"**{sel.metric.label}**; settings that vary: {common.md_escape(', '.join(sel.settings))}")
    for note in sel.notes:
        st.warning(common.message_text(note), icon=":material/warning:")
    _importance(result)
    _views(result)
    _verdicts(result)


common.run_page(render)
