"""Inspection of a trained network: the Inspect page's numbers, from a model and from its saved weights."""
from __future__ import annotations

import numpy as np

from experiments.analysis.inspection import inspect_model, inspect_weights
from nn import MLP
from tests.conftest import make_blobs


def test_inspect_model_and_saved_weights(tmp_path):
    data = make_blobs(features=784, n_train=50, n_test=40)
    model = MLP([784, 5, 10], seed=0)
    result = inspect_model(model, data)
    assert result.confusion.sum() == 40 and result.confusion.shape == (10, 10)
    assert result.first_layer.shape == (784, 5)
    assert len(result.wrong) == 40 - int(np.trace(result.confusion))
    path = tmp_path / "w.npz"
    model.save(str(path))
    again = inspect_weights(path, data)
    assert np.array_equal(again.predictions, result.predictions)
    try:
        inspect_weights(tmp_path / "missing.npz", data)
    except FileNotFoundError as exc:
        assert "no saved weights" in str(exc)
    else:
        raise AssertionError("expected FileNotFoundError")
