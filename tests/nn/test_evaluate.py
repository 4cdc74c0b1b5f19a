"""evaluate: the whole-split metrics, computed by nn/losses and nn/metrics, chunk size irrelevant."""
import numpy as np
import pytest

from nn import MLP, evaluate
from nn.losses import cross_entropy, log_softmax
from nn.metrics import accuracy, majority_fraction


def test_evaluate_matches_the_definitions(blobs):
    model = MLP([20, 16, 10], seed=3)
    logits = model.forward(blobs.x_test).astype(np.float64)
    pred = logits.argmax(axis=1)
    expected_loss = -log_softmax(logits)[np.arange(len(pred)), blobs.y_test].mean()  # no L2 penalty: logged apart
    for chunk in (7, 2000):
        result = evaluate(model, blobs.x_test, blobs.y_test, chunk=chunk)
        assert result["loss"] == pytest.approx(expected_loss, rel=1e-6)  # float32 forward, chunked
        assert result["acc"] == accuracy(blobs.y_test, pred)
        assert result["majority_fraction"] == majority_fraction(pred)


def test_l2_penalty_is_half_the_squared_weights():
    model = MLP([3, 2, 2], seed=0)
    assert model.l2_penalty(0.2) == pytest.approx(0.1 * sum((W.astype(np.float64) ** 2).sum() for W in model.weights))
    assert model.l2_penalty(0.0) == 0.0


def test_cross_entropy_mean_and_sum():
    logits = np.array([[2.0, 0.0], [0.0, 0.0], [1000.0, 0.0]])
    y = np.array([0, 1, 1])
    per_row = np.array([np.log1p(np.exp(-2.0)), np.log(2.0), 1000.0])
    assert cross_entropy(logits, y, reduction="sum") == pytest.approx(per_row.sum())
    assert cross_entropy(logits, y) == pytest.approx(per_row.mean())
    assert cross_entropy(logits[:0], y[:0]) == 0.0


def test_dead_units_counted_only_for_relu(blobs):
    model = MLP([20, 8, 10], seed=0)
    model.biases[0][:] = 1e6  # five units always active,
    model.biases[0][:3] = -1e6  # three that can never fire
    assert evaluate(model, blobs.x_test, blobs.y_test)["dead_fraction"] == pytest.approx(3 / 8)
    assert evaluate(MLP([20, 8, 10], activation="tanh"), blobs.x_test, blobs.y_test)["dead_fraction"] == 0.0


def test_empty_split_gives_zeros():
    model = MLP([4, 3, 2])
    result = evaluate(model, np.empty((0, 4), np.float32), np.empty(0, np.int64))
    assert (result["loss"], result["acc"], result["majority_fraction"]) == (0.0, 0.0, 0.0)
