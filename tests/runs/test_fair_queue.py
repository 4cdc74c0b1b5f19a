"""Fair queueing: runs start round-robin by student, so one student cannot fill the queue.

Thirty simulated browser sessions queue runs concurrently against a real RunManager and a real store: every
run finishes with its epochs stored, and a student who queued ten runs first does not get them all before
the twenty students who queued one each (with the old FIFO queue the ten would all start first).
"""
from __future__ import annotations

import threading

from experiments.config import RunConfig
from experiments.runs.fair_queue import FairQueue
from experiments.runs.runner import RunManager
from experiments.store import RunStore
from tests.conftest import make_blobs, run_in_threads

BLOBS = make_blobs(n_train=200, n_test=50)
SMALL = RunConfig(hidden=(8,), epochs=2, batch_size=32, lr=0.01)


def test_fair_queue_takes_turns_by_key():
    q: FairQueue[str] = FairQueue()
    for item in ("a1", "a2", "a3"):
        q.put(item, "a")
    q.put("b1", "b")
    q.put("c1", "c")
    q.put("b2", "b")
    assert [q.get() for _ in range(6)] == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert len(q) == 0


def test_one_key_is_plain_fifo():
    q: FairQueue[int] = FairQueue()
    for i in range(5):
        q.put(i)
    assert [q.get() for _ in range(5)] == list(range(5))


def test_thirty_sessions_queue_fairly_and_every_run_finishes(tmp_path):
    gate = threading.Event()
    started: list[str] = []
    lock = threading.Lock()
    manager = RunManager(RunStore(tmp_path / "fair.sqlite"),
                         data_loader=lambda config: (gate.wait(60), BLOBS)[1])

    class FirstEpoch:
        def __init__(self, who: str):
            self.who, self.seen = who, False

        def on_epoch_end(self, epoch, logs):
            if not self.seen:
                self.seen = True
                with lock:
                    started.append(self.who)

    greedy = [manager.submit(SMALL.replace(seed=i), student="greedy", callbacks=[FirstEpoch("greedy")])
              for i in range(10)]  # queued first, while the worker waits at the gate on the first one
    others: list[int] = []
    counter = iter(range(20))
    counter_lock = threading.Lock()

    def session():
        with counter_lock:
            k = next(counter)
        who = f"student {k}"
        others.append(manager.submit(SMALL.replace(seed=100 + k), student=who, callbacks=[FirstEpoch(who)]))

    assert not run_in_threads(session, 20)
    gate.set()
    assert manager.wait(timeout=300)
    store = manager.store
    runs = store.search_runs(ids=[*greedy, *others])
    assert len(runs) == 30
    assert all(r.status == "finished" and r.epochs_done == 2 and len(store.get_epochs(r.id)) == 2 for r in runs)
    assert {r.student for r in runs} == {"greedy", *(f"student {k}" for k in range(20))}
    assert len(started) == 30
    # round-robin: greedy's first run was already running; its second comes in its turn, and then every one
    # of the twenty other students starts before greedy's third run
    third = [i for i, who in enumerate(started) if who == "greedy"][2]
    assert third == 22, started
    assert started.count("greedy") == 10


def test_an_exercise_that_does_not_fit_the_queue_leaves_no_half_group(tmp_path, monkeypatch):
    import pytest

    from experiments.exercises.play import queue_exercise
    from experiments.exercises.spec import load_all
    from experiments.runs import runner as runner_module
    from experiments.store import StoreError

    monkeypatch.setattr(runner_module, "MAX_QUEUED", 3)
    gate = threading.Event()
    manager = RunManager(RunStore(tmp_path / "full.sqlite"), data_loader=lambda config: (gate.wait(60), BLOBS)[1])
    exercise = load_all()[0][0]
    with pytest.raises(StoreError, match="the exercise was not queued"):
        queue_exercise(manager, exercise, "Ann")  # six runs: the fifth finds three already waiting
    gate.set()
    assert manager.wait(timeout=60)
    assert {r.status for r in manager.store.search_runs()} <= {"stopped", "finished"}
    assert not [r for r in manager.store.search_runs() if r.status == "finished" and r.epochs_done]


def test_an_item_put_back_goes_after_its_keys_turn_and_behind_newcomers():
    q: FairQueue[str] = FairQueue()
    q.put("a2", "a")
    q.put("b1", "b")
    q.put_back("a1 again", "a")  # a's first item had a turn: it comes first in a's line, a behind b
    q.put("c1", "c")  # a newcomer goes ahead of a, whose next item has had a slice already
    assert [q.get() for _ in range(4)] == ["b1", "c1", "a1 again", "a2"]


def test_an_item_put_back_is_passed_over_by_newcomers_only_for_its_patience():
    """Turns left a run waiting mid-run behind every newcomer: a steady stream of short runs starved it. After
    ``patience_s`` it keeps its place, so newcomers from then on queue behind it."""
    now = [0.0]
    q: FairQueue[str] = FairQueue(patience_s=30, clock=lambda: now[0])
    q.put_back("long run, mid-run", "a")
    q.put("b1", "b")  # just now: ahead of a
    now[0] = 29.0
    q.put("c1", "c")  # a has waited 29 s: still passed over
    now[0] = 30.0
    q.put("d1", "d")  # 30 s: a keeps its place, d queues behind it
    q.put("e1", "e")
    assert [q.get() for _ in range(5)] == ["b1", "c1", "long run, mid-run", "d1", "e1"]
    q.put_back("long run, mid-run", "a")  # its next wait starts afresh
    now[0] = 31.0
    q.put("f1", "f")
    assert [q.get() for _ in range(2)] == ["f1", "long run, mid-run"]


def test_without_patience_newcomers_always_go_first():
    now = [0.0]
    q: FairQueue[str] = FairQueue(clock=lambda: now[0])
    q.put_back("mid-run", "a")
    now[0] = 1e6
    q.put("b1", "b")
    assert [q.get() for _ in range(2)] == ["b1", "mid-run"]
