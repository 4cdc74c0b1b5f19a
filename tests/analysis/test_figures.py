"""Figure builders: data in, Plotly figure out, checked without a browser."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from experiments.analysis import figures as F


def epochs(n: int, start_acc: float = 0.8, step: float = 0.02, seconds: float = 1.5) -> list[dict]:
    return [{"epoch": i, "train_loss": 1.0 / i, "test_loss": 1.1 / i, "train_acc": start_acc + step * i,
             "test_acc": start_acc + step * i - 0.01, "elapsed": seconds * i} for i in range(1, n + 1)]


def test_live_figure_has_train_and_test_per_run_and_keeps_zoom():
    runs = [F.LiveRun("lr=0.1", epochs(3), planned_epochs=10), F.LiveRun("lr=0.01", epochs(2), planned_epochs=10)]
    fig = F.live_figure(runs, "acc", uirevision="live-acc")
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 4
    assert [len(t.x) for t in fig.data] == [3, 3, 2, 2]
    assert fig.layout.uirevision == "live-acc"
    assert tuple(fig.layout.xaxis.range) == (0.5, 10.5)  # the whole run is laid out from the start
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert fig.data[1].line.dash == "dash"


def test_live_figure_loss_marks_chance_level_and_drops_nan():
    logs = epochs(3)
    logs[2]["train_loss"] = float("nan")
    fig = F.live_figure([F.LiveRun("run 1", logs)], "loss")
    assert list(fig.data[0].y)[2] is None
    assert any(math.isclose(s.y0, math.log(10)) for s in fig.layout.shapes)
    with pytest.raises(ValueError):
        F.live_figure([], "speed")


def test_live_figure_escapes_user_text():
    fig = F.live_figure([F.LiveRun('<a href="javascript:x">evil</a>', epochs(1)),
                         F.LiveRun("ok", epochs(1))], "loss")
    assert "<a" not in fig.data[0].name and "&lt;a" in fig.data[0].name


def test_smooth_is_identity_at_zero_and_debiased():
    assert F.smooth([1.0, None, 3.0], 0.0) == [1.0, None, 3.0]
    out = F.smooth([2.0, 2.0, 2.0], 0.9)
    assert out == pytest.approx([2.0, 2.0, 2.0])  # debiasing: a constant stays constant
    assert F.smooth([0.0, 10.0], 0.5)[1] == pytest.approx(10 * 0.5 / 0.75)
    assert F.smooth([float("inf"), 1.0], 0.5) == [None, 1.0]


def test_compare_figure_one_trace_per_run_with_hover_and_seconds_axis():
    curves = [F.run_curve("lr=0.1", epochs(4), "test_acc", "elapsed", hover="run 1: fast\nlr=0.1"),
              F.run_curve("lr=0.01", epochs(4, seconds=3.0), "test_acc", "elapsed", hover="run 2")]
    fig = F.compare_figure(curves, "test_acc", "elapsed", smoothing=0.0)
    assert len(fig.data) == 2
    assert list(fig.data[1].x) == [3.0, 6.0, 9.0, 12.0]
    assert "run 1: fast<br>lr=0.1" in fig.data[0].hovertemplate
    assert fig.data[0].line.color != fig.data[1].line.color
    assert fig.layout.xaxis.title.text == "seconds"


def test_compare_figure_draws_seed_group_as_band_and_mean():
    mean = F.Curve("lr=0.1", [1, 2], [0.9, 0.95], low=[0.88, 0.94], high=[0.92, 0.96], members=3)
    fig = F.compare_figure([mean], "test_acc")
    assert len(fig.data) == 2
    band, line = fig.data
    assert band.fill == "toself" and len(band.x) == 4
    assert "mean of 3 seeds" in line.name


def test_compare_hover_rounds_as_the_verdicts_text_does():
    """Issue 23's class "text and chart round differently": Plotly's %{y:.2%} showed 68.38% for the mean of
    68.38% and 68.39% (68.38499999999999 in floats) where the seed verdict's text says 68.39%."""
    from experiments.analysis.stats import spread
    values = [0.6838, 0.6839]
    mean = spread(values).mean
    fig = F.compare_figure([F.Curve("lr=0.1", [1], [mean], members=2)], "test_acc")
    [line] = fig.data
    assert list(line.customdata) == ["68.39%"] and "%{customdata}" in line.hovertemplate
    assert spread(values).text().startswith("68.39")


def test_compare_figure_rejects_unknown_metric():
    with pytest.raises(ValueError):
        F.compare_figure([], "f1")
    with pytest.raises(ValueError):
        F.run_curve("x", epochs(1), "test_acc", "minutes")


def test_colors_distinct_and_by_value():
    assert len(set(F.distinct_colors(12))) == 12
    by_lr = F.colors_for_values([0.1, 0.001, 0.1])
    assert by_lr[0] == by_lr[2] != by_lr[1]
    assert len(set(F.colors_for_values(["adam", "sgd", "rmsprop"]))) == 3


def test_parallel_coordinates_has_one_axis_per_setting_plus_accuracy():
    rows = [{"optimizer": "adam", "lr": 0.001, "test_acc": 0.97}, {"optimizer": "sgd", "lr": 0.1, "test_acc": 0.95},
            {"optimizer": "sgd", "lr": 1.0, "test_acc": 0.1}]
    fig = F.parallel_coordinates(rows, ["optimizer", "lr"])
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["optimizer", "log10 lr", "test accuracy"]
    assert list(dims[0].ticktext) == ["adam", "sgd"]
    assert list(dims[2].values) == [0.97, 0.95, 0.1]


