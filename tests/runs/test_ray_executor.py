"""A class's runs on a Ray cluster: a real ``ray start --head`` with its default (token) authentication
(``ray_head`` in tests/conftest.py), joined with its token; the run manager hands each queued run to a Ray
worker (``RayExecutor``) and the store fills epoch by epoch as on a local run, Pause and Stop reach the worker,
and the numbers and weights equal a local run's of the same seed, resumed or not.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
import pytest

from experiments.config import RunConfig
from experiments.runs.checkpoints import latest_path
from experiments.runs.lifecycle import execute_run
from experiments.runs.runner import LivePhase, RunManager
from experiments.store import RunStore
from experiments.store.dynamics import get_batch_points, get_layer_stats
from experiments.store.records import EPOCH_METRICS
from nn.status import RunStatus
from tests.conftest import wait_until
from tests.ray_head import forget_token

pytestmark = [pytest.mark.ray, pytest.mark.mnist, pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                 reason="Ray is not installed: pip install -r requirements-ray.txt")]
EPOCHS = 6
# about 0.8 s an epoch on one core here: long enough that Pause and Stop (forwarded within a fraction of a
# second) reach a run before it ends
CONFIG = RunConfig(hidden=(256,), epochs=EPOCHS, train_size=4000, val_size=1000, batch_size=8, seed=5)
OWNERS = {"alice": 5, "bob": 6, "carol": 7}  # student -> seed
TIMING = ("seconds", "elapsed")
DEADLINE = 300.0  # seconds a run may take on a loaded 2-core machine, Ray's start-up included


@pytest.fixture(scope="module")
def ray_executor(ray_head, mnist_dir):
    """One executor joined to the head for the module (joining and the workers' start take seconds)."""
    from experiments.runs.ray_executor import RayExecutor

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DIR", mnist_dir)
        for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE"):
            patch.delenv(name, raising=False)
        patch.setenv("RAY_AUTH_TOKEN_PATH", str(ray_head.token_file))
        executor = RayExecutor(ray_head.address)
        try:
            yield executor
        finally:
            executor.shutdown()
    forget_token()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, mnist_dir):
    """CONFIG trained here (``execute_run`` in this thread): its epochs' numbers and its weights."""
    store = RunStore(tmp_path_factory.mktemp("local") / "runs.sqlite")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_DIR", mnist_dir)
        run_id = store.create_run(CONFIG)
        assert execute_run(store, run_id, CONFIG).status is RunStatus.FINISHED
    return LocalRun(numbers(store, run_id), weights(store, run_id), len(get_batch_points(store, run_id)),
                    len(get_layer_stats(store, run_id)))


@dataclass(frozen=True)
class LocalRun:
    numbers: list[dict[str, str]]
    weights: dict[str, bytes]
    points: int
    layer_stats: int


def numbers(store: RunStore, run_id: int) -> list[dict[str, str]]:
    """Every stored number of every epoch, as its exact bits (repr), times left out."""
    return [{k: repr(e.get(k)) for k in ("epoch", *EPOCH_METRICS) if k not in TIMING} for e in store.get_epochs(run_id)]


def weights(store: RunStore, run_id: int) -> dict[str, bytes]:
    with np.load(store.weights_path(run_id)) as saved:
        return {name: saved[name].tobytes() for name in saved.files}


