"""Reading a run: a diagnosis of its curves as data, and a look inside its trained network.

``diagnose`` turns the epoch logs into ``Finding`` records (what kind of trouble, how bad, and the numbers
it rests on: "the loss is stuck at ln 10 with lr 1e-05 and sgd"); the rules are in rules.py, and
diagnosis_text.py words the findings (names the sidebar's settings and gives the advice). ``inspect_run``
reloads a run's saved weights and computes what the Inspect page shows. Neither knows about Streamlit or
the sidebar's labels.
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
from nn.dynamics import LayerStats
from nn.metrics import confusion_matrix, per_class_accuracy

LN10 = math.log(10)
STUCK_TOLERANCE = 0.05      # |loss - ln 10| below this after 2+ epochs: nothing is being learned
COLLAPSE_FRACTION = 0.5     # one class gets at least this share of the test predictions (balanced: ~0.11)
OVERFIT_GAP = 0.02          # train accuracy above held-out accuracy by this much, and the gap growing ...
OVERFIT_WIDE_GAP = 0.05     # ... or by this much whatever the trend
DEAD_FRACTION = 0.25        # share of a layer's hidden ReLU units that never fire
SATURATED_FRACTION = 0.3    # share of a sigmoid/tanh layer's activations at their limits
UPDATE_RATIO = 1e-3         # rule of thumb: each step changes a layer's weights by about this fraction
RATIO_HIGH, RATIO_LOW = 2e-2, 2e-4  # a typical step ratio above / below this: the lr is too high / too low
L2_DOMINANT = 1.0           # the L2 penalty at least this many times the cross-entropy
UNDERFIT_ACC = 0.9          # training accuracy below this at the end, with no gap to the held-out data


class DiagnosisKind(StrEnum):
    """What is wrong with a run, worst first."""

    DIVERGED = "diverged"        # the loss became non-finite or exploded
    L2_DOMINATES = "l2_dominates"  # the L2 penalty outweighs the cross-entropy: training shrinks weights
    STUCK = "stuck"              # the loss stays at ln 10: chance level
    COLLAPSED = "collapsed"      # most test images get the same digit
    LARGE_UPDATES = "large_updates"  # each step changes the weights by far more than ~1e-3 of them
    SMALL_UPDATES = "small_updates"  # ... by far less
    DEAD_RELUS = "dead_relus"    # many hidden ReLUs never fire
    SATURATED = "saturated"      # many sigmoid/tanh activations sit at their limits
    OVERFITTING = "overfitting"  # train and held-out accuracy drift apart
    UNDERFITTING = "underfitting"  # the network does not fit even its training images


class Severity(StrEnum):
    ERROR = "error"        # the network is useless as it stands
    WARNING = "warning"    # it learns, but something should change


@dataclass(frozen=True)
class Finding:
    """One diagnosis, the numbers it rests on (None where they do not apply) and the settings that fix it.

    ``fix`` is the change of settings the rule proposes, as (setting, new value) pairs; ``fixed_config``
    applies it to ``config``.
    """

    kind: DiagnosisKind
    severity: Severity
    config: RunConfig | None = None      # the run's settings, for advice that names them
    loss: float | None = None            # the last training loss (cross-entropy)
    majority: float | None = None        # share of test images given the most common digit
    dead: float | None = None            # share of a layer's hidden ReLUs that never fire
    train_acc: float | None = None
    test_acc: float | None = None        # the held-out accuracy (validation when the run has it, else test)
    layer: int | None = None             # the layer the evidence is about (1 = first weight matrix)
    ratio: float | None = None           # that layer's typical update-to-weight ratio per step
    penalty: float | None = None         # the last L2 penalty
    saturated: float | None = None       # share of that layer's activations saturated
    held_out: str = "test"               # "validation" or "test": what test_acc was measured on
    epochs: int | None = None            # epochs the evidence covers
    fix: tuple[tuple[str, Any], ...] = ()

    @property
    def effective_lr(self) -> float | None:
        """lr x batch size when the gradient is summed over the batch (None otherwise)."""
        c = self.config
        return c.lr * c.batch_size if c is not None and c.reduction == "sum" else None

    def fixed_config(self) -> RunConfig | None:
        """The run's settings with the proposed change (None without settings or a fix)."""
        if self.config is None or not self.fix:
            return None
        return self.config.replace(**dict(self.fix))


def diagnose(epochs: Sequence[Mapping[str, Any]], status: str = "", message: str = "",
             config: RunConfig | None = None, *, layers: Sequence[LayerStats] = ()) -> list[Finding]:
    """Findings about a run so far, worst first; empty when nothing looks wrong.

    Each check is a rule of ``experiments.analysis.rules.RULES`` over the logged series: the epochs, and the
    per-layer dynamics (``layers``) when the run recorded them. A cause drops the symptoms it explains (L2
    crushing the weights explains a loss stuck at chance); a divergence is said alone. ``message`` is the
    run's status message (unused today).
    """
    from experiments.analysis.rules import Evidence, apply_rules

    return apply_rules(Evidence(list(epochs), str(status), config, list(layers)))


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
