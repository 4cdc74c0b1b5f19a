"""Softmax cross-entropy, computed stably: for evaluation (``cross_entropy``) and training (the fused gradient).

The training functions' NumPy code is the reference; where Numba runs (nn/kernels.py) two compiled passes
around NumPy's exp do the same work about three times faster on a batch's (n, 10) logits: the gradient
is bit-identical, the loss (added up in float64, not float32) equal to float32 rounding.
"""
from __future__ import annotations

import numpy as np

from . import kernels


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) row-wise via log-sum-exp, so no exp ever overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, y: np.ndarray, reduction: str = "mean") -> float:
    """Cross-entropy of integer labels ``y`` under softmax(logits): the mean over rows, or their sum
    (``reduction="sum"``, for totals accumulated over chunks). 0.0 for no rows."""
    if not len(y):
        return 0.0
    per_row = -log_softmax(logits)[np.arange(len(y)), y]
    return float(per_row.sum() if reduction == "sum" else per_row.mean())


def softmax_cross_entropy_grad(logits: np.ndarray, y: np.ndarray, scale: float,
                               pred: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Return (mean cross-entropy, gradient) and overwrite ``logits`` with the gradient.

    The fused gradient of softmax followed by cross-entropy is (softmax(z) - onehot(y)) * scale, where
    scale is 1/n for a mean over the batch and 1 for a sum. ``pred`` is each row's argmax, if the caller
    has it already. The (n, 10) arrays are tiny, so the cost is per call: every step below is the
    cheapest NumPy call for its job (a row's max is its argmax's logit; flat indices select one entry
    per row), which makes this several times faster than the obvious ``max(axis=1)`` / ``np.mean`` code.
    That NumPy code is the reference for ``_fused``, which runs instead where Numba does (and finds the
    argmax itself).
    """
    if _fusable(logits, y):
        loss, _ = _fused(logits, y, scale)
        return loss, logits
    n, classes = logits.shape
    flat = logits.reshape(-1)  # a view of the same memory
    row_starts = np.arange(0, n * classes, classes)
    if pred is None:
        pred = logits.argmax(axis=1)
    logits -= flat[row_starts + pred][:, None]  # shift by the row max: exp() cannot overflow
    target = row_starts + y
    target_logit = flat[target]  # a copy (fancy indexing), taken before exp overwrites it
    np.exp(logits, out=logits)
    totals = logits.sum(axis=1)
    logits /= totals[:, None]
    # -log p[y] = log(sum exp) - z_y: the log-sum-exp form, exact even where p[y] underflows to 0.
    loss = (float(np.log(totals).sum()) - float(target_logit.sum())) / n
    flat[target] -= 1
    logits *= scale
    return loss, logits


def softmax_cross_entropy_step(logits: np.ndarray, y: np.ndarray, scale: float) -> tuple[float, int, np.ndarray]:
    """A training batch's (mean cross-entropy, correct predictions, gradient), the gradient overwriting
    ``logits`` as in ``softmax_cross_entropy_grad``; a prediction is a row's argmax (first one on ties)."""
    if _fusable(logits, y):
        loss, correct = _fused(logits, y, scale)
        return loss, correct, logits
    pred = logits.argmax(axis=1)
    correct = int(np.count_nonzero(pred == y))
    loss, grad = softmax_cross_entropy_grad(logits, y, scale, pred)
    return loss, correct, grad


def _fusable(logits: np.ndarray, y: np.ndarray) -> bool:
    """The kernels take these: float (n >= 1, classes <= 128) logits, one integer label per row."""
    return (kernels.batch_fusable(logits, ndim=2) and len(logits) > 0 and logits.shape[1] <= 128
            and y.ndim == 1 and y.dtype.kind in "iu")


def _fused(logits: np.ndarray, y: np.ndarray, scale: float) -> tuple[float, int]:
    """The reference's steps in three calls: shift by the row max (and argmax), NumPy's exp, normalise."""
    minus_targets, correct = kernels.softmax_shift_kernel(logits, y)
    np.exp(logits, out=logits)
    logs = kernels.softmax_grad_kernel(logits, y, logits.dtype.type(scale))
    return (logs + minus_targets) / len(logits), correct
