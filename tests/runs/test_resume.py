"""Resume, continue and re-queue through the one execution path: a run trained in pieces equals one trained
straight, bit for bit; checkpoints follow the run (and vanish with it); runs queued by a dead process come back."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from experiments.config import RunConfig
from experiments.runs.checkpoints import (
    ResumeError,
    RunBackup,
    checkpoint_bytes,
    estimated_checkpoint_bytes,
    latest_path,
    load_start,
)
from experiments.runs.lifecycle import ResumePlan, StoreEpochs, execute_run, requeue
from experiments.runs.runner import RunManager
from experiments.store import RunStore
from experiments.store.records import EPOCH_METRICS
from experiments.store.store import ORPHAN_NOTE
from nn import MLP, Callback, EarlyStopping, FitOptions, fit, load_checkpoint, split_validation
from nn.optim import Adam
from nn.status import RunStatus
from tests.conftest import make_blobs

BLOBS = make_blobs(n_train=1500, n_test=200, features=784)
CONFIG = RunConfig(hidden=(16,), epochs=5, batch_size=50, lr=0.01, seed=3)
TIMING = ("seconds", "elapsed")


def numbers(epochs: list[dict]) -> list[dict]:
    """Every logged number of every epoch except the timing columns."""
    return [{k: e.get(k) for k in ("epoch", *EPOCH_METRICS) if k not in TIMING} for e in epochs]


class StopAfter(Callback):
    """Stops the run (as the Stop button does) once epoch ``epoch`` is stored."""

    def __init__(self, manager: RunManager, epoch: int):
        self.manager, self.epoch, self.run_id = manager, epoch, 0

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if epoch == self.epoch:
            self.manager.stop(self.run_id)


@pytest.fixture
def manager(run_manager):
    return run_manager(BLOBS)


def stopped_run(manager: RunManager, config: RunConfig, after: int) -> int:
    """A run of ``config`` stopped by the user after epoch ``after``."""
    stop = StopAfter(manager, after)
    run_id = manager.submit(config, callbacks=[stop])
    stop.run_id = run_id
    assert manager.wait([run_id], timeout=60)
    run = manager.store.get_run(run_id)
    assert (run.status, run.epochs_done) == (RunStatus.STOPPED, after)
    return run_id


def straight(manager: RunManager, config: RunConfig) -> int:
    run_id = manager.submit(config)
    assert manager.wait([run_id], timeout=60)
    return run_id


def test_a_stopped_run_resumed_equals_one_trained_straight(manager):
    reference = straight(manager, CONFIG)
    run_id = stopped_run(manager, CONFIG, after=2)
    plan = manager.resume_run(run_id)
    assert (plan.from_epoch, plan.config.epochs) == (2, 5)
    assert manager.wait([run_id], timeout=60)
    store = manager.store
    run = store.get_run(run_id)
    assert (run.status, run.epochs_done) == (RunStatus.FINISHED, 5)
    assert numbers(store.get_epochs(run_id)) == numbers(store.get_epochs(reference))
    np.testing.assert_array_equal(MLP.load(store.weights_path(run_id)).flat_params,
                                  MLP.load(store.weights_path(reference)).flat_params)
    elapsed = [e["elapsed"] for e in store.get_epochs(run_id)]
    assert elapsed == sorted(elapsed)  # the clock goes on from the stop, not from zero
    assert sorted(p.name for p in store.checkpoint_dir(run_id).iterdir()) == ["latest.npz"]


def test_continue_a_finished_run_equals_a_longer_straight_run(manager):
    reference = straight(manager, CONFIG.replace(epochs=5))
    run_id = straight(manager, CONFIG.replace(epochs=3))
    plan = manager.continue_run(run_id, 2)
    assert plan.from_epoch == 3
    assert manager.store.get_run(run_id).config.epochs == 5  # the stored config grows before it trains
    assert manager.wait([run_id], timeout=60)
    store = manager.store
    assert store.get_run(run_id).status == RunStatus.FINISHED
    assert numbers(store.get_epochs(run_id)) == numbers(store.get_epochs(reference))


class KeepCheckpointAt(Callback):
    """Keeps the bytes of the run's checkpoint as they are when epoch ``epoch`` is stored (the checkpoint
    runs last, so it is still the previous epoch's)."""

    def __init__(self, manager: RunManager, epoch: int):
        self.manager, self.epoch, self.run_id, self.kept = manager, epoch, 0, b""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if epoch == self.epoch:
            self.kept = latest_path(self.manager.store, self.run_id).read_bytes()


