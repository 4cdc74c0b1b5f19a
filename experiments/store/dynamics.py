"""Storing and reading a run's within-epoch points and per-layer dynamics (tables of schema.DYNAMICS_TABLES).

Points arrive a few at a time (``nn.batch_curve.BatchCurve`` flushes every few points) and each call writes
them in one transaction; a layer-stats call writes one epoch's layers in one. Rows go with their run: the
tables reference ``runs`` with ON DELETE CASCADE, and a write for a deleted run raises StoreError (as
``log_epoch`` does), so a run deleted while it trains stops.

The callbacks that record a run's points and stats as it trains (``dynamics_callbacks``) write one
transaction per flush: the ``LayerMonitor`` runs first at an epoch's end and leaves its stats with the
writer, and the ``BatchCurve``'s end-of-epoch flush stores them with the epoch's last points (a commit
costs a disk sync; see benchmarks/bench_dynamics.py).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from experiments.store.store import RunStore
from nn.batch_curve import BatchCurve, BatchPoint
from nn.dynamics import Histogram, LayerMonitor, LayerStats

POINT_COLUMNS = ("epoch", "batch", "x", "loss", "acc", "l2_penalty")
LAYER_COLUMNS = ("epoch", "layer", "weight_norm", "grad_norm", "update_ratio", "dead_fraction", "saturated_fraction")


POINT_SQL = (f"INSERT OR REPLACE INTO batch_points (run_id, {', '.join(POINT_COLUMNS)}) "
             f"VALUES (?, {', '.join('?' * len(POINT_COLUMNS))})")
LAYER_SQL = (f"INSERT OR REPLACE INTO layer_stats (run_id, {', '.join(LAYER_COLUMNS)}, histograms) "
             f"VALUES (?, {', '.join('?' * (len(LAYER_COLUMNS) + 1))})")


def log_dynamics(store: RunStore, run_id: int, points: Sequence[BatchPoint] = (),
                 stats: Sequence[LayerStats] = ()) -> None:
    """Store within-epoch points and per-layer stats of ``run_id``, all in one transaction."""
    rows = [(POINT_SQL, (run_id, *(_finite(getattr(p, c)) for c in POINT_COLUMNS))) for p in points]
    rows += [(LAYER_SQL, (run_id, *(_finite(getattr(s, c)) for c in LAYER_COLUMNS),
                          json.dumps({k: asdict(h) for k, h in s.histograms.items()}))) for s in stats]
    if rows:
        store.transaction(rows)


def log_batch_points(store: RunStore, run_id: int, points: Sequence[BatchPoint]) -> None:
    """Store within-epoch points of ``run_id`` (one transaction for all of them)."""
    log_dynamics(store, run_id, points=points)


def log_layer_stats(store: RunStore, run_id: int, stats: Sequence[LayerStats]) -> None:
    """Store one epoch's per-layer dynamics of ``run_id`` (one transaction)."""
    log_dynamics(store, run_id, stats=stats)


def get_batch_points(store: RunStore, run_id: int, after_x: float = -1.0) -> list[BatchPoint]:
    """The run's within-epoch points in order (only those beyond ``after_x``, for a live chart's new points)."""
    rows = store.execute(f"SELECT {', '.join(POINT_COLUMNS)} FROM batch_points WHERE run_id = ? AND x > ? "
                          f"ORDER BY x", (run_id, after_x)).fetchall()
    return [BatchPoint(int(r["epoch"]), int(r["batch"]), float(r["x"]), _nan(r["loss"]), _nan(r["acc"]),
                       _nan(r["l2_penalty"])) for r in rows]


def batch_progress(store: RunStore, run_ids: Sequence[int]) -> dict[int, float]:
    """How far each run's within-epoch points reach (the largest x), for a live chart to know it moved."""
    ids = [int(i) for i in run_ids]
    if not ids:
        return {}
    rows = store.execute(f"SELECT run_id, max(x) FROM batch_points WHERE run_id IN ({', '.join('?' * len(ids))}) "
                          f"GROUP BY run_id", ids).fetchall()
    return {int(r[0]): float(r[1]) for r in rows}


def get_layer_stats(store: RunStore, run_id: int) -> list[LayerStats]:
    """The run's per-layer dynamics, by epoch then layer."""
    rows = store.execute(f"SELECT {', '.join(LAYER_COLUMNS)}, histograms FROM layer_stats WHERE run_id = ? "
                          f"ORDER BY epoch, layer", (run_id,)).fetchall()
    out = []
    for r in rows:
        hists = {k: Histogram(float(h["lo"]), float(h["hi"]), [int(c) for c in h["counts"]])
                 for k, h in json.loads(r["histograms"] or "{}").items()}
        out.append(LayerStats(**{c: r[c] for c in LAYER_COLUMNS}, histograms=hists))
    return out


def _finite(value: object) -> object:
    """NaN and infinity are stored as NULL (SQLite has no NaN), like an epoch's losses."""
    return None if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")) else value


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


DynamicsWrite = Callable[[Sequence[BatchPoint], Sequence[LayerStats]], None]  # points and stats, one write


class _Writer:
    """Writes points as they are flushed, with any layer stats waiting for them."""

    def __init__(self, write: DynamicsWrite):
        self.write = write
        self.waiting: list[LayerStats] = []

    def points(self, batch: list[BatchPoint]) -> None:
        stats, self.waiting = self.waiting, []
        self.write(batch, stats)

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
    return dynamics_recorders(lambda points, stats: log_dynamics(store, run_id, points, stats), seed)


def dynamics_recorders(write: DynamicsWrite, seed: int = 0) -> list[BatchCurve | LayerMonitor]:
    """The same recorders handing each write to ``write`` (a run on Ray sends them to the store's process)."""
    writer = _Writer(write)
    return [LayerMonitor(writer.layers, seed=seed), _Curve(writer)]
