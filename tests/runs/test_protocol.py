"""The protocol through RunConfig and the one execution path: the validation split, early stopping, the lr
schedule and dropout on real MNIST, and each run's best epoch as the store keeps it."""
import sqlite3

import numpy as np
import pytest

from experiments.config import RunConfig
from experiments.runs.lifecycle import execute_run
from experiments.runs.training import load_data
from experiments.store import RunStore
from experiments.store.best import SummaryBy
from nn import MLP, RunStatus, evaluate


def rows(x: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in x}


def train(store: RunStore, config: RunConfig):
    run_id = store.create_run(config)
    outcome = execute_run(store, run_id, config)
    assert outcome.status == RunStatus.FINISHED, outcome.message
    return store.get_run(run_id), store.get_epochs(run_id)


def test_validation_never_overlaps_training_or_test_and_is_the_same_for_every_run_and_seed(mnist_dir):
    a = load_data(RunConfig(data_dir=mnist_dir, seed=0))
    b = load_data(RunConfig(data_dir=mnist_dir, seed=7, hidden=(32,), train_size=5000))
    assert (len(a.y_train), len(a.y_val), len(b.y_train)) == (50_000, 10_000, 5000)
    np.testing.assert_array_equal(a.x_val, b.x_val)  # the seed and train_size do not move the split
    val, full = rows(a.x_val), rows(load_data(RunConfig(data_dir=mnist_dir, val_size=0)).x_train)
    assert val.isdisjoint(rows(a.x_train)) and val.isdisjoint(rows(b.x_train))
    test = rows(a.x_test)
    assert val & test <= full & test  # only images MNIST itself has in both of its files
    none = load_data(RunConfig(data_dir=mnist_dir, val_size=0))
    assert not none.has_validation and len(none.y_train) == 60_000  # the report's protocol


def test_early_stopping_restores_the_best_epochs_weights(store, mnist_dir):
    # a tiny training set and a high lr overfit within a few epochs, so val_loss turns up and the run stops
    config = RunConfig(data_dir=mnist_dir, hidden=(64,), lr=0.01, epochs=30, train_size=500, val_size=2000,
                       early_stopping="val_loss", patience=2)
    run, epochs = train(store, config)
    assert run.epochs_done < config.epochs, "early stopping should have ended this run before epoch 30"
    best = min(epochs, key=lambda e: e["val_loss"])
    assert run.best_epoch == best["epoch"] < run.epochs_done
    assert f"early stopping after epoch {run.epochs_done}" in run.message
    assert "best val_loss" in run.message and f"epoch {run.best_epoch}" in run.message
    data = load_data(config)
    model = MLP.load(store.weights_path(run.id))
    val, test = evaluate(model, data.x_val, data.y_val), evaluate(model, data.x_test, data.y_test)
    assert val["loss"] == pytest.approx(best["val_loss"], rel=1e-5) and test["acc"] == best["test_acc"]
    assert (run.best_val_loss, run.test_acc_at_best) == (best["val_loss"], best["test_acc"])
    assert run.summary().epoch == run.best_epoch and run.summary(SummaryBy.LAST).epoch == run.epochs_done


def test_a_step_schedule_halves_the_lr_at_the_right_epoch(store, mnist_dir):
    config = RunConfig(data_dir=mnist_dir, hidden=(16,), lr=0.01, epochs=5, train_size=500, val_size=500,
                       schedule="step", step_every=2, step_factor=0.5)
    _, epochs = train(store, config)
    assert [e["lr"] for e in epochs] == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025])
    _, warm = train(store, config.replace(schedule="constant", warmup_epochs=3))
    assert [e["lr"] for e in warm] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01])


def _gap(config: RunConfig) -> float:
    """Validation loss less the loss on the whole training set (a pass without dropout), last 3 epochs."""
    from experiments.runs.training import train_config
    _, result = train_config(config, load_data(config), train_eval_epochs=range(1, config.epochs + 1))
    return float(np.mean([e["val_loss"] - e["full_train_loss"] for e in result.history[-3:]]))


def test_dropout_narrows_the_train_validation_gap_on_a_small_training_set(mnist_dir):
    config = RunConfig(data_dir=mnist_dir, hidden=(256,), lr=1e-3, epochs=20, train_size=1000, val_size=5000)
    without, with_dropout = _gap(config), _gap(config.replace(dropout=0.5))
    assert without > 0.2  # 1,000 images: the plain network overfits (measured: about 0.39)
    assert with_dropout < 0.9 * without, (with_dropout, without)  # measured: about 0.32


