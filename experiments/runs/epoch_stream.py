"""A run's results on their way from where it trains (a Ray worker, which never sees the store) to the process
that keeps the store, which writes them as a local run writes its own.

Two users, one piece:

- a **sweep trial** on Ray Tune (``experiments/sweeps/ray_engine.py``) reports each epoch's record
  (``SendEpochs`` with ``tune.report``); the driver's Tune callback stores it (``store_epoch``);
- a **class run** on Ray (``experiments/runs/ray_executor.py``) puts everything a local run writes into an
  ``Outbox``: each epoch's record (the same ``SendEpochs``), its within-epoch points and per-layer stats
  (``store.dynamics.dynamics_recorders``) and its checkpoint's bytes after every epoch (``BackupAndRestore``
  placing them in the outbox); the driver takes them every fraction of a second and ``deliver`` writes each
  into the store (``store_epoch``, ``log_dynamics``, ``place_checkpoint``), so the Train page shows the run
  epoch by epoch and it can be resumed like a local one.

An epoch's record holds the numbers the store keeps (``EPOCH_METRICS``, as plain floats) and the epoch.
"""
from __future__ import annotations

import numbers
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from experiments.runs.checkpoints import LATEST, place_checkpoint
from experiments.store import EPOCH_METRICS, RunStore
from experiments.store.dynamics import dynamics_recorders, log_dynamics
from nn import BackupAndRestore, Callback
from nn.batch_curve import BatchPoint
from nn.dynamics import LayerStats


def epoch_record(epoch: int, logs: dict[str, Any]) -> dict[str, Any]:
    """The numbers of one finished epoch the store keeps, as plain floats, and the epoch."""
    record: dict[str, Any] = {k: float(logs[k]) for k in EPOCH_METRICS
                              if isinstance(logs.get(k), numbers.Real) and not isinstance(logs.get(k), bool)}
    record["epoch"] = int(epoch)
    return record


def store_epoch(store: RunStore, run_id: int, record: dict[str, Any]) -> None:
    """Store one epoch's record sent from a worker (as ``StoreEpochs`` stores a local run's logs)."""
    store.log_epoch(run_id, {k: record.get(k) for k in ("epoch", *EPOCH_METRICS)})


class SendEpochs(Callback):
    """Sends each finished epoch's record with ``send`` (``tune.report`` for a sweep trial, an outbox for a
    class run); ``last`` is the latest record sent."""

    def __init__(self, send: Callable[[dict[str, Any]], Any]):
        self.send = send
        self.last: dict[str, Any] = {}

    def record(self, epoch: int, logs: dict[str, Any]) -> dict[str, Any]:
        return epoch_record(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.last = self.record(epoch, logs)
        self.send(dict(self.last))


class Sent(StrEnum):
    """What a message from a worker carries."""

    TRAINING = "training"      # the data is loaded and checked: training starts
    DYNAMICS = "dynamics"      # within-epoch points and per-layer stats
    EPOCH = "epoch"            # one finished epoch's record
    CHECKPOINT = "checkpoint"  # the run's checkpoint after an epoch, as the bytes of its file


@dataclass(frozen=True)
class Message:
    """One thing a worker sends to the store's process, in the order it happened."""

    kind: Sent
    record: dict[str, Any] | None = None
    points: tuple[BatchPoint, ...] = ()
    stats: tuple[LayerStats, ...] = ()
    checkpoint: bytes = b""


class Outbox:
    """A worker's messages waiting for the driver to take them (thread-safe: training puts, the driver's calls
    take, in other threads of the worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []

    def put(self, message: Message) -> None:
        with self._lock:
            self._messages.append(message)

    def take(self) -> list[Message]:
        """Every message put since the last call, oldest first."""
        with self._lock:
            taken, self._messages = self._messages, []
        return taken

    def recorders(self, seed: int) -> list[Callback]:
        """The callbacks that send what ``execute_run``'s recorders store: epochs, points and layer stats."""
        def dynamics(points: Sequence[BatchPoint], stats: Sequence[LayerStats]) -> None:
            self.put(Message(Sent.DYNAMICS, points=tuple(points), stats=tuple(stats)))
        return [SendEpochs(lambda record: self.put(Message(Sent.EPOCH, record=record))),
                *dynamics_recorders(dynamics, seed)]

    def backup(self, run_id: int, folder: Path) -> BackupAndRestore:
        """A ``BackupAndRestore`` (as ``RunBackup``: naming the run) that sends each checkpoint's bytes; the file
        is written in ``folder`` (the worker's own) and removed once read."""
        def place(final: Path, write: Callable[[Path], Any]) -> None:
            write(final)
            try:
                self.put(Message(Sent.CHECKPOINT, checkpoint=final.read_bytes()))
            finally:
                final.unlink(missing_ok=True)
        return BackupAndRestore(folder / LATEST, place=place, extra={"run_id": int(run_id)})


def deliver(store: RunStore, run_id: int, message: Message) -> None:
    """Write one message from a worker into the store, as the local recorders would have (StoreError if the run
    was deleted meanwhile, as for a local run)."""
    if message.kind is Sent.EPOCH and message.record is not None:
        store_epoch(store, run_id, message.record)
    elif message.kind is Sent.DYNAMICS:
        log_dynamics(store, run_id, message.points, message.stats)
    elif message.kind is Sent.CHECKPOINT:
        place_checkpoint(store, run_id, lambda tmp: tmp.write_bytes(message.checkpoint))
