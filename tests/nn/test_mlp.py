"""The MLP's public contract: shapes, live parameter views, initialization, dtype, persistence."""
import numpy as np
import pytest

from nn import MLP


def test_public_shapes_and_live_params():
    model = MLP([784, 128, 96, 10], activation="relu", seed=0)
    assert [W.shape for W in model.weights] == [(784, 128), (128, 96), (96, 10)]
    assert [b.shape for b in model.biases] == [(128,), (96,), (10,)]
    params = model.params()
    assert len(params) == 6 and params[0] is not None
    params[0][0, 0] = 123.0  # the arrays are live: writing through params() changes the model
    assert model.weights[0][0, 0] == 123.0
    X = np.zeros((5, 784), np.float32)
    assert model.forward(X).shape == (5, 10)
    assert model.predict(X).shape == (5,)
    assert model.forward(X).dtype == np.float32


def test_float64_is_selectable():
    model = MLP([4, 3, 2], dtype=np.float64)
    assert all(p.dtype == np.float64 for p in model.params())


def test_init_is_seeded_and_scaled_per_activation():
    a, b, c = MLP([784, 512, 10], seed=3), MLP([784, 512, 10], seed=3), MLP([784, 512, 10], seed=4)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])
    assert a.weights[0].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)  # He
    glorot = MLP([784, 512, 10], activation="tanh", seed=3)
    assert glorot.weights[0].std() == pytest.approx(np.sqrt(2 / (784 + 512)), rel=0.02)
    assert all((bias == 0).all() for bias in a.biases)


def test_predict_is_argmax_of_forward():
    rng = np.random.default_rng(0)
    model = MLP([6, 5, 4], seed=1)
    X = rng.normal(size=(9, 6)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(X, chunk=4), model.forward(X).argmax(axis=1))


def test_save_and_load_round_trip(tmp_path):
    model = MLP([6, 5, 4], activation="tanh", seed=1)
    model.save(tmp_path / "w.npz")
    loaded = MLP.load(tmp_path / "w.npz")
    assert loaded.sizes == model.sizes and loaded.activation == "tanh"
    np.testing.assert_array_equal(loaded.flat_params, model.flat_params)


@pytest.mark.parametrize("sizes,activation", [([784], "relu"), ([784, 0, 10], "relu"), ([4, 2], "swish")])
def test_bad_architecture_is_refused(sizes, activation):
    with pytest.raises(ValueError):
        MLP(sizes, activation=activation)


def test_layer_outputs_are_public_and_consistent():
    model = MLP([6, 5, 4, 3], activation="relu", seed=1)
    X = np.random.default_rng(0).random((7, 6)).astype(np.float32)
    outputs = model.layer_outputs(X)
    assert [o.shape for o in outputs] == [(7, 6), (7, 5), (7, 4), (7, 3)]
    np.testing.assert_array_equal(outputs[1], np.maximum(X @ model.weights[0] + model.biases[0], 0))
    np.testing.assert_array_equal(outputs[-1], model.forward(X))


def test_architecture_round_trip():
    model = MLP([6, 5, 3], activation="tanh", dtype=np.float64)
    assert MLP.from_architecture(model.architecture()).architecture() == model.architecture()
    assert model.describe() == "6-5-3 tanh float64"
