"""Looking inside a trained network: what the Inspect page shows about a run's saved weights on the test split.

``inspect_weights`` reloads the weights a run saved and ``inspect_model`` computes the predictions, the
confusion matrix, the accuracy per digit, the misclassified images and the first layer's weights. Reading the
run's curves (what went wrong while it trained) is diagnosis.py's concern; reading a drawn digit is digit.py's.
``weights_epoch`` says which epoch the saved weights are (the last, or the best one early stopping restored),
so that the accuracy measured here is never shown without its epoch beside History's (read at the best
epoch). No Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.analysis.rounding import acc_percent
from experiments.i18n import _
from experiments.store.best import best_epoch_name
from experiments.store.records import RunRecord
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


@dataclass(frozen=True)
class WeightsEpoch:
    """The epoch whose weights a run saved: its last finished one, or its best one when early stopping
    restored it (``restored``)."""

    epoch: int
    restored: bool
    monitor: str = "val_loss"

    def text(self) -> str:
        """"epoch 10, the last" or "epoch 7, the best epoch (lowest val. loss), restored by early stopping"."""
        if self.restored:
            return _("epoch {epoch}, the {best_epoch}, restored by early stopping").format(
                epoch=self.epoch, best_epoch=best_epoch_name(self.monitor))
        return _("epoch {epoch}, the last").format(epoch=self.epoch)


def weights_epoch(run: RunRecord) -> WeightsEpoch:
    """Which epoch's weights ``run`` saved: the best epoch when early stopping (with "restore best weights")
    monitored it, else the last finished epoch."""
    config = run.config
    restored = (config is not None and config.early_stopping != "off" and config.restore_best
                and run.best_epoch is not None)
    if restored and run.best_epoch is not None and config is not None:
        return WeightsEpoch(run.best_epoch, True, config.monitor)
    return WeightsEpoch(run.epochs_done, False, config.monitor if config is not None else "val_loss")


def history_accuracy_note(run: RunRecord, weights: WeightsEpoch) -> str:
    """One sentence when History shows this run's test accuracy at another epoch than the saved weights'
    ("" when both read the same epoch): the two numbers differ because they are two epochs."""
    summary = run.summary()
    if summary.test_acc is None or summary.epoch is None or summary.epoch == weights.epoch:
        return ""
    where = (_("its {best_epoch}, {epoch}").format(best_epoch=best_epoch_name(weights.monitor), epoch=summary.epoch)
             if summary.by.value == "best" else _("its last epoch, {epoch}").format(epoch=summary.epoch))
    return _("History and Compare read this run at {where}: test accuracy {acc} there. The accuracy here is that "
             "of the saved weights ({weights}).").format(where=where, acc=acc_percent(summary.test_acc),
                                                         weights=weights.text())


def inspect_model(model: MLP, data: Dataset) -> Inspection:
    """Predictions, confusion matrix, per-class accuracy and first-layer weights of ``model`` on the test split."""
    if model.sizes[0] != data.num_features:
        raise ValueError(_("the network expects {expected} inputs but the images have {found}").format(
            expected=model.sizes[0], found=data.num_features))
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
        raise FileNotFoundError(_("no saved weights at {path}: the run ended before training finished").format(
            path=path))
    return inspect_model(MLP.load(str(path)), data)
