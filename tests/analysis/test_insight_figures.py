"""The Insights figures as pure functions: log axes for lr and L2 (0 labelled), contours of visited cells only."""
from __future__ import annotations

import math

import pytest

from experiments.analysis import insight_figures as figs
from experiments.analysis.axes import AxisKind, axis_for
from experiments.analysis.importance import ImportanceResult, SettingImportance
from experiments.analysis.selection import InsightError, Selection, Source, SourceKind, select
from tests.insight_history import make_history, only_lr


@pytest.fixture
def selection(store) -> Selection:
    make_history(store, only_lr, seeds=1)
    return select(store, Source(SourceKind.TAG, "hist"))


def test_axes_follow_the_schema():
    assert axis_for("lr", [0.1, 0.01]).kind is AxisKind.LOG
    l2 = axis_for("l2", [0.0, 1e-4, 1e-3])
    assert l2.kind is AxisKind.LOG and l2.zero_at == pytest.approx(1e-5) and l2.positions[0] == l2.zero_at
    assert axis_for("batch_size", [32, 64]).kind is AxisKind.LINEAR
    assert axis_for("batch_size", [16, 2048]).kind is AxisKind.LOG  # spans two decades
    assert axis_for("hidden", ["128-64", "64", "256"]).categories == ["64", "128-64", "256"]  # by total units
    assert axis_for("optimizer", ["sgd", "adam"]).kind is AxisKind.CATEGORICAL


def test_slices_put_lr_on_a_log_axis(selection):
    fig = figs.slice_figure(selection)
    axes = {fig.layout[f"xaxis{i or ''}"].title.text: fig.layout[f"xaxis{i or ''}"] for i in ("", 2, 3)}
    assert axes["lr (log)"].type == "log" and axes["hidden"].type == "category"
    assert len(fig.data) == 3 and all(len(t.y) == 12 for t in fig.data)


def test_a_zero_l2_is_labelled_on_its_log_axis():
    import plotly.graph_objects as go
    fig = go.Figure()
    figs._apply_axis(fig, axis_for("l2", [0.0, 1e-4]), "x")
    assert fig.layout.xaxis.type == "log" and list(fig.layout.xaxis.ticktext) == ["0", "0.0001"]


def test_the_contour_averages_visited_cells_and_refuses_a_constant_setting(selection):
    fig = figs.contour_figure(selection, "lr", "batch_size")
    z = fig.data[0].z
    assert len(z) == 2 and len(z[0]) == 3 and not any(math.isnan(v) for row in z for v in row)
    assert fig.layout.xaxis.type == "log"
    with pytest.raises(InsightError, match="optimizer does not vary"):
        figs.contour_figure(selection, "lr", "optimizer")


def test_the_importance_figure_draws_a_floor_only_when_there_is_one():
    ranking = [SettingImportance("lr", 9.0, True), SettingImportance("hidden", 0.1, False)]
    with_floor = figs.importance_figure(ImportanceResult(ranking, {"lr": 0.2, "hidden": 0.2}, 6, 60))
    assert [t.name for t in with_floor.data] == ["importance", "seed-noise floor"]
    assert list(with_floor.data[0].marker.color)[0] != list(with_floor.data[0].marker.color)[1]  # grey within noise
    without = figs.importance_figure(ImportanceResult([SettingImportance("lr", 9.0, None)], None, 0, 60))
    assert len(without.data) == 1


def test_many_learning_rates_get_decade_ticks_that_do_not_overlap():
    """A TPE sweep's 20 learning rates were each a tick label: printed on top of each other."""
    import plotly.graph_objects as go
    lrs = [10 ** (-4 + 3 * i / 19) for i in range(20)]
    fig = go.Figure()
    figs._apply_axis(fig, axis_for("lr", lrs), "x")
    ticks = list(fig.layout.xaxis.tickvals)
    assert ticks == [1e-4, 1e-3, 1e-2, 1e-1] and list(fig.layout.xaxis.ticktext) == ["0.0001", "0.001", "0.01", "0.1"]


def test_a_grids_few_learning_rates_are_each_labelled_and_close_ones_are_not():
    assert figs.log_ticks([0.1, 0.01, 0.001, 0.01]) == [0.001, 0.01, 0.1]
    assert figs.log_ticks([0.001, 0.0012, 0.0015]) == [0.001, 0.002]  # 1-2-5 steps within a decade
    assert figs.log_ticks([1e-5, 1e-6], zero_at=1e-6) == [1e-6, 1e-5]  # the zero (drawn at 1e-6) keeps its tick
    ticks = figs.log_ticks([3e-4 * 1.1 ** i for i in range(30)])
    assert all(b / a >= figs.APART for a, b in zip(ticks, ticks[1:]))
