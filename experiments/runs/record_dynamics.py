"""The callbacks that record a stored run's within-epoch points and per-layer dynamics as it trains.

One write per flush: the ``LayerMonitor`` runs first at an epoch's end and leaves its stats with the writer,
and the ``BatchCurve``'s end-of-epoch flush stores them with the epoch's last points in one transaction (a
commit costs a disk sync; see benchmarks/bench_dynamics.py).
"""
from __future__ import annotations

from experiments.store import RunStore
from experiments.store.dynamics import log_dynamics
from nn.batch_curve import BatchCurve, BatchPoint
from nn.dynamics import LayerMonitor, LayerStats


class _Writer:
    """Stores points as they are flushed, with any layer stats waiting for them."""

    def __init__(self, store: RunStore, run_id: int):
        self.store, self.run_id = store, run_id
        self.waiting: list[LayerStats] = []

    def points(self, batch: list[BatchPoint]) -> None:
        stats, self.waiting = self.waiting, []
        log_dynamics(self.store, self.run_id, batch, stats)

    def layers(self, epoch: int, stats: list[LayerStats]) -> None:
        self.waiting.extend(stats)

    def flush(self) -> None:
        """Stats left without points (a run whose epoch produced none) are stored on their own."""
        if self.waiting:
            self.points([])


class _Curve(BatchCurve):
    """The batch curve; after its end-of-epoch flush, any layer stats still waiting are stored too."""

    def __init__(self, writer: _Writer):
        super().__init__(writer.points)
        self.writer = writer

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        super().on_epoch_end(epoch, logs)
        self.writer.flush()


def dynamics_callbacks(store: RunStore, run_id: int, seed: int = 0) -> list[BatchCurve | LayerMonitor]:
    """A ``LayerMonitor`` and a ``BatchCurve`` writing into ``store`` for ``run_id`` (nn.dynamics, nn.batch_curve);
    the monitor first, so an epoch's stats and last points share one write."""
    writer = _Writer(store, run_id)
    return [LayerMonitor(writer.layers, seed=seed), _Curve(writer)]
