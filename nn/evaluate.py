"""Measure a network on a whole split: loss, accuracy, prediction collapse, dead hidden units."""
from __future__ import annotations

import numpy as np

from . import compute
from .losses import cross_entropy
from .metrics import accuracy, majority_fraction
from .mlp import MLP
from .pixels import as_inputs, is_pixels


def evaluate(model: MLP, x: np.ndarray, y: np.ndarray, chunk: int = 2000) -> dict[str, float]:
    """Loss (mean cross-entropy, as training logs it; the L2 penalty is ``model.l2_penalty``), accuracy,
    majority_fraction (share of examples given the most common prediction) and dead_fraction (hidden ReLU
    units never active on ``x``; 0 for other activations) of ``model`` on ``x``, evaluated ``chunk`` rows at
    a time (dropout off)."""
    total_loss = 0.0
    predictions = []
    ever_active = [np.zeros(width, dtype=bool) for width in model.sizes[1:-1]]
    # stored pixels are scaled chunk by chunk into one reused buffer (a fresh one per chunk costs page faults)
    inputs = np.empty((min(chunk, len(x)), x.shape[1]), model.dtype) if is_pixels(x) else None
    with compute.arithmetic():  # the numbers of any thread count (nn/compute.py)
        for start in range(0, len(x), chunk):
            rows = x[start:start + chunk]
            outputs = model.layer_outputs(rows if inputs is None else as_inputs(rows, out=inputs[:len(rows)]))
            for active, hidden in zip(ever_active, outputs[1:-1]):
                active |= (hidden > 0).any(axis=0)
            logits = outputs[-1].astype(np.float64)
            total_loss += cross_entropy(logits, y[start:start + chunk], reduction="sum")
            predictions.append(logits.argmax(axis=1))
    pred = np.concatenate(predictions) if predictions else np.empty(0, dtype=np.int64)
    dead = sum(int((~a).sum()) for a in ever_active)
    hidden_units = sum(model.sizes[1:-1])
    return {
        "loss": total_loss / max(len(x), 1),
        "acc": accuracy(y, pred),
        "majority_fraction": majority_fraction(pred, model.sizes[-1]),
        "dead_fraction": dead / hidden_units if model.activation == "relu" and hidden_units else 0.0,
    }
