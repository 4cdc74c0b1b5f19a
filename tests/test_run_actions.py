"""Ownership where the actions happen (experiments/run_actions.py), on a real store and a real run manager:
every action that changes a run is refused in one line for another student, before anything changes, and
allowed for the run's owner, the teacher and a laptop's user; exercise tags are set only by the exercise."""
from __future__ import annotations

import pytest

from experiments import run_actions
from experiments.access import LOCAL_USER, Identity, NotAllowed, Role
from experiments.config import RunConfig
from experiments.exercises.play import exercise_tag
from experiments.runs.runner import RunManager
from experiments.store import RunNotFoundError
from nn.status import RunStatus
from tests.conftest import make_blobs, wait_until

ALICE, BOB = Identity("alice", Role.STUDENT), Identity("bob", Role.STUDENT)
TEACHER = Identity("", Role.TEACHER)
DATA = make_blobs(n_train=300, n_test=100, features=784)
TINY = RunConfig(hidden=(8,), epochs=1, batch_size=50, val_size=0, seed=1)


@pytest.fixture
def manager(run_manager):
    return run_manager(DATA)


def finished_run(manager: RunManager, student: str = "alice", tags: tuple[str, ...] = ()) -> int:
    run_id = manager.submit(TINY, name="alice's", student=student, tags=tags)
    assert manager.wait([run_id], timeout=60)
    assert manager.store.get_run(run_id).status == RunStatus.FINISHED
    return run_id


def snapshot(manager: RunManager, run_id: int) -> tuple:
    run = manager.store.get_run(run_id)
    return run.name, run.tags, run.notes, run.status, run.epochs_done, run.config


ACTIONS = {
    "stop": lambda m, who, r: run_actions.stop(m, who, r),
    "pause": lambda m, who, r: run_actions.pause(m, who, r),
    "unpause": lambda m, who, r: run_actions.unpause(m, who, r),
    "resume": lambda m, who, r: run_actions.resume(m, who, r),
    "continue": lambda m, who, r: run_actions.continue_run(m, who, r, 999),
    "edit": lambda m, who, r: run_actions.edit(m.store, who, r, "mine now", "x", "hi"),
    "rename": lambda m, who, r: run_actions.rename(m.store, who, r, "mine now"),
    "tag": lambda m, who, r: run_actions.set_tags(m.store, who, r, "x"),
    "annotate": lambda m, who, r: run_actions.set_notes(m.store, who, r, "hi"),
    "delete": lambda m, who, r: run_actions.delete(m, who, [r]),
    "export": lambda m, who, r: run_actions.export_csv(m.store, who, [r]),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_is_refused_for_another_student_and_changes_nothing(manager, action, monkeypatch):
    run_id = finished_run(manager)
    before = snapshot(manager, run_id)
    touched = []  # the manager's own controls must not even be reached
    for name in ("stop", "pause", "unpause", "resume_run", "continue_run"):
        monkeypatch.setattr(manager, name, lambda *a, _n=name, **k: touched.append(_n))
    with pytest.raises(NotAllowed, match=f"run {run_id} belongs to alice: only they or the teacher may"):
        ACTIONS[action](manager, BOB, run_id)
    assert touched == [] and snapshot(manager, run_id) == before


@pytest.mark.parametrize("who", [ALICE, TEACHER, LOCAL_USER], ids=["owner", "teacher", "laptop"])
def test_the_owner_the_teacher_and_a_laptop_user_may_change_a_run(manager, who):
    run_id = finished_run(manager)
    run_actions.edit(manager.store, who, run_id, "renamed", "kept, new", "a note")
    run = manager.store.get_run(run_id)
    assert (run.name, run.tags, run.notes) == ("renamed", ["kept", "new"], "a note")
    assert "renamed" in run_actions.export_csv(manager.store, who, [run_id])
    plan = run_actions.continue_run(manager, who, run_id, 1)
    assert plan.config.epochs == 2 and manager.wait([run_id], timeout=60)
    assert manager.store.get_run(run_id).epochs_done == 2
    run_actions.delete(manager, who, [run_id])
    with pytest.raises(RunNotFoundError):
        manager.store.get_run(run_id)


def test_the_owner_stops_their_queued_run_where_a_classmate_could_not(manager):
    blocker = manager.submit(RunConfig(hidden=(8,), epochs=1000, batch_size=50, val_size=0), student="bob")
    queued = manager.submit(TINY, student="alice")
    with pytest.raises(NotAllowed):
        run_actions.stop(manager, BOB, queued)
    run_actions.stop(manager, ALICE, queued)
    run_actions.stop(manager, BOB, blocker)
    assert manager.wait([blocker, queued], timeout=60)
    assert manager.store.get_run(queued).status == RunStatus.STOPPED


def test_a_delete_of_several_runs_with_one_not_yours_deletes_none(manager):
    mine, theirs = finished_run(manager, "bob"), finished_run(manager, "alice")
    with pytest.raises(NotAllowed):
        run_actions.delete(manager, BOB, [mine, theirs])
    assert manager.store.get_run(mine) and manager.store.get_run(theirs)


def test_exercise_tags_cannot_be_added_or_removed_in_the_editor(manager):
    """Issue 24: any run could be tagged exercise:01_learning_rate in History and join the leaderboard."""
    plain, exercised = finished_run(manager), finished_run(manager, tags=(exercise_tag("01_learning_rate"),))
    for who in (ALICE, TEACHER):
        with pytest.raises(NotAllowed, match="set by the exercise itself"):
            run_actions.set_tags(manager.store, who, plain, "baseline, exercise:01_learning_rate")
        with pytest.raises(NotAllowed, match="set by the exercise itself"):
            run_actions.edit(manager.store, who, plain, "n", "EXERCISE:01_learning_rate", "")
        with pytest.raises(NotAllowed, match="set by the exercise itself"):
            run_actions.set_tags(manager.store, who, exercised, "baseline")
    assert manager.store.get_run(plain).tags == []
    run_actions.set_tags(manager.store, ALICE, exercised, "exercise:01_learning_rate, baseline")
    assert manager.store.get_run(exercised).tags == ["exercise:01_learning_rate", "baseline"]


def test_what_a_student_may_look_at_and_change(manager):
    mine, theirs = finished_run(manager, "alice"), finished_run(manager, "bob")
    runs = [manager.store.get_run(i) for i in (mine, theirs)]
    assert [r.id for r in run_actions.changeable(ALICE, runs)] == [mine]
    assert [r.id for r in run_actions.changeable(TEACHER, runs)] == [mine, theirs]
    assert [run_actions.visible(ALICE, False, r) for r in runs] == [True, False]
    assert [run_actions.visible(ALICE, True, r) for r in runs] == [True, True]
    assert all(run_actions.visible(TEACHER, False, r) for r in runs)
    wait_until(lambda: not manager.active(), 30, "the manager to be idle")