def test_resume_trains_again_the_stored_epochs_after_the_checkpoint(manager):
    """A process killed between storing an epoch and checkpointing it: the epoch is trained again, identically."""
    reference = straight(manager, CONFIG)
    keep, stop = KeepCheckpointAt(manager, 3), StopAfter(manager, 3)
    run_id = keep.run_id = stop.run_id = manager.submit(CONFIG, callbacks=[keep, stop])
    assert manager.wait([run_id], timeout=60)
    store = manager.store
    ahead = store.get_epochs(run_id)[2]
    latest_path(store, run_id).write_bytes(keep.kept)  # the checkpoint of epoch 2, with 3 epochs stored
    assert store.get_run(run_id).epochs_done == 3
    manager.resume_run(run_id)
    assert manager.wait([run_id], timeout=60)
    epochs = store.get_epochs(run_id)
    assert numbers(epochs) == numbers(store.get_epochs(reference))
    assert numbers([epochs[2]]) == numbers([ahead])


def test_a_checkpoint_that_is_not_the_runs_is_refused_in_one_line(manager):
    """Another run's file, or one ahead of the epochs stored for the run: refused, nothing changed."""
    store = manager.store
    run_id, other = stopped_run(manager, CONFIG, after=2), stopped_run(manager, CONFIG, after=1)
    kept = latest_path(store, run_id).read_bytes()
    latest_path(store, run_id).write_bytes(latest_path(store, other).read_bytes())
    before = (store.get_run(run_id), store.get_epochs(run_id))
    with pytest.raises(ResumeError, match=f"checkpoint belongs to run {other}: it is another run's file") as info:
        manager.resume_run(run_id)
    assert "\n" not in str(info.value) and (store.get_run(run_id), store.get_epochs(run_id)) == before

    latest_path(store, run_id).write_bytes(kept)
    store.trim_epochs(run_id, 1)  # the stored epochs end before the checkpoint's
    before = (store.get_run(run_id), store.get_epochs(run_id))
    with pytest.raises(ResumeError, match="checkpoint is of epoch 2, ahead of its 1 stored epochs") as info:
        manager.resume_run(run_id)
    assert "\n" not in str(info.value) and (store.get_run(run_id), store.get_epochs(run_id)) == before


def test_a_deleted_run_gets_no_checkpoint_back(manager):
    store = manager.store

    class DeleteAtEpochOne(Callback):
        run_id = 0

        def on_epoch_end(self, epoch: int, logs: dict) -> None:
            if epoch == 1:
                store.delete_run(self.run_id)

    deleter = DeleteAtEpochOne()
    run_id = manager.submit(CONFIG, callbacks=[deleter])
    deleter.run_id = run_id
    assert manager.wait([run_id], timeout=60)
    assert not store.checkpoint_dir(run_id).exists()
    assert not [p for p in store.checkpoint_dir(run_id).parent.glob("*") if p.name.startswith(".")]


def early_stopping_run(store: RunStore, run_id: int, epochs: int, *, start=None, patience=2):
    """Train run ``run_id`` with early stopping (restoring the best weights), storing its epochs and
    checkpointing it as the execution path does; ``start``: the checkpoint to go on from."""
    es = EarlyStopping("test_loss", patience=patience, restore_best_weights=True)
    model, optimizer = MLP([784, 16, 10], seed=3), Adam(0.05)
    callbacks = [es, StoreEpochs(store, run_id), RunBackup(store, run_id)]
    if start is not None:
        start.restore(model, optimizer, callbacks)
    options = FitOptions(epochs=epochs, batch_size=50, seed=3, initial_epoch=start.epoch if start else 0)
    return fit(model, optimizer, BLOBS, options, callbacks), model, es


