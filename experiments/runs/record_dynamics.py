"""The callbacks that record a stored run's within-epoch points and per-layer dynamics as it trains."""
from __future__ import annotations

from experiments.runs.dynamics_store import log_batch_points, log_layer_stats
from experiments.runs.store import RunStore
from nn.batch_curve import BatchCurve, BatchPoint
from nn.dynamics import LayerMonitor, LayerStats


def dynamics_callbacks(store: RunStore, run_id: int, seed: int = 0) -> list[BatchCurve | LayerMonitor]:
    """A ``BatchCurve`` and a ``LayerMonitor`` writing into ``store`` for ``run_id`` (nn.batch_curve, nn.dynamics)."""

    def points(batch: list[BatchPoint]) -> None:
        log_batch_points(store, run_id, batch)

    def layers(epoch: int, stats: list[LayerStats]) -> None:
        log_layer_stats(store, run_id, stats)

    return [BatchCurve(points), LayerMonitor(layers, seed=seed)]
