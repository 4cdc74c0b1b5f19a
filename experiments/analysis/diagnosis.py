"""Reading a run: plain-words diagnosis of its curves, and a look inside its trained network.

``diagnose`` turns the epoch logs into findings a learner can act on ("the loss is stuck at ln 10: raise
the learning rate"); ``inspect_run`` reloads a run's saved weights and computes what the Inspect page
shows. Neither knows about Streamlit.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from experiments.config import RunConfig
from nn import MLP, Dataset
from nn.metrics import confusion_matrix, per_class_accuracy

LN10 = math.log(10)
STUCK_TOLERANCE = 0.05      # |loss - ln 10| below this after 2+ epochs: nothing is being learned
COLLAPSE_FRACTION = 0.5     # one class gets at least this share of the test predictions (balanced: ~0.11)
OVERFIT_GAP = 0.02          # train accuracy above test accuracy by this much, and the gap growing
DEAD_FRACTION = 0.25        # share of hidden ReLU units that never fire on the test set


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what ``kind`` of trouble, how bad (``error``/``warning``), what it means, what to change."""

    kind: str
    severity: str
    message: str
    advice: str

    @property
    def text(self) -> str:
        return f"{self.message} {self.advice}"


def diagnose(epochs: Sequence[Mapping[str, Any]], status: str = "", message: str = "",
             config: RunConfig | None = None) -> list[Finding]:
    """Findings about a run so far, worst first; empty when nothing looks wrong.

    Checks: diverged (non-finite or exploded loss), stuck (loss flat at ln 10, i.e. chance), collapsed
    predictions (most test images get one class), overfitting (train and test accuracy drifting apart),
    and dead ReLUs. Each finding names the setting to change.
    """
    findings: list[Finding] = []
    lr = f" ({config.lr:g})" if config else ""
    losses = [e.get("train_loss") for e in epochs]
    nonfinite = any(v is not None and not math.isfinite(v) for v in losses)
    if status == "diverged" or nonfinite:
        findings.append(Finding(
            "diverged", "error", "Diverged: the loss became NaN or exploded, so the weights are now useless.",
            f"Lower the **Learning rate**{lr}, e.g. by a factor of 10."))
        return findings
    if not epochs:
        return findings
    last = epochs[-1]
    train_loss, test_loss = last.get("train_loss"), last.get("test_loss")
    if len(epochs) >= 2 and train_loss is not None and abs(train_loss - LN10) < STUCK_TOLERANCE \
            and abs(epochs[0]["train_loss"] - LN10) < 3 * STUCK_TOLERANCE:
        advice = "Raise the **Learning rate**" + lr
        if config and config.activation == "sigmoid":
            advice += ", or switch the **Activation** to relu"
        if config and config.optimizer == "sgd":
            advice += ", or use the adam **Optimizer**"
        findings.append(Finding(
            "stuck", "warning", f"Stuck: the loss stays at ln 10 ≈ {LN10:.2f}, the loss of guessing at random; "
                                f"the network is not learning.", advice + "."))
    majority = last.get("majority_fraction")
    if majority is not None and majority >= COLLAPSE_FRACTION:
        if config and config.reduction == "sum":
            effective = config.lr * config.batch_size
            advice = (f"The gradient is summed over the batch, not averaged, so the effective learning rate is "
                      f"lr x batch size = {config.lr:g} x {config.batch_size} = {effective:g}: steps that large "
                      f"overshoot, can kill every hidden ReLU, and leave the output bias alone to pick the digit. Set "
                      f"the gradient reduction to mean, or divide the **Learning rate**{lr} by the "
                      f"**Batch size**.")
        else:
            advice = f"Lower the **Learning rate**{lr}, or try the adam **Optimizer**."
        dead = last.get("dead_fraction")
        dead_note = f" {dead:.0%} of the hidden ReLUs never fire." if dead is not None and dead >= DEAD_FRACTION else ""
        findings.append(Finding(
            "collapsed", "error",
            f"Collapsed predictions: {majority:.0%} of the test images are given the same digit, whatever the "
            f"image.{dead_note}", advice))
    gaps = [e["train_acc"] - e["test_acc"] for e in epochs
            if e.get("train_acc") is not None and e.get("test_acc") is not None]
    rising_test_loss = len(epochs) >= 3 and test_loss is not None and \
        test_loss > min(e["test_loss"] for e in epochs if e.get("test_loss") is not None) * 1.05
    widening = bool(gaps) and gaps[-1] >= OVERFIT_GAP and (len(gaps) < 3 or gaps[-1] > gaps[-3])
    if widening or (rising_test_loss and bool(gaps) and gaps[-1] > 0):
        findings.append(Finding(
            "overfitting", "warning",
            f"Overfitting: train accuracy {last['train_acc']:.1%} vs test {last['test_acc']:.1%}, and the gap is "
            f"growing; the network memorises the training images.",
            "Raise **L2** (e.g. 1e-4), or stop earlier with fewer **Epochs**."))
    dead = last.get("dead_fraction")
    if dead is not None and dead >= DEAD_FRACTION:
        findings.append(Finding(
            "dead_relus", "warning",
            f"Many dead ReLUs: {dead:.0%} of the hidden units never fire on any test image and no longer learn.",
            f"Lower the **Learning rate**{lr}, or use tanh as the **Activation**."))
    return findings


# ---------------------------------------------------------------------- looking inside a trained network
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