def test_a_class_runs_train_on_ray_and_fill_the_store_epoch_by_epoch(tmp_path, ray_executor, local_run):
    store = RunStore(tmp_path / "runs.sqlite")
    manager = RunManager(store, max_concurrent=2, executor=ray_executor)
    ids = {student: manager.submit(CONFIG.replace(seed=seed), student=student) for student, seed in OWNERS.items()}
    first = ids["alice"]
    try:
        # live: alice's run is in the store as running with some of its epochs, before it ends
        seen = wait_until(lambda: (run := store.get_run(first)).status == RunStatus.RUNNING
                          and 1 <= run.epochs_done < EPOCHS and run, DEADLINE, "alice's first epochs on Ray")
        assert [e["epoch"] for e in store.get_epochs(first)][:seen.epochs_done] == list(range(1, seen.epochs_done + 1))
        assert manager.progress(first).epoch >= 1  # the live progress moved on with the stored epochs
        manager.pause(first)  # forwarded to its worker: it holds while the others train in the other slot
        assert manager.progress(first).phase is LivePhase.PAUSED
        assert manager.wait([ids["bob"], ids["carol"]], timeout=DEADLINE), "bob's and carol's runs did not end"
        held = store.get_run(first)
        assert held.status == RunStatus.RUNNING and held.epochs_done < EPOCHS, "the paused run went on training"
        manager.unpause(first)
        assert manager.wait(list(ids.values()), timeout=DEADLINE), "alice's run did not end after unpause"
    finally:
        manager.stop_all()
        manager.wait(timeout=60)
    for student, run_id in ids.items():
        run = store.get_run(run_id)
        assert (run.status, run.epochs_done, run.student) == (RunStatus.FINISHED, EPOCHS, student), run.message
        assert store.weights_path(run_id).is_file() and latest_path(store, run_id).is_file()
        assert len(get_batch_points(store, run_id)) == local_run.points > 0  # within-epoch points came back
        assert len(get_layer_stats(store, run_id)) == local_run.layer_stats > 0  # and per-layer dynamics
    assert numbers(store, first) == local_run.numbers  # the same seed: the same numbers, bit for bit
    assert weights(store, first) == local_run.weights
    assert numbers(store, ids["bob"]) != local_run.numbers  # (another seed differs: the comparison can fail)


def test_a_run_stopped_on_ray_resumes_there_and_equals_the_unbroken_local_run(tmp_path, ray_executor, local_run):
    store = RunStore(tmp_path / "runs.sqlite")
    manager = RunManager(store, executor=ray_executor)
    run_id = manager.submit(CONFIG, student="alice")
    try:
        wait_until(lambda: store.get_run(run_id).epochs_done >= 1, DEADLINE, "a first epoch on Ray")
        manager.stop(run_id)
        assert manager.wait([run_id], timeout=DEADLINE)
        stopped = store.get_run(run_id)
        assert stopped.status == RunStatus.STOPPED and 1 <= stopped.epochs_done < EPOCHS, stopped.message
        assert latest_path(store, run_id).is_file()  # its checkpoint came back from the worker
        plan = manager.resume_run(run_id)
        assert plan.from_epoch == stopped.epochs_done
        assert manager.wait([run_id], timeout=DEADLINE)
    finally:
        manager.stop_all()
        manager.wait(timeout=60)
    run = store.get_run(run_id)
    assert (run.status, run.epochs_done) == (RunStatus.FINISHED, EPOCHS), run.message
    assert numbers(store, run_id) == local_run.numbers and weights(store, run_id) == local_run.weights


def test_a_class_server_with_a_ray_address_trains_there_one_run_per_cpu(ray_executor, ray_head, ray_token):
    from experiments.runs.ray_executor import RAY_ADDRESS_ENV, RayExecutor, class_execution

    execution = class_execution({RAY_ADDRESS_ENV: ray_head.address})
    assert isinstance(execution.executor, RayExecutor) and execution.runs_at_once == 2  # the head's 2 CPUs
    assert ray_head.address in execution.where


def test_a_class_server_whose_cluster_cannot_be_joined_says_so_and_trains_here(capsys):
    from experiments.runs.ray_executor import RAY_ADDRESS_ENV, class_execution
    from tests.ray_head import free_port

    address = f"127.0.0.1:{free_port()}"
    execution = class_execution({RAY_ADDRESS_ENV: address})
    assert execution.executor is execute_run and execution.where == "this machine"
    [line] = capsys.readouterr().err.strip().splitlines()
    assert address in line and "no Ray head answers" in line and "training on this machine" in line
