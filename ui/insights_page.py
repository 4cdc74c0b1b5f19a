"""Insights: which setting mattered (importance beside its seed-noise floor), slices, a contour, and a verdict
table over many configurations. Only layout: the numbers come from ``experiments.analysis.insights``, the
same ones ``python -m experiments insights`` prints.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from experiments import i18n
from experiments.analysis import insight_figures as figs
from experiments.analysis.insights import Insights, compute, replicate_plan
from experiments.analysis.selection import (
    DEFAULT_METRIC,
    Metric,
    Source,
    SourceKind,
    dataset_choices,
)
from experiments.i18n import N_, _
from experiments.sweeps.catalog import stored_sweeps
from ui import common

# the radio's options stay these English texts (the catalog's msgids), shown translated: a switch of language
# keeps the choice
KINDS = {N_("A sweep"): SourceKind.SWEEP, N_("A tag"): SourceKind.TAG,
         N_("A search (as in History)"): SourceKind.SEARCH,
         N_("All finished runs on one dataset and split"): SourceKind.DATASET}


def default_choice() -> str:
    """The metric picker's first option: the default metric, named."""
    return _("default: {metric}").format(metric=DEFAULT_METRIC.label)


def _source() -> Source | None:
    """The run selection widgets; None until the user has chosen something."""
    kind = KINDS[st.radio(_("Runs"), list(KINDS), horizontal=True, key="in_kind", persist_state=common.KEEP,
                          format_func=_)]
    store = common.store()
    if kind is SourceKind.SWEEP:
        labels = {s.sweep_id: s.label() for s in stored_sweeps(store)}
        value = st.selectbox(_("Sweep"), list(labels), key="in_sweep", placeholder=_("no sweeps yet"),
                             index=0 if labels else None, format_func=lambda i: labels.get(i, i))
    elif kind is SourceKind.DATASET:
        options = dataset_choices(store)
        value = st.selectbox(_("Dataset and split"), options, key="in_dataset", index=0 if options else None)
    elif kind is SourceKind.TAG:
        value = st.text_input(_("Tag"), key="in_tag", persist_state=common.KEEP, max_chars=40).strip()
    else:
        value = st.text_input(_("Search"), key="in_search",
                              persist_state=common.KEEP, max_chars=200,
                              placeholder=_("e.g. {example}").format(example="optimizer=adam lr=0.001"),
                              help=_("The History page's search: settings as key=value, other words in names, notes "
                                     "and tags.")).strip()
    return Source(kind, value or "") if value or kind is SourceKind.SEARCH else None


@st.cache_data(ttl=20, show_spinner=False)
def _insights(path: str, kind: str, value: str, metric: str, include_pruned: bool, runs: int,
              language: str) -> Insights:
    """Cached per selection (``runs``, the store's run count, renews it when runs are added) and per language:
    the selection's notes and the verdicts are worded when computed, so a result computed for a session in one
    language must not be shown to a session in another."""
    return compute(common.store(), Source(SourceKind(kind), value), Metric(metric) if metric else None,
                   include_pruned)


def _importance(result: Insights) -> None:
    imp = result.importance
    st.subheader(_("Which setting mattered"))
    st.plotly_chart(figs.importance_figure(imp), key="in_importance")
    if imp.floors is None:
        st.warning(common.message_text(imp.note), icon=":material/info:")
        _offer_replicates(result)
    else:
        above = [r.setting for r in imp.ranking if r.above_floor]
        st.caption(_("{method}. Red ticks: the importance seed noise alone reaches (from {n} configurations run "
                     "with several seeds). Above it: {above}.").format(
            method=imp.method, n=imp.replicated_configs, above=", ".join(above) or _("nothing")))


def _offer_replicates(result: Insights) -> None:
    plan = replicate_plan(result.selection, result.source)
    if not plan.configs:
        return
    more = _(" ({n} more configurations left for later)").format(n=plan.left_out) if plan.left_out else ""
    if st.button(_("Queue {n} seed replicates{more}").format(n=len(plan.configs), more=more), key="in_replicates",
                 icon=":material/add:",
                 help=_("One more seed of each configuration that has a single seed, best first; tagged so that "
                        "they join this selection.")) and common.first_click("replicates", plan.configs):
        for config in plan.configs:
            common.manager().submit(config, source="insights", tags=plan.tags, identity=common.identity())
        st.toast(_("Queued {n} replicates").format(n=len(plan.configs)), icon=":material/play_arrow:")


def _views(result: Insights) -> None:
    sel = result.selection
    st.subheader(_("Slices"))
    st.plotly_chart(figs.slice_figure(sel), key="in_slices")
    pairs = figs.pairs(sel.settings)
    if pairs:
        st.subheader(_("Contour"))
        pair = st.selectbox(_("Pair of settings"), pairs, format_func=lambda p: f"{p[0]} x {p[1]}", key="in_pair")
        st.plotly_chart(figs.contour_figure(sel, *pair), key="in_contour")
    st.subheader(_("Parallel coordinates"))
    st.plotly_chart(figs.insight_parallel(sel), key="in_parallel")


def _verdicts(result: Insights) -> None:
    table = result.table
    st.subheader(_("Verdicts: each configuration against the best"))
    rows = []
    for r in table.rows:
        mean, ci = figs.interval_text(r.mean, r.low, r.high)
        p, p_adjusted = r.p_texts
        rows.append({_("configuration"): ("★ " if r.best else "") + r.label, _("verdict"): r.verdict, "n": r.n,
                     _("mean"): mean, _("95% CI"): ci, _("difference (points)"): r.diff_text, _("p (Welch)"): p,
                     _("p (BH-adjusted)"): p_adjusted})
    # the verdict second and wide: last in a nine-column table it was cut off at 1280 px
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="in_table", column_config={
        _("verdict"): st.column_config.TextColumn(width="large")})
    st.caption(common.message_text(table.note))


def render() -> None:
    st.title(_("Insights"))
    st.caption(_("Which setting mattered, how much of it is seed noise, and which configurations are really "
                 "worse than the best. The same numbers: `python -m experiments insights`."))
    source = _source()
    c1, c2 = st.columns([2, 1])
    # the options are the metrics' codes ("" the default), shown by name: a switch of language keeps the choice
    choices = ["", *(m.value for m in Metric if common.visible([m.value]))]
    metric = str(c1.selectbox(_("Metric"), choices, key="in_metric", persist_state=common.KEEP,
                              format_func=lambda v: Metric(v).label if v else default_choice()) or "")
    include_pruned = c2.checkbox(_("Include pruned trials"), key="in_pruned", persist_state=common.KEEP,
                                 help=_("Trials a TPE sweep's pruner stopped early: their best epoch is an early "
                                        "one."))
    if source is None:
        st.info(_("Choose the runs to look at."), icon=":material/info:")
        return
    with st.spinner(_("Computing importance and its noise floor...")):
        result = _insights(common.store_path(), source.kind.value, source.value, metric, include_pruned,
                           common.store().count_runs(), i18n.language())
    sel = result.selection
    st.markdown(_("**{n} runs** of {source}; metric: **{metric}**; settings that vary: {settings}").format(
        n=len(sel.runs), source=common.md_escape(source.describe()), metric=sel.metric.label,
        settings=common.md_escape(", ".join(sel.settings))))
    for note in sel.notes:
        st.warning(common.message_text(note), icon=":material/warning:")
    _importance(result)
    _views(result)
    _verdicts(result)


common.run_page(render)
