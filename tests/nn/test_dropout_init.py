"""Dropout (inverted, hidden layers, training only) and the choice of initialisation."""
import numpy as np
import pytest

from nn import MLP, Dataset, FitOptions, evaluate, fit
from nn.optim import Adam


def fixed_mask_loss(model, X, y, seed=7):
    model.dropout_rng = np.random.default_rng(seed)  # the same mask on every call
    return model.loss_and_grads(X, y, training=True)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_gradients_under_a_fixed_dropout_mask(activation):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    model = MLP([5, 6, 5, 3], activation=activation, seed=2, dtype=np.float64, dropout=0.5)
    for b in model.biases:  # non-zero: a row whose inputs are all dropped must not sit on relu's kink at 0
        b[...] = rng.normal(scale=0.1, size=b.shape)
    _, grads = fixed_mask_loss(model, X, y)
    analytic = [g.copy() for g in grads]
    eps = 1e-6
    for p, a in zip(model.params(), analytic):
        flat = p.reshape(-1)
        numeric = np.zeros(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = fixed_mask_loss(model, X, y)[0]
            flat[i] = old - eps
            down = fixed_mask_loss(model, X, y)[0]
            flat[i] = old
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(a.reshape(-1), numeric, rtol=1e-5, atol=1e-7)
    # the mask really drops units: the training loss differs from the loss without dropout
    assert fixed_mask_loss(model, X, y)[0] != model.loss_and_grads(X, y)[0]


def test_masks_drop_at_the_rate_and_keep_the_expected_activation():
    model = MLP([50, 400, 10], seed=0, dtype=np.float64, dropout=0.3)
    X = np.random.default_rng(0).random((200, 50))
    clean = model.layer_outputs(X)[1].copy()
    dropped = model._forward(X, training=True)[1]  # white-box: the training pass's first hidden layer
    zeroed = (dropped == 0) & (clean != 0)
    assert zeroed.sum() / (clean != 0).sum() == pytest.approx(0.3, abs=0.01)
    kept = ~zeroed & (clean != 0)
    np.testing.assert_allclose(dropped[kept], clean[kept] / 0.7)


def test_dropout_is_off_at_evaluation():
    plain, dropping = MLP([6, 8, 3], seed=4), MLP([6, 8, 3], seed=4, dropout=0.5)
    X = np.random.default_rng(1).random((5, 6)).astype(np.float32)
    np.testing.assert_array_equal(plain.forward(X), dropping.forward(X))
    assert evaluate(plain, X, np.zeros(5, int)) == evaluate(dropping, X, np.zeros(5, int))


def test_dropout_runs_replay_exactly(blobs):
    def run():
        model = MLP([20, 32, 10], seed=1, dropout=0.4)
        return [h["train_loss"] for h in fit(model, Adam(0.01), blobs, FitOptions(3, 32, seed=5)).history]

    assert run() == run()


def test_dropout_narrows_the_train_validation_gap():
    """Random labels on 120 examples: without dropout the network memorises them, with 0.5 much less."""
    rng = np.random.default_rng(0)
    x = rng.random((240, 20)).astype(np.float32)
    y = rng.integers(0, 10, 240)
    data = Dataset(x[:120], y[:120], x[:0], y[:0], x_val=x[120:], y_val=y[120:])

    def gap(rate):
        model = MLP([20, 64, 10], seed=0, dropout=rate)
        fit(model, Adam(0.01), data, FitOptions(epochs=30, batch_size=20))
        return evaluate(model, data.x_train, data.y_train)["acc"] - evaluate(model, data.x_val, data.y_val)["acc"]

    assert gap(0.5) < gap(0.0) - 0.1  # measured: 0.58 vs 0.79


def test_initialisations():
    assert MLP([784, 512, 10], init="small", seed=0).weights[0].std() == pytest.approx(0.01, rel=0.02)
    he_tanh = MLP([784, 512, 10], activation="tanh", init="he", seed=0)
    assert he_tanh.weights[0].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    glorot_relu = MLP([784, 512, 10], init="glorot", seed=0)
    assert glorot_relu.weights[0].std() == pytest.approx(np.sqrt(2 / (784 + 512)), rel=0.02)
    np.testing.assert_array_equal(MLP([9, 4, 2], seed=3).flat_params, MLP([9, 4, 2], init="he", seed=3).flat_params)
    assert MLP([9, 4, 2], activation="sigmoid").init == "glorot"


@pytest.mark.parametrize("kwargs", [dict(dropout=1.0), dict(dropout=-0.1), dict(init="zeros")])
def test_bad_dropout_or_init_is_refused(kwargs):
    with pytest.raises(ValueError, match="dropout|initialisation"):
        MLP([4, 3, 2], **kwargs)
