"""Batch gathering on a second thread: the next few batches are copied out while the current ones train.

Why: gathering a batch (``np.take`` of 64 random rows of the 188 MB training set) is mostly waiting on
memory, about a tenth of an epoch of 784-128-10 at batch 64. ``np.take`` releases the GIL, so a helper
thread can gather the next chunk of batches while the training thread runs BLAS and the optimizer.
Batches are gathered a chunk (several batches) at a time into one of two buffers, so the threads meet
once per chunk, not once per batch. The batches are exactly those ``order`` names, in that order.
"""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np


class BatchPrefetcher:
    """Yields ``(xb, yb)`` for consecutive batches of ``order``, gathered one chunk ahead on a helper thread.

    ``xb`` is a view into a reused buffer in ``dtype``, valid until the iteration after the next chunk
    starts: use it within the loop body, as ``fit`` does. ``chunk`` batches are gathered per hand-over.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, dtype: np.dtype, chunk: int = 8):
        self.x, self.y, self.batch_size = x, y, batch_size
        rows = batch_size * chunk
        self._x_buffers = [np.empty((rows, x.shape[1]), dtype=dtype) for _ in range(2)]
        self._y_buffers = [np.empty(rows, dtype=y.dtype) for _ in range(2)]
        self._staging = np.empty((rows, x.shape[1]), dtype=x.dtype) if x.dtype != dtype else None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="batch-prefetch")

    def _gather(self, idx: np.ndarray, which: int) -> int:
        xb, yb = self._x_buffers[which][:len(idx)], self._y_buffers[which][:len(idx)]
        if self._staging is None:
            np.take(self.x, idx, axis=0, out=xb, mode="clip")  # mode="clip": no temporary (see fit)
        else:
            xb[...] = np.take(self.x, idx, axis=0, out=self._staging[:len(idx)], mode="clip")
        np.take(self.y, idx, out=yb, mode="clip")
        return len(idx)

    def batches(self, order: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The batches of one epoch, in ``order``; the next chunk is gathered while this one is used."""
        rows = len(self._y_buffers[0])
        chunks = [order[i:i + rows] for i in range(0, len(order), rows)]
        pending: Future[int] | None = self._pool.submit(self._gather, chunks[0], 0) if chunks else None
        for c in range(len(chunks)):
            assert pending is not None
            filled, which = pending.result(), c % 2
            pending = self._pool.submit(self._gather, chunks[c + 1], 1 - which) if c + 1 < len(chunks) else None
            xs, ys = self._x_buffers[which], self._y_buffers[which]
            for start in range(0, filled, self.batch_size):
                stop = min(start + self.batch_size, filled)
                yield xs[start:stop], ys[start:stop]

    def close(self) -> None:
        """Stop the helper thread (after the chunk in flight, if any)."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> BatchPrefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
