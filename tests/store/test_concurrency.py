"""The store under concurrent use: one transaction per create, an atomic queue cap, artifacts that never
outlive their run, and per-thread connections that can be closed."""
import sqlite3
import threading

import numpy as np
import pytest

from experiments.config import RunConfig
from experiments.store import QueueFullError, RunNotFoundError, RunStore, StoreError
from nn.status import RunStatus
from tests.conftest import run_in_threads


# ---------------------------------------------------------------------------------------------- create and the cap
@pytest.mark.parametrize("separate_stores", [False, True], ids=["one-store", "a-store-per-thread"])
def test_concurrent_creates_past_the_cap_store_exactly_the_cap(tmp_path, separate_stores):
    path, cap, threads = tmp_path / "runs.sqlite", 5, 16
    shared = RunStore(path)
    refused: list[QueueFullError] = []

    def submit():
        store = RunStore(path) if separate_stores else shared
        try:
            store.create_run(RunConfig(epochs=1), max_queued=cap)
        except QueueFullError as exc:
            refused.append(exc)
    errors = run_in_threads(submit, threads)
    assert errors == []
    assert shared.count_runs() == cap and len(refused) == threads - cap
    assert f"{cap} runs are already waiting" in str(refused[0]) and isinstance(refused[0], StoreError)


def test_the_cap_counts_only_this_process_queued_runs(store):
    running = store.create_run(RunConfig(), max_queued=2)
    store.set_status(running, RunStatus.RUNNING)  # running, not waiting
    with sqlite3.connect(store.path) as conn:  # a queued run of another machine's process
        conn.execute("INSERT INTO runs (name, created, config, status, owner) VALUES ('x', '', ?, 'queued', "
                     "'elsewhere:1:1')", (RunConfig().to_json(),))
    store.create_run(RunConfig(), max_queued=2)
    store.create_run(RunConfig(), max_queued=2)
    with pytest.raises(QueueFullError):
        store.create_run(RunConfig(), max_queued=2)
    assert store.count_runs() == 4
    store.create_run(RunConfig())  # no cap given: no limit
    assert store.count_runs() == 5


def test_the_cap_is_each_students_own(store):
    """On a class server one student's full queue does not refuse another's runs."""
    for _ in range(2):
        store.create_run(RunConfig(), max_queued=2, student="ann")
    with pytest.raises(QueueFullError, match="2 runs of yours are already waiting"):
        store.create_run(RunConfig(), max_queued=2, student="ann")
    store.create_run(RunConfig(), max_queued=2, student="bob")
    store.create_run(RunConfig(), max_queued=2)  # the laptop's user ("" ) has a cap of their own too
    assert store.count_runs() == 4


def test_create_stores_name_and_tags_in_one_step_and_a_bad_tag_stores_nothing(store):
    run_id = store.create_run(RunConfig(), tags=["report", " report ", "seed 1"])
    run = store.get_run(run_id)
    assert run.name == f"run {run_id}" and run.tags == ["report", "seed 1"]
    with pytest.raises(StoreError, match="too long"):
        store.create_run(RunConfig(), name="kept?", tags=["x" * 100])
    assert store.count_runs() == 1


def test_a_refused_cap_rolls_back_and_leaves_the_connection_usable(store):
    store.create_run(RunConfig(), max_queued=1)
    with pytest.raises(QueueFullError):
        store.create_run(RunConfig(), max_queued=1)
    assert not store._conn().in_transaction
    store.create_run(RunConfig())
    assert store.count_runs() == 2


# ---------------------------------------------------------------------------------------------- artifacts
def _write_weights(store, run_id):
    tmp = store.temp_path_for(store.weights_path(run_id))
    np.savez(tmp, w=np.zeros(3))  # np.savez keeps a path ending in .npz as it is
    assert tmp.is_file() and tmp.parent == store.weights_path(run_id).parent
    return tmp


def test_attach_moves_the_file_into_place_while_the_run_exists(store):
    run_id = store.create_run(RunConfig())
    tmp = _write_weights(store, run_id)
    assert store.attach_artifact(run_id, tmp, store.weights_path(run_id)) is True
    assert store.weights_path(run_id).is_file() and not tmp.exists()
    assert np.load(store.weights_path(run_id))["w"].shape == (3,)


