"""The dynamics figures: pure functions of the logged series."""
import math

import pytest

from experiments.analysis.dynamics_figures import (
    BatchLine,
    add_batch_lines,
    histogram_heatmap,
    layer_series_figure,
    penalty_figure,
)
from experiments.analysis.figures import LiveRun, live_figure
from nn.batch_curve import BatchPoint
from nn.dynamics import Histogram, LayerStats


def stats():
    hist = Histogram(-1.0, 1.0, [0, 1, 3, 0])
    return [LayerStats(e, layer, 2.0 + e, 0.5, 1e-3 * e, 0.1 if layer == 1 else None, None,
                       {"weights": hist, "gradients": Histogram(-1.0, 1.0, [2, 2, 0, 0])})
            for e in (1, 2, 3) for layer in (1, 2)]


def test_ratio_chart_is_logarithmic_with_the_rule_of_thumb_band():
    fig = layer_series_figure(stats(), "update_ratio")
    assert [t.name for t in fig.data] == ["layer 1", "layer 2"]
    assert list(fig.data[0].y) == pytest.approx([1e-3, 2e-3, 3e-3])
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.shapes[0].y0 < 1e-3 < fig.layout.shapes[0].y1  # the shaded band around 1e-3
    dead = layer_series_figure(stats(), "dead_fraction")
    assert [t.name for t in dead.data] == ["layer 1"]  # the output layer has no ReLUs
    with pytest.raises(ValueError):
        layer_series_figure(stats(), "loss")


def test_histogram_heatmap_is_epoch_by_bin_as_shares():
    fig = histogram_heatmap(stats(), 1, "weights")
    z = fig.data[0].z
    assert len(z) == 3 and len(z[0]) == 4 and list(z[0]) == pytest.approx([0, 0.25, 0.75, 0])
    assert list(fig.data[0].x) == pytest.approx([-0.75, -0.25, 0.25, 0.75])
    assert not histogram_heatmap(stats(), 1, "activations").data  # not measured: a note, no heatmap


def test_batch_lines_go_under_the_epoch_curves_and_widen_the_axes():
    epochs = [{"epoch": 1, "train_loss": 1.0, "test_loss": 1.1, "train_acc": 0.7, "test_acc": 0.7},
              {"epoch": 2, "train_loss": 0.8, "test_loss": 0.9, "train_acc": 0.8, "test_acc": 0.8}]
    points = [BatchPoint(1, b, b / 4, 2.0 - b / 4, 0.5 + b / 20, 0.0) for b in (1, 2, 3, 4)]
    fig = live_figure([LiveRun("run 1", epochs, 2)], "loss")
    before = len(fig.data)
    add_batch_lines(fig, [BatchLine("run 1", points)], "loss")
    assert len(fig.data) == before + 1 and fig.data[-1].line.width == 1
    assert list(fig.data[-1].x) == [0.25, 0.5, 0.75, 1.0]
    y_range = fig.layout.yaxis.range  # None: autoscaled, so the points are inside
    assert (y_range is None or y_range[1] >= 1.75) and fig.layout.xaxis.range[0] == 0
    acc = add_batch_lines(live_figure([LiveRun("run 1", epochs, 2)], "acc"), [BatchLine("run 1", points)], "acc")
    assert acc.layout.yaxis.range[1] <= 1.0
    with pytest.raises(ValueError):
        add_batch_lines(fig, [], "seconds")


def test_penalty_figure_shows_both_parts_of_the_objective():
    epochs = [{"epoch": 1, "train_loss": 2.4, "l2_penalty": 118.0},
              {"epoch": 2, "train_loss": 2.3, "l2_penalty": 110.0}]
    fig = penalty_figure(epochs)
    assert [t.name for t in fig.data] == ["cross-entropy", "L2 penalty"]
    assert fig.layout.yaxis.type == "log" and math.isclose(fig.data[1].y[0], 118.0)
