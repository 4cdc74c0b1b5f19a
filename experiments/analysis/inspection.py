"""Looking inside a trained network: what the Inspect page shows about a run's saved weights on the test split.

``inspect_weights`` reloads the weights a run saved and ``inspect_model`` computes the predictions, the
confusion matrix, the accuracy per digit, the misclassified images and the first layer's weights. Reading the
run's curves (what went wrong while it trained) is diagnosis.py's concern; reading a drawn digit is digit.py's.
No Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn import MLP, Dataset
from nn.metrics import confusion_matrix, per_class_accuracy


@dataclass
class Inspection:
    """What the Inspect page shows about one trained network on the test split."""

    accuracy: float
    confusion: np.ndarray           # (10, 10) counts C[true, predicted]
    per_class: np.ndarray           # (10,) recall per digit
    predictions: np.ndarray         # (n_test,) predicted digit
    wrong: np.ndarray               # indices of misclassified test images
    first_layer: np.ndarray         # (784, units) incoming weights of the first layer
    sizes: list[int]


def inspect_model(model: MLP, data: Dataset) -> Inspection:
    """Predictions, confusion matrix, per-class accuracy and first-layer weights of ``model`` on the test split."""
    if model.sizes[0] != data.num_features:
        raise ValueError(f"the network expects {model.sizes[0]} inputs but the images have {data.num_features}")
    pred = model.predict(data.x_test)
    y = data.y_test
    classes = model.sizes[-1]
    return Inspection(
        accuracy=float(np.mean(pred == y)) if len(y) else 0.0,
        confusion=confusion_matrix(y, pred, classes),
        per_class=per_class_accuracy(y, pred, classes),
        predictions=pred,
        wrong=np.flatnonzero(pred != y),
        first_layer=np.array(model.weights[0]),
        sizes=list(model.sizes),
    )


def inspect_weights(path: str | Path, data: Dataset) -> Inspection:
    """Reload the weights a run saved and inspect them; FileNotFoundError if the run saved none."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved weights at {path}: the run ended before training finished")
    return inspect_model(MLP.load(str(path)), data)