def test_attach_after_delete_returns_false_and_leaves_no_file(store):
    run_id = store.create_run(RunConfig())
    tmp = _write_weights(store, run_id)  # the worker finished training just as the run was deleted
    store.delete_run(run_id)
    assert store.attach_artifact(run_id, tmp, store.weights_path(run_id)) is False
    assert not store.weights_path(run_id).exists() and not tmp.exists()
    assert list(store.weights_path(run_id).parent.iterdir()) == []


def test_delete_removes_weights_and_checkpoints(store):
    run_id, other = store.create_run(RunConfig()), store.create_run(RunConfig())
    for rid in (run_id, other):
        store.attach_artifact(rid, _write_weights(store, rid), store.weights_path(rid))
        checkpoint = store.checkpoint_dir(rid) / "epoch-2.npz"
        tmp = store.temp_path_for(checkpoint)
        tmp.write_bytes(b"checkpoint")
        assert store.attach_artifact(rid, tmp, checkpoint)
    assert store.checkpoint_dir(run_id) == store.path.parent / "runs.sqlite.files" / "checkpoints" / str(run_id)
    store.delete_run(run_id)
    assert not store.weights_path(run_id).exists() and not store.checkpoint_dir(run_id).exists()
    assert store.weights_path(other).is_file() and (store.checkpoint_dir(other) / "epoch-2.npz").is_file()
    with pytest.raises(RunNotFoundError):
        store.log_epoch(run_id, {"epoch": 3, "test_acc": 0.5})


def test_delete_racing_attach_never_leaves_an_orphan(store):
    for _ in range(25):
        run_id = store.create_run(RunConfig())
        tmp = _write_weights(store, run_id)
        results: list[bool] = []
        barrier = threading.Barrier(2)

        def attach(run_id=run_id, tmp=tmp, results=results, barrier=barrier):
            barrier.wait()
            results.append(store.attach_artifact(run_id, tmp, store.weights_path(run_id)))

        def delete(run_id=run_id, barrier=barrier):
            barrier.wait()
            store.delete_run(run_id)
        threads = [threading.Thread(target=attach), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results in ([True], [False]) and store.count_runs() == 0
        assert not store.weights_path(run_id).exists() and not tmp.exists()


# ---------------------------------------------------------------------------------------------- connections
def test_a_thread_closes_its_own_connection(store):
    seen: dict[str, object] = {}

    def work():
        with store.thread_connection():
            store.count_runs()
            seen["conn"] = store._conn()
            seen["open_inside"] = store.open_connections()
        seen["open_after"] = store.open_connections()
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    conn = seen["conn"]
    assert isinstance(conn, sqlite3.Connection)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("SELECT 1")
    assert seen["open_inside"] == seen["open_after"] + 1  # type: ignore[operator]


def test_close_closes_only_the_calling_thread_and_the_store_stays_usable(store):
    store.count_runs()
    mine = store._conn()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")
    assert store.count_runs() == 0 and store._conn() is not mine  # reopened on demand


def test_close_all_closes_every_thread_connection(store):
    ready, done = threading.Barrier(4), threading.Event()
    conns: list[sqlite3.Connection] = []

    def hold():
        store.count_runs()
        conns.append(store._conn())
        ready.wait()
        done.wait(10)
    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    ready.wait()
    assert store.open_connections() >= 3
    store.close_all()
    assert store.open_connections() == 0
    for conn in conns:
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
    done.set()
    for t in threads:
        t.join()
    assert store.count_runs() == 0  # this thread opens a fresh one


PROCESS_SUBMITS = """
import sys, threading, time
from experiments.config import RunConfig
from experiments.store import QueueFullError, RunStore
path, start, cap = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
stored = []
def submit():
    store = RunStore(path)
    time.sleep(max(0.0, start - time.time()))
    try:
        stored.append(store.create_run(RunConfig(epochs=1), max_queued=cap))
    except QueueFullError:
        pass
threads = [threading.Thread(target=submit) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(len(stored))
"""


def test_two_processes_submitting_at_once_each_get_exactly_their_cap(tmp_path):
    """The cap is per process (each counts its own waiting runs), and holds while both write at once."""
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    path, cap = tmp_path / "runs.sqlite", 3
    RunStore(path)  # created before the race
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS_SUBMITS, str(path), str(start), str(cap)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert [int(out) for out, _ in outputs] == [cap, cap]
    with sqlite3.connect(path) as conn:
        per_owner = conn.execute("SELECT owner, count(*) FROM runs GROUP BY owner").fetchall()
    assert len(per_owner) == 2 and all(n == cap for _, n in per_owner)