def test_early_stopping_state_and_best_weights_survive_a_resume(store):
    """Best weights and patience are saved in the run's checkpoint and come back: the resumed run stops at
    the same epoch with the same restored weights as the straight one."""
    a, b = store.create_run(CONFIG), store.create_run(CONFIG)
    whole, whole_model, whole_es = early_stopping_run(store, a, 40)
    assert whole_es.stopped_epoch, "the test needs a run that early stopping ends"
    cut = whole_es.stopped_epoch - 1  # after the best epoch, with patience partly used
    first, _, _ = early_stopping_run(store, b, cut)
    start = load_start(store, store.get_run(b))
    assert start is not None and start.epoch == cut
    saved = start.callbacks["EarlyStopping"]
    assert saved["best_logs"]["epoch"] == whole_es.best_epoch and saved["best_weights"] is not None
    assert sorted(p.name for p in store.checkpoint_dir(b).iterdir()) == ["latest.npz"]
    rest, model, es = early_stopping_run(store, b, 40, start=start)
    assert numbers(first.history + rest.history) == numbers(whole.history)
    assert (es.stopped_epoch, es.best_epoch, rest.message) == (whole_es.stopped_epoch, whole_es.best_epoch,
                                                                whole.message)
    np.testing.assert_array_equal(model.flat_params, whole_model.flat_params)
    assert numbers(load_checkpoint(latest_path(store, b)).history) == numbers(whole.history)


def test_runs_queued_by_a_dead_process_are_queued_again_in_order(tmp_path):
    db = tmp_path / "runs.sqlite"
    first = RunStore(db)
    ids = [first.create_run(CONFIG.replace(epochs=2, seed=s)) for s in range(3)]
    running = first.create_run(CONFIG)
    first.set_status(running, RunStatus.RUNNING)
    with sqlite3.connect(db) as conn:
        dead = f"{first._owner.rsplit(':', 2)[0]}:999999999:gone"
        conn.execute("UPDATE runs SET owner = ?", (dead,))
    store = RunStore(db)  # a new start: notices the dead owner
    assert store.get_run(running).status == RunStatus.INTERRUPTED
    assert all(store.get_run(i).status == RunStatus.QUEUED and store.get_run(i).message == ORPHAN_NOTE for i in ids)
    order: list[int] = []  # the seeds, in the order the runs start

    def load(config: RunConfig):
        order.append(config.seed)
        return BLOBS

    manager = RunManager(store, data_loader=load)
    assert manager.requeue_orphans() == ids
    assert RunStore(db).adopt_orphaned_queued() == []  # another process cannot take them too
    assert manager.wait(timeout=60)
    runs = [store.get_run(i) for i in ids]
    assert all(r.status == RunStatus.FINISHED and r.epochs_done == 2 and not r.message for r in runs)
    assert order == [0, 1, 2]


def test_a_checkpoint_is_about_the_size_the_ui_announces(manager):
    run_id = straight(manager, CONFIG.replace(epochs=1))
    estimate = estimated_checkpoint_bytes(CONFIG)
    actual = checkpoint_bytes(manager.store, run_id)
    assert 0.9 * actual < estimate <= actual
    big = estimated_checkpoint_bytes(RunConfig(hidden=(4096,) * 8))
    assert 500e6 < big < 2e9  # an 8 x 4096 network with Adam: hundreds of MB per run


def test_resume_error_leaves_the_run_as_it_was(manager):
    run_id = stopped_run(manager, CONFIG, after=2)
    store = manager.store
    latest_path(store, run_id).write_bytes(latest_path(store, run_id).read_bytes()[:500])
    before = (store.get_run(run_id), store.get_epochs(run_id))
    with pytest.raises(ResumeError, match="truncated or corrupted"):
        manager.resume_run(run_id)
    assert (store.get_run(run_id), store.get_epochs(run_id)) == before


def test_a_second_resume_of_the_same_run_is_refused(manager):
    run_id = stopped_run(manager, CONFIG, after=1)
    manager.store.requeue_run(run_id, RunStatus.STOPPED)  # as if another tab had just queued it
    with pytest.raises(ResumeError, match="is still queued"):
        manager.resume_run(run_id)
    with pytest.raises(ResumeError, match="changed meanwhile"):
        requeue(manager.store, ResumePlan(run_id, CONFIG, 1, RunStatus.STOPPED))


