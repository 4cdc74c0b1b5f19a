"""Softmax cross-entropy, computed stably, and its fused gradient."""
from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) row-wise via log-sum-exp, so no exp ever overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of integer labels ``y`` under softmax(logits)."""
    return float(-log_softmax(logits)[np.arange(len(y)), y].mean())


def softmax_cross_entropy_grad(logits: np.ndarray, y: np.ndarray, scale: float) -> tuple[float, np.ndarray]:
    """Return (mean cross-entropy, gradient) and overwrite ``logits`` with the gradient.

    The fused gradient of softmax followed by cross-entropy is (softmax(z) - onehot(y)) * scale, where
    scale is 1/n for a mean over the batch and 1 for a sum.
    """
    rows = np.arange(len(y))
    logits -= logits.max(axis=1, keepdims=True)
    target_logit = logits[rows, y]  # a copy (fancy indexing), taken before exp overwrites it
    np.exp(logits, out=logits)
    totals = logits.sum(axis=1, keepdims=True)
    logits /= totals
    # -log p[y] = log(sum exp) - z_y: the log-sum-exp form, exact even where p[y] underflows to 0.
    loss = float(np.mean(np.log(totals[:, 0]) - target_logit))
    logits[rows, y] -= 1
    logits *= scale
    return loss, logits
