"""Classification metrics on integer labels."""
from __future__ import annotations

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of predictions equal to the labels (0.0 for no examples)."""
    return float(np.mean(y_true == y_pred)) if len(y_true) else 0.0


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts ``C[true, predicted]``."""
    return np.bincount(num_classes * np.asarray(y_true) + np.asarray(y_pred),
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Recall of each class: correct predictions of class k over examples of class k (NaN if none)."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def majority_fraction(y_pred: np.ndarray, num_classes: int = 10) -> float:
    """Share of predictions that go to the single most predicted class: near 1.0 means collapse."""
    return float(np.bincount(y_pred, minlength=num_classes).max() / len(y_pred)) if len(y_pred) else 0.0
