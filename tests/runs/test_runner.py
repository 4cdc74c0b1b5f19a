"""RunManager with a real store: queueing, stop within a batch, pause, failures recorded on the run."""
import time

import pytest

from experiments.config import RunConfig
from experiments.runs.runner import RunManager
from experiments.store import RunStore
from nn.callbacks import Callback
from tests.conftest import make_blobs, run_in_threads, wait_until

BLOBS = make_blobs(n_train=2000, n_test=200, features=784)
SMALL = RunConfig(hidden=(16,), epochs=3, batch_size=50, lr=0.01)


class BatchCounter(Callback):
    """Counts the batches a run finishes (in its worker thread): how far a run went after a stop or a pause,
    whatever the machine's speed."""

    def __init__(self) -> None:
        self.batches = 0

    def on_batch_end(self, batch: int, logs: dict) -> None:
        self.batches += 1


@pytest.fixture
def manager(run_manager):
    return run_manager(BLOBS)


def test_queued_runs_train_in_order_and_store_every_epoch(manager):
    ids = manager.submit_many([SMALL, SMALL.replace(lr=0.05)], group_id="g")
    assert manager.wait(timeout=60)
    runs = {r.id: r for r in manager.store.search_runs(group_id="g")}
    assert set(runs) == set(ids)
    for run_id in ids:
        assert runs[run_id].status == "finished" and runs[run_id].epochs_done == 3
        assert len(manager.store.get_epochs(run_id)) == 3
        assert manager.store.weights_path(run_id).exists()
        p = manager.progress(run_id)
        assert p.epoch == 3 and p.fraction == 1.0 and p.eta_seconds is None and not p.active  # ended: no ETA


def test_stop_ends_a_run_within_one_batch_and_skips_queued_ones(manager):
    slow = SMALL.replace(epochs=50, batch_size=1, hidden=(256,))  # 100,000 batches if nothing stopped it
    counter = BatchCounter()
    first = manager.submit(slow, callbacks=[counter])
    second = manager.submit(slow)
    wait_until(lambda: counter.batches >= 1, 30, "the first run's first batch")
    manager.stop(second)
    manager.stop(first)
    at_stop = counter.batches  # read once the flag is set: only the batch in progress may still end
    assert manager.wait(timeout=60)
    assert counter.batches - at_stop <= 1  # within one batch, counted, not timed
    assert manager.store.get_run(first).status == "stopped"
    assert manager.store.get_run(second).status == "stopped"
    assert manager.store.get_run(second).message == "stopped before it started"


def test_pause_and_unpause(manager):
    counter = BatchCounter()
    run_id = manager.submit(SMALL.replace(epochs=40), callbacks=[counter])
    wait_until(lambda: counter.batches >= 1, 30, "the run's first batch")
    manager.pause(run_id)
    assert manager.progress(run_id).phase == "paused" and manager.progress(run_id).label == "paused"
    at_pause = counter.batches  # read once the flag is set: only the batch in progress may still end
    time.sleep(0.5)  # the run holds meanwhile
    assert counter.batches - at_pause <= 1 and manager.progress(run_id).phase == "paused"
    manager.unpause(run_id)
    assert manager.wait(timeout=60)
    assert manager.store.get_run(run_id).epochs_done == 40


def test_diverging_run_is_stored_as_diverged(manager):
    run_id = manager.submit(SMALL.replace(optimizer="sgd", lr=10.0, hidden=(256,)))
    manager.wait(timeout=60)
    run = manager.store.get_run(run_id)
    assert run.status == "diverged" and "lower" in run.message


def test_a_failure_is_recorded_and_the_worker_lives_on(tmp_path):
    calls = []

    def flaky_loader(config):
        calls.append(config)
        if len(calls) == 1:
            from nn import DataError
            raise DataError("train-images-idx3-ubyte.gz is truncated: replace it")
        return BLOBS

    manager = RunManager(RunStore(tmp_path / "r.sqlite"), data_loader=flaky_loader)
    bad, good = manager.submit(SMALL), manager.submit(SMALL)
    assert manager.wait(timeout=60)
    assert manager.store.get_run(bad).status == "failed"
    assert "truncated" in manager.store.get_run(bad).message
    assert manager.store.get_run(good).status == "finished"


def test_one_manager_serves_many_threads(manager):
    ids = []
    errors = run_in_threads(lambda: ids.append(manager.submit(SMALL.replace(epochs=1))), 6)
    assert not errors and manager.wait(timeout=120)
    assert sorted(r.id for r in manager.store.search_runs(status="finished")) == sorted(ids)


def test_a_run_deleted_while_it_trains_leaves_no_weights_file(manager):
    """The worker saves weights after training returns; a run deleted meanwhile must not get an orphan file."""
    run_id = manager.submit(SMALL.replace(epochs=200, hidden=(64,)))
    wait_until(lambda: manager.store.get_epochs(run_id), 30, "the run's first stored epoch")
    manager.store.delete_run(run_id)
    manager.stop(run_id)
    assert manager.wait(timeout=30)
    weights = manager.store.weights_path(run_id)
    assert not weights.exists()
    assert not any(weights.parent.glob("*")) if weights.parent.exists() else True


def test_a_run_stopped_before_its_first_epoch_keeps_no_weights(manager):
    """A stopped run with no finished epoch has nothing worth keeping (an 8 x 4096 network would be ~480 MB)."""
    run_id = manager.submit(SMALL.replace(epochs=5, batch_size=1, hidden=(256,)))
    wait_until(lambda: manager.progress(run_id).phase == "running", 30, "the run to start", every=0.005)
    manager.stop(run_id)
    assert manager.wait(timeout=30)
    run = manager.store.get_run(run_id)
    assert run.status == "stopped" and run.epochs_done == 0
    assert not manager.store.weights_path(run_id).exists()


def test_the_queue_cap_holds_under_concurrent_submits(tmp_path, monkeypatch):
    from experiments.runs import runner as runner_module
    from experiments.store import StoreError

    monkeypatch.setattr(runner_module, "MAX_QUEUED", 3)
    gate = __import__("threading").Event()
    manager = RunManager(RunStore(tmp_path / "cap.sqlite"), data_loader=lambda config: (gate.wait(30), BLOBS)[1])
    blocker = manager.submit(SMALL.replace(epochs=1))  # the worker takes it (running) and waits at the gate
    wait_until(lambda: manager.store.get_run(blocker).status != "queued", 10, "the worker to take the first run",
               every=0.01)
    refused = []

    def submit():
        try:
            manager.submit(SMALL.replace(epochs=1))
        except StoreError:
            refused.append(1)

    errors = run_in_threads(submit, 8)
    assert not errors
    queued = manager.store.search_runs(status="queued")
    assert len(queued) == 3 and len(refused) == 5
    gate.set()
    manager.stop_all()
    assert manager.wait(timeout=60)
