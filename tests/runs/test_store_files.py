"""Each store's files in a folder of its own: two stores in one folder never touch each other's weights or
checkpoints, an older store's files are moved in when it is opened (none lost), and a checkpoint that is
not the run's network is refused."""
from __future__ import annotations

import os

import numpy as np
import pytest

from experiments.config import RunConfig
from experiments.runs.checkpoints import ResumeError, latest_path
from experiments.runs.runner import RunManager
from experiments.store import RunStore
from nn import MLP
from nn.checkpoint import read_meta
from nn.status import RunStatus
from tests.conftest import make_blobs

BLOBS = make_blobs(features=784)
SMALL = RunConfig(hidden=(16,), epochs=2, batch_size=50, lr=0.01, seed=3)
WIDE = RunConfig(hidden=(32,), epochs=2, batch_size=50, lr=0.01, seed=3)


@pytest.fixture
def two_stores(tmp_path):
    """``runs.sqlite`` and ``faults.sqlite`` in one folder, each with a manager that trains on BLOBS."""
    made = []
    for name in ("runs.sqlite", "faults.sqlite"):
        store = RunStore(tmp_path / name)
        made.append((store, RunManager(store, data_loader=lambda config: BLOBS)))
    yield made
    for store, manager in made:
        manager.stop_all()
        manager.wait(timeout=30)
        store.close_all()


def train(manager: RunManager, config: RunConfig) -> int:
    run_id = manager.submit(config)
    assert manager.wait([run_id], timeout=60)
    assert manager.store.get_run(run_id).status is RunStatus.FINISHED
    return run_id


def network(path) -> list[int]:
    return MLP.load(path).sizes


def test_two_stores_in_one_folder_keep_their_own_files(two_stores):
    (runs, runs_manager), (faults, faults_manager) = two_stores
    mine, theirs = train(runs_manager, SMALL), train(faults_manager, WIDE)
    assert mine == theirs == 1  # the same run id in both stores
    assert runs.weights_path(1) != faults.weights_path(1) and runs.checkpoint_dir(1) != faults.checkpoint_dir(1)
    assert network(runs.weights_path(1)) == [784, 16, 10] and network(faults.weights_path(1)) == [784, 32, 10]
    assert read_meta(latest_path(runs, 1))["model"]["sizes"] == [784, 16, 10]
    kept = faults.weights_path(1).read_bytes(), latest_path(faults, 1).read_bytes()

    runs.delete_run(1)
    assert not runs.weights_path(1).exists() and not runs.checkpoint_dir(1).exists()
    assert (faults.weights_path(1).read_bytes(), latest_path(faults, 1).read_bytes()) == kept
    faults_manager.continue_run(1, 1)  # the other store's run still goes on from its own checkpoint
    assert faults_manager.wait([1], timeout=60)
    assert faults.get_run(1).status is RunStatus.FINISHED and faults.get_run(1).epochs_done == 3


def to_old_layout(store: RunStore, run_id: int) -> None:
    """Put a run's files where stores kept them before each had a folder: ``weights/<id>.npz`` and
    ``checkpoints/<id>/`` beside the database."""
    folder = store.path.parent
    (folder / "weights").mkdir(exist_ok=True)
    (folder / "checkpoints").mkdir(exist_ok=True)
    os.rename(store.weights_path(run_id), folder / "weights" / f"{run_id}.npz")
    os.rename(store.checkpoint_dir(run_id), folder / "checkpoints" / str(run_id))


def test_older_stores_move_their_own_files_in_and_none_is_lost(two_stores):
    """The old shared folder as the bug left it: run 1's files are faults.sqlite's (they replaced runs.sqlite's
    run 1), run 2's are runs.sqlite's. Each store, opened, takes only the files of its own networks."""
    (runs, runs_manager), (faults, faults_manager) = two_stores
    train(runs_manager, SMALL), train(runs_manager, SMALL), train(faults_manager, WIDE)
    kept = {"runs 2": runs.weights_path(2).read_bytes(), "faults 1": faults.weights_path(1).read_bytes()}
    to_old_layout(runs, 2)
    to_old_layout(faults, 1)
    runs.delete_run(1)  # its files were replaced by faults' run 1 in the old layout
    old = runs.path.parent
    runs.close_all(), faults.close_all()

    reopened = RunStore(runs.path)
    assert reopened.weights_path(2).read_bytes() == kept["runs 2"]
    assert read_meta(latest_path(reopened, 2))["model"]["sizes"] == [784, 16, 10]
    assert (old / "weights" / "1.npz").read_bytes() == kept["faults 1"]  # not runs.sqlite's: left in place
    assert (old / "checkpoints" / "1" / "latest.npz").is_file()
    reopened.close_all()
    other = RunStore(faults.path)
    assert other.weights_path(1).read_bytes() == kept["faults 1"]
    assert read_meta(latest_path(other, 1))["model"]["sizes"] == [784, 32, 10]
    other.close_all()
    assert not (old / "weights").exists() and not (old / "checkpoints").exists()  # emptied, then removed


def test_a_checkpoint_of_another_network_is_refused_in_one_line(two_stores):
    (runs, runs_manager), (faults, faults_manager) = two_stores
    mine, theirs = train(runs_manager, SMALL), train(faults_manager, WIDE)
    latest_path(runs, mine).write_bytes(latest_path(faults, theirs).read_bytes())  # names run 1, as ours does
    before = runs.get_run(mine), runs.get_epochs(mine)
    with pytest.raises(ResumeError, match=r"checkpoint holds 784-32-10 with seed 3, not the run's hidden layers "
                                          r"\[16\]") as info:
        runs_manager.continue_run(mine, 1)
    assert "\n" not in str(info.value) and (runs.get_run(mine), runs.get_epochs(mine)) == before
    assert np.load(runs.weights_path(mine))["sizes"].tolist() == [784, 16, 10]
