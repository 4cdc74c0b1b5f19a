"""The training loop: seeded mini-batches, evaluation after every epoch, and Keras-style callbacks.

``fit`` never raises for a run that goes wrong numerically: ``DivergenceGuard`` (on by default) ends it with
status DIVERGED and a message. Stopping and pausing are callbacks too (``StopOnEvent``, ``PauseOnEvent``);
see ``nn.callbacks``.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import compute
from .callbacks import CallbackList, DivergenceGuard, RunState
from .data import Dataset
from .evaluate import evaluate
from .mlp import MLP, REDUCTIONS
from .optim import Optimizer
from .pixels import as_inputs
from .status import RunStatus

FINISHED, STOPPED, DIVERGED = RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.DIVERGED


@dataclass(frozen=True)
class FitOptions:
    """How to train: epochs are numbered from 1 and ``fit`` trains ``initial_epoch + 1 .. epochs``
    (Keras's convention), so a run checkpointed after epoch k continues with ``initial_epoch=k``.

    ``reduction`` is "mean" or "sum" over the batch (see ``MLP.backprop``); ``l2`` the weight decay factor.
    """

    epochs: int
    batch_size: int
    l2: float = 0.0
    seed: int = 0
    reduction: str = "mean"
    initial_epoch: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {self.batch_size}")
        if not 0 <= self.initial_epoch <= self.epochs:
            raise ValueError(f"need 0 <= initial_epoch <= epochs, got initial_epoch={self.initial_epoch}, "
                             f"epochs={self.epochs}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if not self.l2 >= 0:
            raise ValueError(f"l2 must be >= 0, got {self.l2}")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {self.reduction!r}")


@dataclass
class TrainResult:
    """What a call of ``fit`` produced: one logs dict per epoch it finished, the final status and a message."""

    history: list[dict[str, Any]] = field(default_factory=list)
    status: RunStatus = FINISHED
    message: str = ""


def fit(model: MLP, optimizer: Optimizer, data: Dataset, options: FitOptions,
        callbacks: Iterable[Any] = ()) -> TrainResult:
    """Train ``model`` on ``data.x_train`` for epochs ``options.initial_epoch + 1 .. options.epochs``.

    Epoch e's shuffle depends only on (seed, e), so the same model, optimizer, data and options give an
    identical history, and a run resumed from a checkpoint after epoch k replays the rest exactly. After
    each epoch ``logs`` holds: epoch (1-based), train_loss (mean of the epoch's batch cross-entropies, per
    example in either reduction; every logged loss is the cross-entropy alone), l2_penalty (the L2 term of the
    objective with the epoch's final weights), train_acc (over the epoch's batches), val_loss and val_acc
    (only when ``data`` has a validation split), test_loss, test_acc, seconds (this epoch's training and
    evaluation), elapsed, lr, majority_fraction and dead_fraction (on the test split, see ``evaluate``). The
    logs dict is appended to the history, then each callback's ``on_epoch_end`` gets it. A
    ``DivergenceGuard`` is added first unless ``callbacks`` holds one; an epoch whose evaluation overflows is
    still logged, then the run ends.
    """
    callbacks = list(callbacks)
    if not any(isinstance(cb, DivergenceGuard) for cb in callbacks):
        callbacks.insert(0, DivergenceGuard())
    run = RunState(model, optimizer, options, data)
    hooks = CallbackList(callbacks, run)
    # products in fixed blocks, subnormals flushed: the same numbers at any thread count and load
    with compute.arithmetic(), np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        _train(run, hooks, data)
    return TrainResult(run.history, run.status, run.message)


def _train(run: RunState, hooks: CallbackList, data: Dataset) -> None:
    """The epochs: each one trained, evaluated, logged and handed to the callbacks, until the last or a stop."""
    model, optimizer, options = run.model, run.optimizer, run.options
    batches = _Batches(data.x_train, data.y_train, options.batch_size, model.dtype)
    hooks.call(hooks.train_begin, {"epochs": options.epochs, "initial_epoch": options.initial_epoch,
                                   "batches_per_epoch": batches.per_epoch})
    started = time.perf_counter()
    for epoch in range(options.initial_epoch + 1, options.epochs + 1):
        run.epoch, epoch_start = epoch, time.perf_counter()
        model.dropout_rng = np.random.default_rng([options.seed, epoch, 1])  # like the shuffle: (seed, epoch)
        hooks.call(hooks.epoch_begin, epoch, {})
        trained = _train_epoch(run, hooks, batches, epoch)
        if trained is None:
            break
        logs = {"epoch": epoch, **trained, **_evaluation(model, data), "l2_penalty": model.l2_penalty(options.l2)}
        now = time.perf_counter()
        logs.update(seconds=now - epoch_start, elapsed=now - started, lr=optimizer.lr)
        run.history.append(logs)
        hooks.call(hooks.epoch_end, epoch, logs)
        if run.stop_requested:
            break
    hooks.call(hooks.train_end, {"status": run.status, "message": run.message})


def _train_epoch(run: RunState, hooks: CallbackList, batches: _Batches, epoch: int) -> dict[str, float] | None:
    """One pass over the shuffled training set: its train_loss and train_acc, or None if a stop was requested."""
    model, optimizer, options = run.model, run.optimizer, run.options
    begin, end = hooks.batch_begin, hooks.batch_end
    loss_sum, correct, batch = 0.0, 0, 0
    for batch, (xb, yb) in enumerate(batches.epoch(options.seed, epoch)):
        for hook in begin:
            hook(batch, {})
        if run.stop_requested:
            return None
        loss, batch_correct = model.backprop(xb, yb, options.l2, options.reduction)
        optimizer.step([model.flat_params], [model.flat_grads])
        loss_sum += loss
        correct += batch_correct
        for hook in end:
            hook(batch, {"loss": loss, "correct": batch_correct, "size": len(yb)})
        if run.stop_requested:
            return None
    return {"train_loss": loss_sum / (batch + 1), "train_acc": correct / batches.size}


def _evaluation(model: MLP, data: Dataset) -> dict[str, float]:
    """The epoch's held-out metrics: validation (when the data has a validation split) and test."""
    logs: dict[str, float] = {}
    if len(data.y_val):
        val = evaluate(model, data.x_val, data.y_val)
        logs.update(val_loss=val["loss"], val_acc=val["acc"])
    test = evaluate(model, data.x_test, data.y_test)
    logs.update(test_loss=test["loss"], test_acc=test["acc"], majority_fraction=test["majority_fraction"],
                dead_fraction=test["dead_fraction"])
    return logs


class _Batches:
    """Shuffled mini-batches gathered into one reused buffer and made network inputs there (``nn.pixels``:
    stored uint8 pixels are scaled to [0, 1], floats converted to the model's dtype).

    The shared training set is never copied or converted whole (a float64 copy of MNIST would be 376 MB per run).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, dtype: np.dtype):
        if not len(y):
            raise ValueError("the training set is empty")
        self.x, self.y, self.batch_size, self.size = x, y, batch_size, len(y)
        self.per_epoch = -(-self.size // batch_size)
        self.gathered = np.empty((min(batch_size, self.size), x.shape[1]), dtype=x.dtype)
        self.inputs = self.gathered if x.dtype == dtype else np.empty(self.gathered.shape, dtype=dtype)

    def epoch(self, seed: int, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Epoch ``epoch``'s batches, in an order drawn from a generator seeded by (seed, epoch) alone."""
        order = np.random.default_rng([seed, epoch]).permutation(self.size)
        for start in range(0, self.size, self.batch_size):
            idx = order[start:start + self.batch_size]
            # mode="clip" (the indices come from a permutation, so it never clips): the default
            # mode="raise" gathers into a temporary and copies it into ``out``, about 30% slower.
            xb = np.take(self.x, idx, axis=0, out=self.gathered[:len(idx)], mode="clip")
            if self.inputs is not self.gathered:
                xb = as_inputs(xb, self.inputs.dtype, out=self.inputs[:len(idx)])
            yield xb, self.y[idx]
