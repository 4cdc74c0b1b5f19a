"""A stored run keeps its within-epoch points and per-layer dynamics; old stores gain the tables."""
import sqlite3

import pytest

from experiments.config import RunConfig
from experiments.runs.lifecycle import execute_run
from experiments.store import RunStore
from experiments.store.dynamics import get_batch_points, get_layer_stats
from experiments.store.schema import MIGRATIONS
from tests.conftest import undo_migrations_from


def test_a_run_stores_its_points_and_layer_stats(store, blobs):
    config = RunConfig(hidden=(16,), epochs=2, batch_size=16, l2=1e-3)
    run_id = store.create_run(config)
    outcome = execute_run(store, run_id, config, load=lambda c: blobs)
    assert outcome.status == "finished"
    points = get_batch_points(store, run_id)
    assert 30 <= len(points) <= 60 and points[-1].x == pytest.approx(2.0)
    assert all(p.l2_penalty > 0 for p in points)
    assert get_batch_points(store, run_id, after_x=1.0)[0].x > 1.0
    stats = get_layer_stats(store, run_id)
    assert [(s.epoch, s.layer) for s in stats] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert sum(stats[0].histograms["weights"].counts) == 20 * 16
    assert store.get_epochs(run_id)[0]["l2_penalty"] > 0
    store.delete_run(run_id)
    assert get_batch_points(store, run_id) == [] and get_layer_stats(store, run_id) == []


def test_an_older_store_gains_the_dynamics_tables(tmp_path):
    path = tmp_path / "old.sqlite"
    RunStore(path).close_all()
    step = next(v for v, sql in MIGRATIONS.items() if "batch_points" in sql)
    with sqlite3.connect(path) as conn:  # back to the version before the dynamics tables (and what came after)
        undo_migrations_from(conn, step)
    store = RunStore(path)
    run_id = store.create_run(RunConfig())
    store.log_epoch(run_id, {"epoch": 1, "train_loss": 0.5, "l2_penalty": 0.1})
    assert store.get_epochs(run_id)[0]["l2_penalty"] == 0.1 and get_batch_points(store, run_id) == []
