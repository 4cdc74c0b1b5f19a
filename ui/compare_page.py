"""Compare: pick runs in a sortable table and overlay their curves; seed groups as mean and band with a verdict."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from experiments.analysis import comparison, ranking, seeds
from experiments.analysis.dynamics_figures import BatchLine, add_batch_lines
from experiments.analysis.figures import (
    METRIC_NAMES,
    X_AXES,
    Curve,
    compare_figure,
    mark_best,
    parallel_coordinates,
    scored_rows,
)
from experiments.analysis.ranking import SummaryBy
from experiments.analysis.runs_table import shown_frame
from experiments.config import differing_fields
from experiments.i18n import _
from experiments.runs.completion import status_word
from experiments.store import RunRecord
from experiments.store.dynamics import get_batch_points
from ui import common, student
from ui.fix import fix_group_view
from ui.tables import MISSING, column_config, pick_runs, summary_by_control

PARCOORDS_MIN_RUNS = 4


def render() -> None:
    st.title(_("Compare"))
    if fix_group_view(compare_runs):
        return
    store = common.store()
    runs = store.search_runs(student=student.scope_filter("compare_scope"))
    if not runs:
        st.info(_("No runs stored yet: train some on the **Train** page (or with `python -m experiments run`), "
                  "then pick them here."), icon=":material/info:")
        return
    st.caption(_("Tick runs in the table to compare them (click a column header to sort)."))
    by = summary_by_control("cmp_by")
    picked_ids = pick_runs(runs, key="compare_table", by=by)
    if not picked_ids:
        st.info(_("Pick at least one run in the table."), icon=":material/touch_app:")
        return
    unreadable = [r for r in runs if r.id in picked_ids and r.config is None]
    if unreadable:
        st.caption(_("Left out (settings unreadable): {runs}.").format(
            runs=", ".join(_("run {id}").format(id=r.id) for r in unreadable)))
    picked = [r for r in runs if r.id in picked_ids and r.config is not None]
    if not picked:
        return
    compare_runs(picked, by)


@dataclass(frozen=True)
class Controls:
    """What the user chose above the chart."""

    metric: str
    x_axis: str
    smoothing: float
    color_by: str
    group_seeds: bool
    within_epochs: bool = False


def _controls(differ: list[str]) -> Controls:
    c1, c2, c3, c4, c5, c6 = st.columns([1.8, 1.2, 1.2, 1.7, 1.8, 1.8])
    metrics: list[str] = common.visible(list(METRIC_NAMES))
    axes: list[str] = list(X_AXES)
    metric = c1.selectbox(_("Metric"), metrics, format_func=lambda m: _(METRIC_NAMES[m]), key="cmp_metric",
                          persist_state=common.KEEP) or metrics[0]
    x_axis = c2.radio(_("X axis"), axes, format_func=lambda a: _(X_AXES[a]), key="cmp_x",
                      persist_state=common.KEEP, horizontal=True) or axes[0]
    smoothing = c3.slider(_("Smoothing"), 0.0, 0.95, 0.0, 0.05, key="cmp_smooth", persist_state=common.KEEP,
                          help=_("Exponential moving average of the points (0 = raw)."))
    color_by = c4.selectbox(_("Colour by"), ["run"] + differ, key="cmp_color",
                            format_func=lambda name: _("run") if name == "run" else name,
                            help=_("Distinct colours per run, or a colour scale over one setting.")) or "run"
    group_seeds = c5.toggle(_("Average seeds"), value=True, key="cmp_seeds", persist_state=common.KEEP,
                            help=_("Runs that differ only in their seed are drawn as their mean with a band."))
    within = c6.toggle(_("Within epochs"), value=False, key="cmp_batches", persist_state=common.KEEP,
                       help=_("The training loss or accuracy every few batches, as thin lines (x = epoch as a "
                              "fraction; train metrics on the epoch axis, single runs)."))
    return Controls(metric, x_axis, smoothing, color_by, group_seeds, within)


def compare_runs(picked: list[RunRecord], by: SummaryBy = SummaryBy.BEST) -> None:
    """Controls, overlaid curves (each run's best epoch starred), the seed verdicts (on validation), the
    metrics table at the best or last epoch and parallel coordinates.

    Runs without a finished epoch are named above the chart, not drawn (nor counted in a seed group's mean).
    """
    store = common.store()
    differ = differing_fields([comparison.config_of(r) for r in picked])
    controls = _controls(differ)
    epochs = {r.id: store.get_epochs(r.id) for r in picked}
    empty = [r for r in picked if not epochs[r.id]]
    drawn = [r for r in picked if epochs[r.id]]
    if not drawn:
        st.info(_("Nothing to draw: none of the picked runs has a finished epoch ({runs}). Their curves appear "
                  "here once an epoch has ended.").format(runs=_runs_text(empty)), icon=":material/info:")
    else:
        if empty:
            st.caption(_("Not drawn, no finished epoch: {runs}.").format(runs=_runs_text(empty)))
        groups: Sequence[Sequence[RunRecord]] = (seeds.group_by_config(drawn) if controls.group_seeds
                                                 else [[r] for r in drawn])
        _chart(groups, epochs, differ, controls)
        _verdicts(groups, differ)
    _final_table(picked, differ, by)
    _settings_against_accuracy(picked, differ, by)


def _chart(groups: Sequence[Sequence[RunRecord]], epochs: dict[int, list], differ: list[str],
           controls: Controls) -> None:
    """The overlaid curves, each single run's best epoch starred, within-epoch lines when asked; runs
    without the metric are named."""
    if controls.metric.startswith("val_") and (apart := [g[0] for g in groups if not g[0].has_validation]):
        st.caption(_("No validation set, so no {metric} to draw: {runs}.").format(
            metric=_(METRIC_NAMES[controls.metric]).lower(), runs=_runs_text(apart)))
    curves = comparison.seed_curves(groups, epochs, differ, controls.metric, controls.x_axis, controls.color_by)
    figure = compare_figure(curves, controls.metric, controls.x_axis, controls.smoothing,
                            uirevision=f"cmp-{controls.metric}-{controls.x_axis}")
    _within_epochs(figure, groups, curves, controls)
    marks = comparison.best_marks(groups, curves, epochs, controls.metric, controls.x_axis)
    st.plotly_chart(mark_best(figure, marks), key="compare_chart", config={"displaylogo": False})


def _within_epochs(figure, groups: Sequence[Sequence[RunRecord]], curves: list[Curve], controls: Controls) -> None:
    """Thin lines of the single runs' within-epoch points under their curves, when asked and meaningful."""
    kind = {"train_loss": "loss", "train_acc": "acc"}.get(controls.metric)
    if not controls.within_epochs or kind is None or controls.x_axis != "epoch":
        if controls.within_epochs:
            st.caption(_("Within-epoch points exist for the train loss and accuracy on the epoch axis."))
        return
    colors = [trace.line.color for trace in figure.data if trace.mode and "lines" in trace.mode][:len(curves)]
    lines = [BatchLine(curve.label, get_batch_points(common.store(), group[0].id), color)
             for group, curve, color in zip(groups, curves, colors) if len(group) == 1]
    add_batch_lines(figure, lines, kind)


def _settings_against_accuracy(picked: list[RunRecord], differ: list[str], by: SummaryBy) -> None:
    """Parallel coordinates of the runs that have a validation accuracy (others are named, not drawn at 0)."""
    fields = differ or ["hidden", "lr"]
    metric = ranking.RANK_METRIC
    rows = [{**{f: _axis_value(getattr(r.config, f)) for f in fields}, metric: ranking.value(r, metric, by),
             "id": r.id} for r in picked]
    scored = scored_rows(rows, metric)
    if len(scored) < PARCOORDS_MIN_RUNS:
        return
    st.subheader(_("Settings against val. accuracy at the {epoch}").format(epoch=ranking.by_name(by)))
    left_out = [r for r in picked if r.id not in {row["id"] for row in scored}]
    if left_out:
        st.caption(_("Not drawn, no validation accuracy: {runs}.").format(runs=_runs_text(left_out)))
    st.plotly_chart(parallel_coordinates(scored, fields, metric), key="compare_parcoords")


def _verdicts(groups: Sequence[Sequence[RunRecord]], names: list[str]) -> None:
    """The seed verdicts (``comparison.seed_verdicts``: validation accuracy at each seed's last epoch) and how
    they were reached."""
    verdicts = comparison.seed_verdicts(groups, names)
    for line in verdicts.lines:
        st.markdown(_("**Verdict** ({subject}, best against the others): {verdict}").format(
            subject=line.subject, verdict=common.md_escape(line.text)))
    if verdicts.caption:
        st.caption(verdicts.caption)


def _runs_text(runs: list[RunRecord]) -> str:
    return ", ".join(_("run {id} {status}").format(id=r.id, status=status_word(r.status)) for r in runs)


def _final_table(picked: list[RunRecord], differ: list[str], by: SummaryBy) -> None:
    st.subheader(_("Metrics at the {epoch}").format(epoch=ranking.by_name(by)))
    st.caption(f"{ranking.summary_text(by)} {ranking.WHY_NOT_TEST}")
    show_all = st.toggle(_("Show every setting"), value=False, key="cmp_all_settings", persist_state=common.KEEP,
                         help=_("By default only the settings that differ between the picked runs are shown."))
    all_settings = list(comparison.config_of(picked[0]).to_dict()) if show_all else None
    table = ranking.metrics_table(picked, differ, all_settings, by)
    st.dataframe(shown_frame(common.visible_columns(pd.DataFrame(table.rows))), hide_index=True,
                 column_config=column_config(), key="cmp_final", placeholder=MISSING)


def _axis_value(value):
    return "-".join(map(str, value)) if isinstance(value, tuple) else value


common.run_page(render)
