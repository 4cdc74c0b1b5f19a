"""Finite-difference checks of the analytic gradients, in float64."""
import numpy as np
import pytest

from nn import MLP


def numeric_grads(model, X, y, l2, reduction, eps=1e-6):
    grads = []
    for p in model.params():
        g = np.zeros_like(p)
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)
        for i in range(flat_p.size):
            old = flat_p[i]
            flat_p[i] = old + eps
            up, _ = model.loss_and_grads(X, y, l2, reduction)
            flat_p[i] = old - eps
            down, _ = model.loss_and_grads(X, y, l2, reduction)
            flat_p[i] = old
            flat_g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("hidden", [[], [7], [6, 5], [6, 5, 4]], ids=["depth0", "depth1", "depth2", "depth3"])
@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_analytic_gradients_match_finite_differences(activation, hidden, l2, reduction):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, 8)
    model = MLP([5, *hidden, 3], activation=activation, seed=2, dtype=np.float64)
    for b in model.biases:  # non-zero biases, so their gradients are exercised too
        b[...] = rng.normal(scale=0.1, size=b.shape)
    loss, grads = model.loss_and_grads(X, y, l2, reduction)
    analytic = [g.copy() for g in grads]
    numeric = numeric_grads(model, X, y, l2, reduction)
    assert np.isfinite(loss)
    for a, n in zip(analytic, numeric):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def test_loss_is_cross_entropy_plus_half_l2_of_weights_only():
    rng = np.random.default_rng(0)
    model = MLP([4, 3, 2], seed=0, dtype=np.float64)
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 2, 5)
    for b in model.biases:
        b += 1.0  # biases must not enter the penalty
    logits = model.forward(X)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ce = -log_p[np.arange(5), y].mean()
    penalty = 0.5 * 0.3 * sum((W ** 2).sum() for W in model.weights)
    loss, grads = model.loss_and_grads(X, y, l2=0.3)
    assert loss == pytest.approx(ce + penalty, rel=1e-10)


def test_cross_entropy_stays_finite_for_huge_logits():
    model = MLP([2, 2], seed=0, dtype=np.float64)
    model.weights[0][...] = [[1e4, -1e4], [0, 0]]
    loss, grads = model.loss_and_grads(np.array([[1.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(2e4)
    assert all(np.isfinite(g).all() for g in grads)


def test_sum_reduction_logs_the_per_example_loss_but_steps_batch_size_times_larger():
    """backprop's loss (the cross-entropy) is comparable across reductions; only its gradient is scaled by n."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(16, 5)), rng.integers(0, 3, 16)
    model = MLP([5, 4, 3], seed=1, dtype=np.float64)
    mean_loss, _ = model.backprop(X, y, 0.1, "mean")
    mean_grads = [g.copy() for g in model.grads()]
    sum_loss, _ = model.backprop(X, y, 0.1, "sum")
    assert sum_loss == pytest.approx(mean_loss, rel=1e-12)  # per example in both: curves are comparable
    objective, sum_grads = model.loss_and_grads(X, y, 0.1, "sum")
    penalty = 0.5 * 0.1 * sum((W ** 2).sum() for W in model.weights)
    assert objective == pytest.approx(mean_loss * 16 + penalty, rel=1e-12)  # backprop's loss: cross-entropy only
    for p, gm, gs in zip(model.params(), mean_grads, sum_grads):
        l2_part = 0.1 * p if p.ndim == 2 else 0.0  # weights only; the L2 gradient is not scaled by n
        np.testing.assert_allclose(gs - l2_part, (gm - l2_part) * 16, rtol=1e-10, atol=1e-12)
