"""A run's trained network as an ONNX model, built node by node with ``onnx.helper`` (no PyTorch needed).

The graph takes ``images``: float32 of shape (n, 784), each a 28 x 28 MNIST image flattened row by row with
its pixels scaled to [0, 1] (pixel / 255, as ``nn.pixels.as_inputs`` scales the stored uint8 pixels; the
network itself scales nothing, so the graph does not either). It returns ``probabilities``: float32 (n, 10),
the softmax over the digits 0 to 9. It does what ``nn.MLP.forward`` does at evaluation: for each layer
MatMul and Add of the bias, then the activation on hidden layers (ReLU as ``Relu``, tanh as ``Tanh``, the
logistic function as NumPy computes it, 0.5 * (1 + tanh(z / 2)), so it agrees to rounding); no dropout,
which is off at evaluation. A float64 network computes in float64 (the input is cast, as ``as_inputs``
does); the softmax is taken in float64, as the lab's own probabilities are (``analysis.digit.classify``).

Opset 17 and IR version 8: understood by onnxruntime 1.13 and later and by onnxruntime-web, while every
operator used here has had its current meaning since opset 13. The model's ``metadata_props`` say what the
input is, the run id, its settings (JSON) and the lab's version.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from experiments.exports.common import ExportError, Tool, lab_version, require
from experiments.i18n import _
from experiments.store import RunRecord, RunStore
from experiments.store.errors import RunNotFoundError
from nn.mlp import MLP

OPSET = 17
IR_VERSION = 8
INPUT = "images"
OUTPUT = "probabilities"
INPUT_TEXT = ("float32 array of shape (n, 784): MNIST images, 28 x 28 pixels flattened row by row, "
              "scaled to [0, 1] (pixel / 255)")
OUTPUT_TEXT = "float32 array of shape (n, 10): softmax probabilities of the digits 0 to 9"


def _activation_nodes(helper: Any, activation: str, z: str, out: str, prefix: str) -> list[Any]:
    """The nodes computing ``activation`` of ``z`` into ``out``, as ``nn.activations.forward`` does."""
    if activation == "relu":
        return [helper.make_node("Relu", [z], [out], name=f"{prefix}_relu")]
    if activation == "tanh":
        return [helper.make_node("Tanh", [z], [out], name=f"{prefix}_tanh")]
    if activation == "sigmoid":  # 0.5 * (1 + tanh(0.5 z)): NumPy's overflow-free logistic function
        return [helper.make_node("Mul", [z, "half"], [f"{prefix}_halved"], name=f"{prefix}_halve"),
                helper.make_node("Tanh", [f"{prefix}_halved"], [f"{prefix}_tanh"], name=f"{prefix}_tanh"),
                helper.make_node("Add", [f"{prefix}_tanh", "one"], [f"{prefix}_shifted"], name=f"{prefix}_shift"),
                helper.make_node("Mul", [f"{prefix}_shifted", "half"], [out], name=f"{prefix}_scale")]
    raise ExportError(f"the ONNX export does not know the activation {activation!r}")


def model_proto(model: MLP, metadata: dict[str, str]) -> Any:
    """The ONNX ModelProto of ``model`` (checked by ``onnx.checker``), with ``metadata`` as metadata_props."""
    onnx = require("onnx", Tool.ONNX)
    helper, numpy_helper, TensorProto = onnx.helper, onnx.numpy_helper, onnx.TensorProto
    dtype = np.dtype(model.dtype)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    initializers = []
    if model.activation == "sigmoid" and len(model.weights) > 1:  # the constants of the logistic function
        initializers += [numpy_helper.from_array(np.asarray(0.5, dtype), "half"),
                         numpy_helper.from_array(np.asarray(1.0, dtype), "one")]
    nodes = []
    current = INPUT
    if dtype != np.float32:
        nodes.append(helper.make_node("Cast", [INPUT], ["inputs"], to=elem, name="cast_inputs"))
        current = "inputs"
    last = len(model.weights) - 1
    for i, (W, b) in enumerate(zip(model.weights, model.biases)):
        initializers += [numpy_helper.from_array(np.ascontiguousarray(W), f"W{i + 1}"),
                         numpy_helper.from_array(np.ascontiguousarray(b), f"b{i + 1}")]
        nodes += [helper.make_node("MatMul", [current, f"W{i + 1}"], [f"xw{i + 1}"], name=f"layer{i + 1}_matmul"),
                  helper.make_node("Add", [f"xw{i + 1}", f"b{i + 1}"], [f"z{i + 1}"], name=f"layer{i + 1}_bias")]
        current = f"z{i + 1}"
        if i < last:
            nodes += _activation_nodes(helper, model.activation, current, f"a{i + 1}", f"layer{i + 1}")
            current = f"a{i + 1}"
    nodes += [helper.make_node("Cast", [current], ["logits"], to=TensorProto.DOUBLE, name="logits_to_double"),
              helper.make_node("Softmax", ["logits"], ["probabilities64"], axis=1, name="softmax"),
              helper.make_node("Cast", ["probabilities64"], [OUTPUT], to=TensorProto.FLOAT, name="to_float32")]
    graph = helper.make_graph(
        nodes, "mnist_mlp", [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["n", model.sizes[0]])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["n", model.sizes[-1]])], initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mnist-mlp-lab",
                              producer_version=lab_version(), doc_string=f"{model.describe()} MLP; {INPUT_TEXT}")
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto)
    return proto


def metadata_of(run: RunRecord, model: MLP) -> dict[str, str]:
    """What the model's metadata_props say: its input and output, the run, its settings, the lab's version."""
    return {"input": INPUT_TEXT, "output": OUTPUT_TEXT, "input_scale": "[0, 1]", "lab_run_id": str(run.id),
            "lab_run_name": run.name, "lab_version": lab_version(), "architecture": model.describe(),
            "config": run.config.to_json() if run.config is not None else "",
            "dropout": "none at inference (trained with rate "
                       f"{run.config.dropout:g})" if run.config is not None else "none at inference"}


def _trained_model(store: RunStore, run_id: int) -> tuple[RunRecord, MLP]:
    """The run and its saved network; ExportError for an unknown run or one without saved weights."""
    try:
        run = store.get_run(run_id)
    except RunNotFoundError:
        raise ExportError(_("there is no run {ids}: nothing written").format(ids=run_id)) from None
    path = store.weights_path(run.id)
    if not path.is_file():
        raise ExportError(_("run {id} has no saved weights (they are kept once a run has finished an epoch and "
                            "ended): nothing written").format(id=run.id))
    try:
        return run, MLP.load(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ExportError(_("cannot read the weights of run {id} ({reason})").format(id=run.id, reason=exc)) from None


def onnx_bytes(store: RunStore, run_id: int) -> bytes:
    """Run ``run_id``'s network as a serialized ONNX model (for a download button)."""
    run, model = _trained_model(store, run_id)
    return bytes(model_proto(model, metadata_of(run, model)).SerializeToString())


def export_onnx(store: RunStore, run_id: int, path: str | os.PathLike[str]) -> Path:
    """Write run ``run_id``'s network to ``path`` (replaced if it is a file); everything is checked first."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ExportError(f"{path} is a folder: give a file name, e.g. {target / f'run-{run_id}.onnx'}")
    if not target.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {target.parent} does not exist")
    data = onnx_bytes(store, run_id)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        staging.write_bytes(data)
        os.replace(staging, target)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path} ({exc.strerror or exc})") from None
    return target


def describe_metadata(proto: Any) -> dict[str, str]:
    """A model's metadata_props as a dict (for tests and for reading an exported file back)."""
    return {prop.key: prop.value for prop in proto.metadata_props}