def test_a_checkpoint_spoiled_after_queueing_leaves_the_run_interrupted_and_its_epochs_kept(manager):
    run_id = stopped_run(manager, CONFIG, after=2)
    store = manager.store
    epochs = store.get_epochs(run_id)
    latest_path(store, run_id).write_bytes(b"not a zip file")
    outcome = execute_run(store, run_id, CONFIG, load=lambda config: BLOBS, resume=True)
    assert outcome.status == RunStatus.INTERRUPTED and "could not resume" in outcome.message
    assert store.get_epochs(run_id) == epochs and store.get_run(run_id).status == RunStatus.INTERRUPTED


def test_trim_epochs_brings_the_summary_back_to_the_last_kept_epoch(manager):
    run_id = straight(manager, CONFIG.replace(epochs=3))
    store = manager.store
    second = store.get_epochs(run_id)[1]
    assert store.trim_epochs(run_id, 2) == 1 and store.trim_epochs(run_id, 2) == 0
    run = store.get_run(run_id)
    assert (run.epochs_done, run.test_acc, run.train_loss, run.seconds) == (2, second["test_acc"],
                                                                            second["train_loss"], second["elapsed"])


VALIDATED = split_validation(make_blobs(n_train=1500, n_test=200, features=784, seed=5), 300)


def validated_manager(tmp_path) -> RunManager:
    return RunManager(RunStore(tmp_path / "v.sqlite"), data_loader=lambda config: VALIDATED)


def test_early_stopping_through_the_execution_path_resumes_exactly(tmp_path):
    """Stopped by the user mid-way, resumed: early stopping's patience and best weights come back, so the run
    stops at the same epoch with the same restored weights and message as one trained straight."""
    manager = validated_manager(tmp_path)
    config = CONFIG.replace(epochs=40, lr=0.05, early_stopping="val_loss", patience=2, restore_best=True)
    reference = straight(manager, config)
    ended = manager.store.get_run(reference)
    assert ended.epochs_done < 40 and "early stopping" in ended.message, "the test needs an early-stopped run"
    run_id = stopped_run(manager, config, after=ended.epochs_done - 1)
    manager.resume_run(run_id)
    assert manager.wait([run_id], timeout=60)
    store = manager.store
    run = store.get_run(run_id)
    assert (run.status, run.message, run.best_epoch) == (ended.status, ended.message, ended.best_epoch)
    assert numbers(store.get_epochs(run_id)) == numbers(store.get_epochs(reference))
    np.testing.assert_array_equal(MLP.load(store.weights_path(run_id)).flat_params,
                                  MLP.load(store.weights_path(reference)).flat_params)


def test_continue_goes_on_with_the_schedule_where_it_was(tmp_path):
    """Step decay: a continued run equals a longer one. Cosine: the continued epochs stay at its floor instead
    of stretching the curve over the new length (which would raise the lr again)."""
    manager = validated_manager(tmp_path)
    step = CONFIG.replace(epochs=2, schedule="step", step_every=2, step_factor=0.5)
    reference = straight(manager, step.replace(epochs=4))
    run_id = straight(manager, step)
    manager.continue_run(run_id, 2)
    assert manager.wait([run_id], timeout=60)
    assert numbers(manager.store.get_epochs(run_id)) == numbers(manager.store.get_epochs(reference))
    assert [e["lr"] for e in manager.store.get_epochs(run_id)] == [0.01, 0.01, 0.005, 0.005]

    cosine = CONFIG.replace(epochs=3, schedule="cosine", cosine_min=0.1)
    run_id = straight(manager, cosine)
    before = manager.store.get_epochs(run_id)
    manager.continue_run(run_id, 2)
    assert manager.wait([run_id], timeout=60)
    lrs = [e["lr"] for e in manager.store.get_epochs(run_id)]
    assert numbers(manager.store.get_epochs(run_id)[:3]) == numbers(before)
    assert lrs[3:] == pytest.approx([0.001, 0.001]) and lrs[2] > lrs[3]
