"""Reading a run: a diagnosis of its curves as data, and a look inside its trained network.

``diagnose`` turns the epoch logs into ``Finding`` records (what kind of trouble, how bad, and the numbers
it rests on: "the loss is stuck at ln 10 with lr 1e-05 and sgd"); the page words them (ui/diagnosis_text.py
names the sidebar's settings and gives the advice). ``inspect_run`` reloads a run's saved weights and
computes what the Inspect page shows. Neither knows about Streamlit or the sidebar's labels.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from experiments.config import RunConfig
from nn import MLP, Dataset
from nn.metrics import confusion_matrix, per_class_accuracy
from nn.status import RunStatus

LN10 = math.log(10)
STUCK_TOLERANCE = 0.05      # |loss - ln 10| below this after 2+ epochs: nothing is being learned
COLLAPSE_FRACTION = 0.5     # one class gets at least this share of the test predictions (balanced: ~0.11)
OVERFIT_GAP = 0.02          # train accuracy above test accuracy by this much, and the gap growing
DEAD_FRACTION = 0.25        # share of hidden ReLU units that never fire on the test set


class DiagnosisKind(StrEnum):
    """What is wrong with a run, worst first."""

    DIVERGED = "diverged"        # the loss became non-finite or exploded
    STUCK = "stuck"              # the loss stays at ln 10: chance level
    COLLAPSED = "collapsed"      # most test images get the same digit
    OVERFITTING = "overfitting"  # train and held-out (validation, else test) accuracy drift apart
    DEAD_RELUS = "dead_relus"    # many hidden ReLUs never fire


class Severity(StrEnum):
    ERROR = "error"        # the network is useless as it stands
    WARNING = "warning"    # it learns, but something should change


@dataclass(frozen=True)
class Finding:
    """One diagnosis and the numbers it rests on (None where they do not apply or are unknown)."""

    kind: DiagnosisKind
    severity: Severity
    config: RunConfig | None = None      # the run's settings, for advice that names them
    loss: float | None = None            # the last training loss
    majority: float | None = None        # share of test images given the most common digit
    dead: float | None = None            # share of hidden ReLUs that never fire
    train_acc: float | None = None
    test_acc: float | None = None
    held_out: str = "test"               # the split train accuracy is set against: "validation" when the run has one

    @property
    def effective_lr(self) -> float | None:
        """lr x batch size when the gradient is summed over the batch (None otherwise)."""
        c = self.config
        return c.lr * c.batch_size if c is not None and c.reduction == "sum" else None


def diagnose(epochs: Sequence[Mapping[str, Any]], status: str = "", message: str = "",
             config: RunConfig | None = None) -> list[Finding]:
    """Findings about a run so far, worst first; empty when nothing looks wrong.

    Checks: diverged (non-finite or exploded loss; then nothing else is said), stuck (loss flat at ln 10,
    i.e. chance), collapsed predictions (most test images get one class), overfitting (train and held-out
    accuracy drifting apart: validation when the run has it, else test), and dead ReLUs. ``message`` is the
    run's status message (unused today).
    """
    losses = [e.get("train_loss") for e in epochs]
    if status == RunStatus.DIVERGED or any(v is not None and not math.isfinite(v) for v in losses):
        return [Finding(DiagnosisKind.DIVERGED, Severity.ERROR, config)]
    if not epochs:
        return []
    checks = (_stuck, _collapsed, _overfitting, _dead_relus)
    return [f for f in (check(epochs, config) for check in checks) if f is not None]


def _stuck(epochs: Sequence[Mapping[str, Any]], config: RunConfig | None) -> Finding | None:
    first, last = epochs[0].get("train_loss"), epochs[-1].get("train_loss")
    if len(epochs) < 2 or first is None or last is None:
        return None
    if abs(last - LN10) < STUCK_TOLERANCE and abs(first - LN10) < 3 * STUCK_TOLERANCE:
        return Finding(DiagnosisKind.STUCK, Severity.WARNING, config, loss=last)
    return None


def _collapsed(epochs: Sequence[Mapping[str, Any]], config: RunConfig | None) -> Finding | None:
    last = epochs[-1]
    majority = last.get("majority_fraction")
    if majority is None or majority < COLLAPSE_FRACTION:
        return None
    return Finding(DiagnosisKind.COLLAPSED, Severity.ERROR, config, majority=majority, dead=last.get("dead_fraction"))


def _overfitting(epochs: Sequence[Mapping[str, Any]], config: RunConfig | None) -> Finding | None:
    """Train accuracy pulling away from held-out accuracy: the validation split's when the run has one (the
    test set is kept for the final check), else the test split's (runs stored before validation existed)."""
    last = epochs[-1]
    split = "val" if any(e.get("val_acc") is not None for e in epochs) else "test"
    acc, loss = f"{split}_acc", f"{split}_loss"
    gaps = [e["train_acc"] - e[acc] for e in epochs if e.get("train_acc") is not None and e.get(acc) is not None]
    if not gaps:
        return None
    widening = gaps[-1] >= OVERFIT_GAP and (len(gaps) < 3 or gaps[-1] > gaps[-3])
    if widening or (_rising([e.get(loss) for e in epochs]) and gaps[-1] > 0):
        return Finding(DiagnosisKind.OVERFITTING, Severity.WARNING, config, train_acc=last.get("train_acc"),
                       test_acc=last.get(acc), held_out="validation" if split == "val" else "test")
    return None


def _rising(losses: Sequence[float | None]) -> bool:
    """Whether the last of at least three epochs' held-out losses is 5% above the lowest of them."""
    known = [v for v in losses if v is not None]
    return len(losses) >= 3 and losses[-1] is not None and losses[-1] > min(known) * 1.05


def _dead_relus(epochs: Sequence[Mapping[str, Any]], config: RunConfig | None) -> Finding | None:
    dead = epochs[-1].get("dead_fraction")
    if dead is not None and dead >= DEAD_FRACTION:
        return Finding(DiagnosisKind.DEAD_RELUS, Severity.WARNING, config, dead=dead)
    return None


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
