"""Time slices: runs share the training slots in turn by owner, so a long run slows only its owner.

Against a real RunManager and a real store (synthetic blobs, so that a long run is long in batches, not in
seconds): a sliced run logs the same numbers as the same run trained alone (compared by repr, bit for bit);
with a hog holding the only slot, another owner's short run finishes while the hog is unfinished; a paused
run gives its slot up. ``Turns`` alone: who may take a slot, and when a slice is over.
"""
from __future__ import annotations

import pytest

from experiments.config import RunConfig
from experiments.runs import turns
from experiments.runs.runner import LivePhase, RunManager
from experiments.runs.turns import Turns
from experiments.store import RunStore
from tests.conftest import make_blobs, wait_until

BLOBS = make_blobs(n_train=300, n_test=60)
TIMING = ("seconds", "elapsed")  # the only logged numbers that may differ between two trainings of a seed


@pytest.fixture
def short_slices(monkeypatch):
    """Slices of 20 ms, so that runs of a few hundred batches take many turns."""
    monkeypatch.setenv(turns.SLICE_ENV, "0.02")


def one_slot(store: RunStore) -> RunManager:
    return RunManager(store, max_concurrent=1, data_loader=lambda config: BLOBS)


def numbers(store: RunStore, run_id: int) -> str:
    return repr([{k: v for k, v in epoch.items() if k not in TIMING} for epoch in store.get_epochs(run_id)])


def counting_turns(manager: RunManager) -> list[int]:
    """Count the turns each run waited for (the manager's Turns, wrapped)."""
    waited: list[int] = []
    wait_turn = manager._turns.wait_turn

    def counted(run_id, give_up):
        waited.append(run_id)
        return wait_turn(run_id, give_up)

    manager._turns.wait_turn = counted  # type: ignore[method-assign]
    return waited


def test_a_sliced_run_logs_the_same_numbers_as_one_trained_alone(tmp_path, short_slices):
    config = RunConfig(hidden=(32,), epochs=4, batch_size=4, lr=0.01, optimizer="adam", dropout=0.1, seed=3)
    alone_store, sliced_store = RunStore(tmp_path / "alone.sqlite"), RunStore(tmp_path / "sliced.sqlite")
    alone = one_slot(alone_store)
    alone_id = alone.submit(config, student="ann")
    assert alone.wait(timeout=120)

    sliced = one_slot(sliced_store)
    waited = counting_turns(sliced)
    sliced_id = sliced.submit(config, student="ann")
    others = [sliced.submit(config.replace(seed=s, epochs=1), student=f"s{s}") for s in range(5)]
    assert sliced.wait(timeout=120)
    assert waited.count(sliced_id) >= 1  # it did give its slot up and take it back
    assert sliced_store.get_run(sliced_id).status == alone_store.get_run(alone_id).status == "finished"
    assert numbers(sliced_store, sliced_id) == numbers(alone_store, alone_id)
    assert all(sliced_store.get_run(i).status == "finished" for i in others)


def test_a_short_run_of_another_owner_finishes_while_a_hog_trains(tmp_path, short_slices):
    store = RunStore(tmp_path / "runs.sqlite")
    manager = one_slot(store)
    hog = manager.submit(RunConfig(hidden=(32,), epochs=1000, batch_size=1, lr=0.001), student="hog")
    wait_until(lambda: manager.progress(hog).phase is LivePhase.RUNNING, 30, "the hog to train")
    short = manager.submit(RunConfig(hidden=(8,), epochs=1, batch_size=32), student="ann")
    try:
        assert manager.wait([short], timeout=120)
        assert store.get_run(short).status == "finished"
        assert manager.progress(hog).active and store.get_run(hog).epochs_done < 1000
    finally:
        manager.stop(hog)
        assert manager.wait(timeout=60)


def test_a_paused_run_gives_its_slot_up(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    manager = one_slot(store)
    long = manager.submit(RunConfig(hidden=(32,), epochs=1000, batch_size=1), student="ann")
    wait_until(lambda: manager.progress(long).phase is LivePhase.RUNNING, 30, "the long run to train")
    manager.pause(long)
    short = manager.submit(RunConfig(hidden=(8,), epochs=1, batch_size=32), student="ann")  # the same owner
    try:
        assert manager.wait([short], timeout=120)
        assert manager.progress(long).phase is LivePhase.PAUSED
        manager.unpause(long)
        wait_until(lambda: store.get_run(long).epochs_done >= 1, 60, "the unpaused run's next epoch")
    finally:
        manager.stop(long)
        assert manager.wait(timeout=60)
    assert store.get_run(long).status == "stopped"


class Started(list):
    def __call__(self, run_id: int) -> None:
        self.append(run_id)


def test_a_slice_ends_only_for_a_run_of_another_owner():
    started = Started()
    slots = Turns(1, started, slice_s=0.0)
    slots.put(1, "ann")
    slots.put(2, "ann")
    assert started == [1] and not slots.slice_over(1)  # only ann's own run waits: hers keep their order
    slots.put(3, "bob")
    assert slots.slice_over(1)
    slots.give_way(1)
    assert started == [1, 3]  # bob before ann's second run: ann has just had her turn


def test_started_runs_are_capped_and_still_take_turns():
    started = Started()
    slots = Turns(1, started, max_started=2, slice_s=0.0)
    for run_id, owner in ((1, "ann"), (2, "bob"), (3, "cy")):
        slots.put(run_id, owner)
    slots.give_way(1)
    assert started == [1, 2]  # bob's run starts; ann's waits for a turn mid-run, off the slot
    assert slots.slice_over(2)  # ann waits for her turn (cy's run may not start: two are started)
    slots.give_way(2)
    assert started == [1, 2] and slots.holding() == 1  # ann's turn: held runs take turns among themselves
    slots.ended(1)  # ann's run ends: cy's may start now, before bob's turn comes back
    assert started == [1, 2, 3]
