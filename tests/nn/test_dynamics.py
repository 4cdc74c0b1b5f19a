"""Within-epoch points and per-layer dynamics, measured by nn callbacks during fit."""
import math

import numpy as np
import pytest

from nn import MLP, FitOptions, fit
from nn.batch_curve import BatchCurve
from nn.dynamics import LayerMonitor
from nn.optim import SGD, Adam


@pytest.mark.parametrize("batch_size", [8, 32, 200])
def test_about_25_points_per_epoch_at_any_batch_size(blobs, batch_size):
    sent: list = []
    curve = BatchCurve(sent.extend)
    fit(MLP([20, 16, 10], seed=0), Adam(0.01), blobs, FitOptions(epochs=2, batch_size=batch_size), [curve])
    per_epoch = math.ceil(len(blobs.y_train) / batch_size)
    expected = min(per_epoch, 25)
    assert abs(sum(p.epoch == 1 for p in curve.points) - expected) <= 2
    assert sent == curve.points  # everything reached the sink
    assert [p.x for p in curve.points] == sorted(p.x for p in curve.points)
    assert curve.points[-1].x == pytest.approx(2.0)  # the epoch's last batch closes it


def test_points_average_the_batches_and_the_loss_is_cross_entropy_only(blobs):
    curve = BatchCurve(every=1)
    result = fit(MLP([20, 16, 10], seed=0), SGD(0.1), blobs, FitOptions(epochs=1, batch_size=60, l2=0.5), [curve])
    assert np.mean([p.loss for p in curve.points]) == pytest.approx(result.history[0]["train_loss"], rel=1e-6)
    assert result.history[0]["train_loss"] < 3  # the cross-entropy; the penalty of l2 0.5 is logged apart
    assert result.history[0]["l2_penalty"] > 0 and all(p.l2_penalty > 0 for p in curve.points)
    assert result.history[0]["l2_penalty"] == pytest.approx(curve.points[-1].l2_penalty)


def test_layer_monitor_measures_every_layer(blobs):
    seen: dict = {}
    monitor = LayerMonitor(lambda epoch, stats: seen.__setitem__(epoch, stats), sample_size=100)
    fit(MLP([20, 16, 12, 10], seed=0), Adam(0.01), blobs, FitOptions(epochs=3, batch_size=32), [monitor])
    assert sorted(seen) == [1, 2, 3]
    for stats in seen.values():
        assert [s.layer for s in stats] == [1, 2, 3]
        assert all(s.weight_norm > 0 and s.grad_norm and 0 < s.update_ratio < 1 for s in stats)
        assert stats[0].dead_fraction is not None and stats[-1].dead_fraction is None  # output layer: no ReLUs
        assert set(stats[0].histograms) == {"weights", "gradients", "activations"}
        assert sum(stats[0].histograms["weights"].counts) == 20 * 16
    lo, hi = seen[1][0].histograms["weights"].lo, seen[1][0].histograms["weights"].hi
    assert (seen[3][0].histograms["weights"].lo, seen[3][0].histograms["weights"].hi) == (lo, hi)  # fixed bins


def test_update_ratio_follows_the_learning_rate(blobs):
    def ratio(lr):
        monitor = LayerMonitor()
        fit(MLP([20, 16, 10], seed=0), SGD(lr), blobs, FitOptions(epochs=1, batch_size=32), [monitor])
        return monitor.history[0][0].update_ratio

    assert ratio(0.1) == pytest.approx(10 * ratio(0.01), rel=0.3)


def test_saturation_and_dead_units_are_detected(blobs):
    monitor = LayerMonitor()
    model = MLP([20, 16, 10], activation="sigmoid", seed=0)
    model.weights[0][...] *= 100  # huge pre-activations: every sigmoid at 0 or 1
    fit(model, SGD(1e-6), blobs, FitOptions(epochs=1, batch_size=32), [monitor])
    assert (monitor.history[0][0].saturated_fraction or 0.0) > 0.8
    relu = MLP([20, 16, 10], seed=0)
    relu.biases[0][:8], relu.biases[0][8:] = -1e3, 1e3  # half the units can never fire, half always do
    monitor = LayerMonitor()
    fit(relu, SGD(1e-6), blobs, FitOptions(epochs=1, batch_size=32), [monitor])
    assert monitor.history[0][0].dead_fraction == pytest.approx(0.5)
