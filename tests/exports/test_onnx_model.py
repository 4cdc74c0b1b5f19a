"""ONNX export: onnxruntime, running the exported graph, predicts as the NumPy network does (the same class
for every image, probabilities within 1e-5), on the 10,000 real MNIST test images and for every activation
and precision on synthetic images."""
from __future__ import annotations

import json

import numpy as np
import pytest

from experiments.exports import ExportError
from experiments.exports.onnx_model import INPUT, IR_VERSION, OPSET, OUTPUT, describe_metadata, export_onnx
from nn.activations import ACTIVATIONS
from nn.mlp import MLP
from nn.pixels import as_inputs
from tests.exports.conftest import blobs_784

pytest.importorskip("onnx", reason="pip install -r requirements-export.txt")
pytest.importorskip("onnxruntime", reason="pip install -r requirements-export.txt")


def _onnx_probabilities(path, images: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [INPUT] and [o.name for o in session.get_outputs()] == [OUTPUT]
    return session.run([OUTPUT], {INPUT: images})[0]


def _numpy_probabilities(model: MLP, images: np.ndarray) -> np.ndarray:
    """The lab's probabilities: softmax (in float64) of the NumPy network's logits."""
    logits = model.forward(images).astype(np.float64)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _check_same_predictions(store, run_id: int, path, images: np.ndarray) -> None:
    """``images`` as the lab stores them (uint8 pixels or floats in [0, 1]); the ONNX model gets them as
    float32 in [0, 1]."""
    model = MLP.load(store.weights_path(run_id))
    onnx_p = _onnx_probabilities(path, as_inputs(images, np.float32))
    numpy_p = _numpy_probabilities(model, images)
    assert onnx_p.dtype == np.float32 and onnx_p.shape == (len(images), 10)
    np.testing.assert_array_equal(onnx_p.argmax(axis=1), model.predict(images))
    np.testing.assert_allclose(onnx_p, numpy_p, rtol=0, atol=1e-5)


@pytest.mark.mnist
def test_a_run_trained_on_mnist_predicts_in_onnxruntime_as_in_numpy(store, train_run, mnist, tmp_path):
    from nn import Dataset

    data = Dataset(mnist.x_train[:2000], mnist.y_train[:2000], mnist.x_test, mnist.y_test, source="mnist",
                   x_val=mnist.x_train[-500:], y_val=mnist.y_train[-500:])
    run_id = train_run(data, hidden=(64,), epochs=2, train_size=2000, val_size=500)
    path = export_onnx(store, run_id, tmp_path / "model.onnx")
    assert mnist.x_test.dtype == np.uint8 and len(mnist.x_test) == 10_000
    _check_same_predictions(store, run_id, path, mnist.x_test)

    import onnx

    proto = onnx.load(str(path))
    meta = describe_metadata(proto)
    assert meta["lab_run_id"] == str(run_id) and "[0, 1]" in meta["input"] and meta["lab_version"]
    assert json.loads(meta["config"]) == store.get_run(run_id).config.to_dict()
    assert proto.opset_import[0].version == OPSET and proto.ir_version == IR_VERSION


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype,hidden", [("float32", (32, 16)), ("float64", (24,)), ("float32", ())])
def test_every_activation_and_precision_predicts_as_numpy(store, train_run, tmp_path, activation, dtype, hidden):
    run_id = train_run(hidden=hidden, activation=activation, dtype=dtype, dropout=0.25 if hidden else 0.0, epochs=1)
    path = export_onnx(store, run_id, tmp_path / "model.onnx")
    _check_same_predictions(store, run_id, path, blobs_784().x_test)


def test_bad_input_is_one_line_and_writes_nothing(store, train_run, tmp_path):
    trained = train_run(epochs=1)
    never_trained = store.create_run(store.get_run(trained).config, name="queued")
    cases = [(never_trained, tmp_path / "a.onnx", "has no saved weights"),
             (trained + 5, tmp_path / "b.onnx", f"there is no run {trained + 5}"),
             (trained, tmp_path, "is a folder"),
             (trained, tmp_path / "missing" / "c.onnx", "does not exist")]
    before = sorted(tmp_path.rglob("*"))
    for run_id, path, words in cases:
        with pytest.raises(ExportError, match=words) as caught:
            export_onnx(store, run_id, path)
        assert "\n" not in str(caught.value)
    assert sorted(tmp_path.rglob("*")) == before