def test_optimizer_constants_and_init_reach_the_network(mnist_dir):
    from experiments.runs.training import build_model, build_optimizer
    assert build_optimizer(RunConfig(optimizer="momentum", lr=0.1, momentum=0.5)).momentum == 0.5
    adam = build_optimizer(RunConfig(beta1=0.8, beta2=0.99))
    assert (adam.beta1, adam.beta2) == (0.8, 0.99)
    assert build_optimizer(RunConfig(optimizer="rmsprop", rho=0.7)).rho == 0.7
    small = build_model(RunConfig(init="small"))
    assert small.init == "small" and np.abs(small.weights[0]).std() < 0.02 < build_model(RunConfig()).weights[0].std()
    assert build_model(RunConfig(activation="tanh")).init == "glorot"
    assert build_model(RunConfig(dropout=0.3)).dropout == 0.3


# ------------------------------------------------------------------------------------------ the stored best epoch
def _log(store: RunStore, run_id: int, **metrics: list[float]) -> None:
    for i in range(len(next(iter(metrics.values())))):
        store.log_epoch(run_id, {"epoch": i + 1, "train_loss": 1.0, "train_acc": 0.5, "test_loss": 1.0,
                                 "test_acc": 0.9 + i / 100, **{k: v[i] for k, v in metrics.items()}})


def test_the_best_epoch_follows_the_monitor_and_min_delta(store):
    by_loss = store.create_run(RunConfig())
    _log(store, by_loss, val_loss=[0.5, 0.4, 0.45], val_acc=[0.8, 0.81, 0.9])
    run = store.get_run(by_loss)
    assert (run.best_epoch, run.best_val_loss, run.best_val_acc, run.test_acc_at_best) == (2, 0.4, 0.81, 0.91)
    assert (run.val_acc, run.test_acc, run.best_test_acc) == (0.9, 0.92, 0.92)  # last epoch, peak test
    by_acc = store.create_run(RunConfig(early_stopping="val_acc", min_delta=0.01))
    _log(store, by_acc, val_loss=[0.5, 0.4, 0.3], val_acc=[0.8, 0.809, 0.85])
    assert store.get_run(by_acc).best_epoch == 3
    _log(store, by_acc, val_loss=[0.5, 0.4], val_acc=[0.8, 0.809])  # epochs 1-2 again: 0.809 is no improvement
    assert store.get_run(by_acc).best_epoch == 3
    stalled = store.create_run(RunConfig(early_stopping="val_acc", min_delta=0.01))
    _log(store, stalled, val_loss=[0.5, 0.4], val_acc=[0.8, 0.809])
    assert store.get_run(stalled).best_epoch == 1  # as EarlyStopping counts it, so restored weights match


def test_runs_without_validation_have_no_best_epoch_and_say_they_are_summarised_by_last(store):
    run_id = store.create_run(RunConfig(val_size=0))
    _log(store, run_id, train_loss=[1.0, 0.9])
    run = store.get_run(run_id)
    assert run.best_epoch is None and not run.has_validation
    summary = run.summary(SummaryBy.BEST)
    assert summary.by is SummaryBy.LAST and summary.epoch == 2 and summary.val_acc is None and summary.test_acc == 0.91


OLD_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created TEXT NOT NULL,
    config TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]', group_id TEXT, source TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',
    epochs_done INTEGER NOT NULL DEFAULT 0, train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL,
    best_test_acc REAL, seconds REAL);
CREATE INDEX runs_group ON runs(group_id);
CREATE TABLE epochs (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, seconds REAL, elapsed REAL, lr REAL,
    majority_fraction REAL, dead_fraction REAL, full_train_loss REAL, full_train_acc REAL,
    PRIMARY KEY (run_id, epoch));
PRAGMA user_version = 2;
"""
OLD_CONFIG = ('{"activation": "relu", "batch_size": 64, "data_dir": "", "dtype": "float32", "epochs": 2, '
              '"hidden": [128], "l2": 0.0, "lr": 0.001, "optimizer": "adam", "reduction": "mean", "seed": 0, '
              '"train_size": 0}')


def test_a_store_from_before_validation_is_migrated_and_its_runs_keep_working(tmp_path):
    from experiments.store.schema import SCHEMA_VERSION
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.execute("INSERT INTO runs (name, created, config, status, epochs_done, test_acc) VALUES "
                     "('old', '2026-01-01', ?, 'finished', 2, 0.97)", (OLD_CONFIG,))
        conn.execute("INSERT INTO epochs (run_id, epoch, test_acc, lr) VALUES (1, 1, 0.96, 0.001), (1, 2, 0.97, 0.001)")
    conn.close()
    store = RunStore(path)
    assert store.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    old = store.get_run(1)
    assert old.config is not None and old.config.val_size == 0 and old.config.early_stopping == "off"
    assert not old.has_validation and old.best_epoch is None and old.summary().by is SummaryBy.LAST
    assert [e["val_acc"] for e in store.get_epochs(1)] == [None, None] and old.test_acc == 0.97
    new = store.create_run(RunConfig())
    assert store.get_run(new).has_validation and store.get_run(new).config.val_size == 10_000
    store.close_all()
