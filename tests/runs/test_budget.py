"""The class's budgets per run: a student's run over the largest network or the most training steps is
refused in one line naming the setting and the cap, before anything is stored; the teacher's runs and a
laptop's are not capped. Against a real RunManager and a real store."""
from __future__ import annotations

import pytest

from experiments.access import LOCAL_USER, Identity, Role
from experiments.config import RunConfig
from experiments.runs.budget import BudgetError, parameters, steps
from experiments.store.classroom import ClassSettings, save_class_settings
from tests.conftest import make_blobs

BLOBS = make_blobs(n_train=200, n_test=50)
ANN = Identity("ann", Role.STUDENT)
TEACHER = Identity("ms k", Role.TEACHER)
SMALL = RunConfig(hidden=(8,), epochs=1, batch_size=64)


@pytest.fixture
def manager(run_manager):
    return run_manager(BLOBS)


def test_sizes_are_counted_from_the_config():
    assert parameters(RunConfig(hidden=(128,))) == 784 * 128 + 128 + 128 * 10 + 10
    assert steps(RunConfig(epochs=10, batch_size=64, val_size=10_000)) == 10 * 782  # 50,000 images
    assert steps(RunConfig(epochs=3, batch_size=100, train_size=1_000)) == 30


@pytest.mark.parametrize(("settings", "config", "words"), [
    (ClassSettings(max_parameters=50_000), SMALL.replace(hidden=(128,)), ["max_parameters", "50,000", "101,770"]),
    (ClassSettings(max_steps=1_000), SMALL.replace(epochs=2), ["max_steps", "1,000", "1,564", "2 epochs"]),
])
def test_a_students_run_over_the_budget_is_refused_in_one_line(manager, store, settings, config, words):
    save_class_settings(store, settings)
    with pytest.raises(BudgetError) as refused:
        manager.submit(config, identity=ANN)
    message = str(refused.value)
    assert "\n" not in message and all(word in message for word in words), message
    with pytest.raises(BudgetError):
        manager.submit_many([SMALL, config], identity=ANN)  # none of the group is queued
    assert store.search_runs() == []


def test_the_teacher_and_a_laptop_are_not_capped_and_a_run_within_it_is_queued(manager, store):
    save_class_settings(store, ClassSettings(max_parameters=10_000, max_steps=10))
    big = SMALL.replace(hidden=(32,), train_size=200)
    ids = [manager.submit(big, identity=TEACHER), manager.submit(big, identity=LOCAL_USER), manager.submit(big)]
    ids.append(manager.submit(SMALL.replace(train_size=200, batch_size=64), identity=ANN))  # 4 steps, 6,370
    assert manager.wait(ids, timeout=60)
    assert [store.get_run(i).status for i in ids] == ["finished"] * 4
    assert store.get_run(ids[-1]).student == "ann"


def test_continuing_past_the_budget_is_refused(manager, store):
    run_id = manager.submit(SMALL.replace(train_size=200), identity=ANN)  # 4 steps an epoch
    assert manager.wait([run_id], timeout=60)
    save_class_settings(store, ClassSettings(max_steps=10))
    with pytest.raises(BudgetError, match="max_steps of 10"):
        manager.continue_run(run_id, 2, identity=ANN)
    assert store.get_run(run_id).status == "finished" and store.get_run(run_id).config.epochs == 1
    manager.continue_run(run_id, 1, identity=ANN)  # 8 steps: within it
    assert manager.wait([run_id], timeout=60) and store.get_run(run_id).epochs_done == 2
