"""Within-epoch curves: the training cross-entropy and accuracy every k batches, for charts that move mid-epoch.

An epoch-level curve cannot show what happens inside an epoch (an lr that oscillates, a loss that blows up
after 300 batches). ``BatchCurve`` averages the batches since its last point, so each point summarises k
batches rather than one noisy one, and ``k`` is chosen so that an epoch gives about ``points_per_epoch``
points whatever the batch size. Points go to ``sink`` every ``flush_seconds`` (the caller stores them: one
write every few seconds keeps a long epoch's chart moving without a transaction per point), and always at the
end of an epoch and of training.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .callbacks import Callback

POINTS_PER_EPOCH = 25


@dataclass(frozen=True)
class BatchPoint:
    """The mean cross-entropy and accuracy over the batches ``batch - batches + 1 .. batch`` of ``epoch``.

    ``x`` is the epoch as a fraction (epoch 2 half done is 1.5), so the points line up under an epoch curve
    drawn at x = 1, 2, ...; ``l2_penalty`` is the L2 term of the objective with the weights at that point.
    """

    epoch: int
    batch: int          # batches done in the epoch (1-based)
    x: float
    loss: float
    acc: float
    l2_penalty: float


class BatchCurve(Callback):
    """Logs a ``BatchPoint`` every ``every`` batches (default: about ``points_per_epoch`` per epoch).

    ``sink`` receives the new points once ``flush_seconds`` have passed since it last did, and at each
    epoch's end (an empty list is never sent); ``points`` keeps them all for callers without a sink. The
    per-batch work is a few additions.
    """

    def __init__(self, sink: Callable[[list[BatchPoint]], None] | None = None, *,
                 points_per_epoch: int = POINTS_PER_EPOCH, every: int | None = None, flush_seconds: float = 2.0):
        if points_per_epoch < 1 or (every is not None and every < 1) or not flush_seconds >= 0:
            raise ValueError("points_per_epoch and every must be >= 1, flush_seconds >= 0")
        self.sink, self.points_per_epoch, self.every = sink, points_per_epoch, every
        self.flush_seconds, self._flushed = flush_seconds, time.monotonic()
        self.points: list[BatchPoint] = []
        self._pending: list[BatchPoint] = []
        self._per_epoch = 1
        self._loss = self._correct = self._size = self._batches = 0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self._per_epoch = max(1, int(logs.get("batches_per_epoch", 1)))
        if self.every is None:
            self.every = max(1, round(self._per_epoch / self.points_per_epoch))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._loss = self._correct = self._size = self._batches = 0

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self._loss += logs["loss"]
        self._correct += logs["correct"]
        self._size += logs["size"]
        self._batches += 1
        if (batch + 1) % (self.every or 1) == 0 or batch + 1 == self._per_epoch:
            self._point(batch + 1)

    def _point(self, done: int) -> None:
        epoch, options = self.loop.epoch, self.loop.options
        point = BatchPoint(epoch, done, epoch - 1 + done / self._per_epoch, self._loss / self._batches,
                           self._correct / max(self._size, 1), self.loop.model.l2_penalty(options.l2))
        self._loss = self._correct = self._size = self._batches = 0
        self.points.append(point)
        self._pending.append(point)
        if time.monotonic() - self._flushed >= self.flush_seconds:
            self.flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.flush()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.flush()  # a run stopped mid-epoch keeps the points it made

    def flush(self) -> None:
        """Hand the points not yet sent to the sink."""
        if self._pending and self.sink is not None:
            self.sink(self._pending)
        self._pending, self._flushed = [], time.monotonic()