def test_confusion_and_per_class_figures():
    cm = np.eye(10, dtype=int) * 5
    cm[3, 5] = 2
    fig = F.confusion_figure(cm)
    assert np.array(fig.data[0].z).shape == (10, 10)
    assert fig.layout.yaxis.autorange == "reversed"
    bars = F.per_class_figure([1.0] * 9 + [float("nan")])
    assert list(bars.data[0].y)[-1] is None and len(bars.data[0].x) == 10


def test_image_grids():
    images = np.random.default_rng(0).random((12, 784))
    fig = F.misclassified_figure(images, [1] * 12, [7] * 12, columns=5)
    assert len(fig.layout.annotations) == 12 and fig.layout.annotations[0].text == "1 → 7"
    assert np.array(fig.data[0].z).shape[1] == 5 * 30
    weights = F.weights_figure(np.random.default_rng(0).normal(size=(784, 4)))
    assert weights.data[0].zmin == -weights.data[0].zmax  # centred: sign is the colour
    empty = F.misclassified_figure(np.zeros((0, 784)), [], [])
    assert len(empty.data) == 0


def test_live_figure_box_zoom_is_part_of_the_figure():
    fig = F.live_figure([F.LiveRun("run 1", epochs(3), 10)], "acc", zoom={"x": (1.5, 3.2), "y": (0.85, 0.9)})
    assert tuple(fig.layout.xaxis.range) == (1.5, 3.2) and fig.layout.xaxis.autorange is False
    assert tuple(fig.layout.yaxis.range) == (0.85, 0.9)
    assert fig.layout.dragmode == "select"  # a dragged box is what the page turns into the zoom


def test_weights_of_a_diverged_network_still_draw():
    weights = np.full((784, 2), np.nan)
    fig = F.weights_figure(weights)
    assert fig.data[0].zmax == 1.0


def _y_range(fig) -> tuple[float, float]:
    return tuple(fig.layout.yaxis.range)


def test_live_accuracy_axis_before_the_first_epoch_is_zero_to_one():
    """Plotly's empty axis runs -1 to 4: an accuracy axis from -100% to 400% while the first epoch trains."""
    fig = F.live_figure([F.LiveRun("run 1", [], planned_epochs=5)], "acc")
    assert _y_range(fig) == (0.0, 1.0) and fig.layout.yaxis.autorange is False
    loss = F.live_figure([F.LiveRun("run 1", [], planned_epochs=5)], "loss")
    low, high = _y_range(loss)
    assert low == 0.0 and high > math.log(10)  # the chance line is in view
    one = F.live_figure([F.LiveRun("run 1", epochs(1), planned_epochs=5)], "acc")
    low, high = _y_range(one)
    assert 0.0 <= low < 0.81 and 0.82 < high <= 1.0  # one point (train, test): a range around it, in 0..100%


def test_live_legend_is_above_the_plot_with_one_entry_per_run():
    """Three runs: the legend (formerly six entries below the plot) covered the x-axis title."""
    runs = [F.LiveRun(f"lr={lr}", epochs(3), 10) for lr in (0.1, 0.01, 0.001)]
    fig = F.live_figure(runs, "acc")
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.yanchor == "bottom" and legend.y >= 1.0
    assert [t.name for t in fig.data if t.showlegend is not False] == ["lr=0.1", "lr=0.01", "lr=0.001"]
    assert "test (dashed)" in legend.title.text
    assert not fig.layout.title.text  # nothing else competes with the legend above the plot


def test_compare_figure_without_points_draws_nothing_and_says_why():
    fig = F.compare_figure([F.run_curve("run 1", [], "test_acc"), F.run_curve("run 2", [], "test_acc")], "test_acc")
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert "no finished epoch" in fig.layout.annotations[0].text
    one = F.compare_figure([F.run_curve("run 1", epochs(1), "test_acc")], "test_acc")
    low, high = _y_range(one)
    assert 0.0 <= low < 0.81 < high <= 1.0


def test_parallel_coordinates_leave_out_runs_without_accuracy():
    """A run with no test accuracy (no epoch, diverged) was drawn at 0%, as if it were a result."""
    rows: list[dict] = [{"lr": 0.1, "test_acc": 0.9}, {"lr": 0.01, "test_acc": None},
                        {"lr": 0.001, "test_acc": float("nan")}, {"lr": 1.0, "test_acc": 0.5}]
    fig = F.parallel_coordinates(rows, ["lr"])
    assert list(fig.data[0].dimensions[-1]["values"]) == [0.9, 0.5]
    assert list(fig.data[0].dimensions[0]["values"]) == [0.1, 1.0]
    assert F.scored_rows(rows) == [rows[0], rows[3]]


def _with_validation(n: int) -> list[dict]:
    return [{**e, "val_acc": e["test_acc"] + 0.005, "val_loss": e["test_loss"]} for e in epochs(n)]


def test_each_split_has_its_own_colour_not_just_its_own_dash():
    fig = F.live_figure([F.LiveRun("run 1", _with_validation(3))], "acc")
    colors = {t.name: t.line.color for t in fig.data}
    assert set(colors) == {"train", "validation", "test"}
    assert len(set(colors.values())) == 3


def test_with_several_runs_the_markers_carry_the_split_colours_and_the_lines_the_run():
    fig = F.live_figure([F.LiveRun("a", _with_validation(2)), F.LiveRun("b", _with_validation(2))], "loss")
    traces = [t for t in fig.data if t.x]
    by_split = [(t.marker.color, t.marker.symbol) for t in traces[:3]]
    assert len(set(by_split)) == 3  # train, validation, test told apart without the dash
    assert by_split == [(t.marker.color, t.marker.symbol) for t in traces[3:]]  # the same on every run
    assert traces[0].line.color == traces[2].line.color != traces[3].line.color
