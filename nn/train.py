"""The training loop: seeded mini-batches, Keras-style callbacks, stop and pause, divergence.

``fit`` never raises for a run that goes wrong numerically: a non-finite loss ends it with status
"diverged" and a message. A set ``stop_event`` ends it within one batch with status "stopped".
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .data import Dataset
from .mlp import MLP
from .optim import Optimizer
from .status import RunStatus

FINISHED, STOPPED, DIVERGED = RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.DIVERGED
# A mean cross-entropy this large means the correct class gets probability below e^-10000: the weights
# have blown up even if the arithmetic has not yet overflowed to inf or NaN (e.g. every ReLU died).
EXPLODED_LOSS = 1e4


class Callback(Protocol):
    """Anything with ``on_epoch_end(epoch, logs)``; ``on_train_begin``/``on_train_end`` are optional."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...


@dataclass
class TrainResult:
    """What a run produced: one logs dict per finished epoch, the final status and a message."""

    history: list[dict] = field(default_factory=list)
    status: str = FINISHED
    message: str = ""


def evaluate(model: MLP, x: np.ndarray, y: np.ndarray, l2: float = 0.0, chunk: int = 2000) -> dict:
    """Loss, accuracy, prediction collapse and dead hidden units of ``model`` on a whole split."""
    total_loss, correct = 0.0, 0
    pred_counts = np.zeros(model.sizes[-1], dtype=np.int64)
    ever_active = [np.zeros(width, dtype=bool) for width in model.sizes[1:-1]]
    for start in range(0, len(x), chunk):
        xb, yb = np.asarray(x[start:start + chunk], dtype=model.dtype), y[start:start + chunk]
        layer_outputs = model._forward(xb)
        for active, hidden in zip(ever_active, layer_outputs[1:-1]):
            active |= (hidden > 0).any(axis=0)
        logits = layer_outputs[-1].astype(np.float64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        total_loss += float(np.sum(log_norm - shifted[np.arange(len(yb)), yb]))
        pred = logits.argmax(axis=1)
        correct += int(np.count_nonzero(pred == yb))
        pred_counts += np.bincount(pred, minlength=len(pred_counts))
    n = max(len(x), 1)
    loss = total_loss / n + 0.5 * l2 * sum(float(np.vdot(W, W)) for W in model.weights)
    dead = sum(int((~a).sum()) for a in ever_active)
    hidden_units = sum(model.sizes[1:-1])
    return {
        "loss": loss,
        "acc": correct / n,
        "majority_fraction": float(pred_counts.max() / n),
        "dead_fraction": dead / hidden_units if model.activation == "relu" and hidden_units else 0.0,
    }


def fit(model: MLP, optimizer: Optimizer, data: Dataset, *, epochs: int, batch_size: int, l2: float = 0.0,
        seed: int = 0, reduction: str = "mean", callbacks: Iterable[Callback] = (),
        stop_event: threading.Event | None = None, pause_event: threading.Event | None = None) -> TrainResult:
    """Train ``model`` on ``data.x_train`` for ``epochs`` epochs of shuffled mini-batches.

    The shuffling generator is seeded by ``seed``, so the same model, optimizer, data and seed give an
    identical history. A loss that is not finite, or above EXPLODED_LOSS per example, ends the run as
    "diverged". After every epoch each callback's ``on_epoch_end(epoch, logs)`` gets ``logs`` with:
    epoch (1-based), train_loss (mean of the epoch's batch losses, per example in either reduction),
    train_acc (over the epoch's batches),
    test_loss, test_acc (whole test split), seconds (this epoch's training and evaluation), elapsed, lr,
    majority_fraction (share of test images given the most common prediction) and dead_fraction (hidden
    ReLU units never active on the test split). While ``pause_event`` is set the loop waits between batches.
    """
    callbacks = list(callbacks)
    stop_event = stop_event or threading.Event()
    rng = np.random.default_rng(seed)
    x_train, y_train = data.x_train, data.y_train
    n = len(x_train)
    # Batches are gathered into one reused buffer, and converted to the model's dtype there, one batch at a
    # time: the shared training set is never copied (a float64 copy of MNIST would be 376 MB per run).
    gathered = np.empty((batch_size, x_train.shape[1]), dtype=x_train.dtype)
    converted = gathered if x_train.dtype == model.dtype else np.empty(gathered.shape, dtype=model.dtype)
    result = TrainResult()
    _notify(callbacks, "on_train_begin", {"epochs": epochs, "batches_per_epoch": math.ceil(n / batch_size)})
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(1, epochs + 1):
            epoch_start = time.perf_counter()
            order = rng.permutation(n)
            loss_sum, correct, batches = 0.0, 0, 0
            for start in range(0, n, batch_size):
                while pause_event is not None and pause_event.is_set() and not stop_event.is_set():
                    time.sleep(0.05)
                if stop_event.is_set():
                    result.status = STOPPED
                    result.message = f"stopped by the user during epoch {epoch}"
                    break
                idx = order[start:start + batch_size]
                # mode="clip" (the indices come from a permutation, so it never clips): the default
                # mode="raise" gathers into a temporary and copies it into ``out``, about 30% slower.
                xb = np.take(x_train, idx, axis=0, out=gathered[:len(idx)], mode="clip")
                if converted is not gathered:
                    xb = converted[:len(idx)]
                    xb[...] = gathered[:len(idx)]
                yb = y_train[idx]
                loss, batch_correct = model.backprop(xb, yb, l2, reduction)
                # ``loss`` is per example in both reductions (see MLP.backprop), so one threshold fits both.
                if not math.isfinite(loss) or loss > EXPLODED_LOSS:
                    result.status = DIVERGED
                    what = f"became {loss}" if not math.isfinite(loss) else f"exploded to {loss:.3g}"
                    result.message = (f"the loss {what} in epoch {epoch}, batch {batches + 1}: "
                                      f"the learning rate ({optimizer.lr:g}) is too high, lower it")
                    break
                optimizer.step([model.flat_params], [model.flat_grads])
                loss_sum += loss
                correct += batch_correct
                batches += 1
            if result.status != FINISHED:
                break
            test = evaluate(model, data.x_test, data.y_test, l2)
            if not math.isfinite(test["loss"]):
                result.status = DIVERGED
                result.message = (f"the parameters overflowed in epoch {epoch}: the learning rate "
                                  f"({optimizer.lr:g}) is too high, lower it")
                break
            now = time.perf_counter()
            logs = {
                "epoch": epoch,
                "train_loss": loss_sum / batches,
                "train_acc": correct / n,
                "test_loss": test["loss"],
                "test_acc": test["acc"],
                "seconds": now - epoch_start,
                "elapsed": now - started,
                "lr": optimizer.lr,
                "majority_fraction": test["majority_fraction"],
                "dead_fraction": test["dead_fraction"],
            }
            result.history.append(logs)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
    _notify(callbacks, "on_train_end", {"status": result.status, "message": result.message})
    return result


def _notify(callbacks: list, hook: str, logs: dict) -> None:
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None:
            method(logs)
