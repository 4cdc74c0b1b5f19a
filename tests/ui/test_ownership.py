"""Ownership on the pages through AppTest, on a class server with two students: another's run is shown
read-only (no Stop, Pause, Resume, Continue, edit, delete or export) and only when the teacher lets students
see the class's runs; the tag editor refuses exercise tags; the Teacher page keeps the roster and the
setting. (The checks themselves, below the pages: tests/test_run_actions.py.)"""
from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from experiments.access import Identity, Role
from experiments.config import RunConfig
from experiments.store import RunStore, roster
from experiments.store.classroom import ClassSettings, class_settings, save_class_settings
from tests.ui.conftest import texts

ANN, BOB = Identity("Ann", Role.STUDENT), Identity("Bob", Role.STUDENT)


@pytest.fixture
def runs(offline_db, monkeypatch):
    """A class server's store with Ann's and Bob's runs: (Ann's queued, Bob's queued, Bob's finished)."""
    monkeypatch.setenv("MNIST_LAB_TEACHER_PASSWORD", "staff only")
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    store = RunStore(offline_db)
    config = RunConfig(hidden=(8,), epochs=1)
    ids = [store.create_run(config, name=f"{who}'s run", student=who) for who in ("Ann", "Bob", "Bob")]
    store.log_epoch(ids[2], {"epoch": 1, "train_loss": 0.5, "train_acc": 0.9, "test_loss": 0.5, "test_acc": 0.9,
                             "val_loss": 0.5, "val_acc": 0.9, "elapsed": 1.0})
    store.set_status(ids[2], "finished")
    store.close_all()
    yield ids
    st_config.set_option("server.address", before)


def signed_in(app, who: Identity, page: str = "", **state) -> AppTest:
    at = app()
    at.session_state["_identity"] = who
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at.switch_page(page).run() if page else at


def hide_the_class(path) -> None:
    store = RunStore(path)
    save_class_settings(store, ClassSettings(others_visible=False))
    store.close_all()


def test_train_shows_anothers_run_read_only(runs, app):
    """Issue 24: /train?runs=3 showed a classmate's run with Stop, Pause and Continue."""
    at = signed_in(app, ANN, watched=runs)
    assert [b.key for b in at.button if b.key and b.key.startswith("stop_")] == [f"stop_{runs[0]}"]
    assert not [b for b in at.button if b.key and b.key.endswith(f"_{runs[2]}")]  # no Resume / Continue
    assert not [p for p in at.get("popover") if "Continue" in str(p.proto)]
    assert at.caption and "Bob's run" in texts(at)
    teacher = signed_in(app, Identity("", Role.TEACHER), watched=runs)
    assert {b.key for b in teacher.button if b.key and b.key.startswith("stop_")} == {f"stop_{runs[0]}",
                                                                                      f"stop_{runs[1]}"}


def test_train_hides_anothers_run_when_the_teacher_hides_the_class(runs, app, offline_db):
    hide_the_class(offline_db)
    at = signed_in(app, ANN, watched=runs)
    assert at.session_state["watched"] == [runs[0]] and "Bob's run" not in texts(at)


def test_history_shows_anothers_run_read_only(runs, app):
    at = signed_in(app, ANN, "ui/history_page.py", compare_ids=[runs[2]])
    at.segmented_control(key="hist_scope").set_value("Everyone").run()
    assert not at.exception
    assert all(t.disabled for t in at.text_input if t.label in ("Name", "Tags")) and at.text_area[0].disabled
    assert next(b for b in at.button if b.key == "hist_delete").disabled
    assert "you can look at it and load its settings, not change it" in texts(at)
    assert not [b for b in at.button if b.key and "resume" in b.key]
    assert at.get("download_button")[0].proto.disabled  # nothing of Ann's is picked: nothing to export


def test_history_refuses_an_exercise_tag_in_one_line(runs, app, offline_db):
    """Issue 24: any run could be tagged exercise:01_learning_rate and join the leaderboard."""
    at = signed_in(app, ANN, "ui/history_page.py", compare_ids=[runs[0]])
    next(t for t in at.text_input if t.label == "Tags").input("baseline, exercise:01_learning_rate")
    next(b for b in at.button if b.label == "Save").click().run()
    assert any("Not saved" in e.value and "set by the exercise itself" in e.value for e in at.error)
    assert RunStore(offline_db).get_run(runs[0]).tags == []


def test_history_lists_only_ones_own_runs_when_the_teacher_hides_the_class(runs, app, offline_db):
    hide_the_class(offline_db)
    at = signed_in(app, ANN, "ui/history_page.py")
    assert not [c for c in at.get("button_group") if "hist_scope" in str(c.proto)]
    assert "1 of 3 runs" in texts(at)


def test_the_teacher_keeps_the_roster_and_decides_what_students_see(runs, app, offline_db):
    at = signed_in(app, Identity("", Role.TEACHER), "ui/teacher_page.py", _teacher_ok=True)
    at.text_area(key="roster_names").input("Cy\nDee\nCy")
    next(b for b in at.button if b.label == "Add and make their codes").click().run()
    assert any("already on the roster" in e.value for e in at.error)
    codes = [t.value.split(": ", 1)[1] for t in at.text if t.value.startswith(("Cy: ", "Dee: "))]
    store = RunStore(offline_db)
    assert [roster.check_code(store, c).name for c in codes] == ["Cy", "Dee"]
    assert [c.value for c in at.code][:2] == [f"/?code={c}" for c in codes]  # the personal links
    at.selectbox(key="roster_entry").set_value(roster.entries(store)[0].id)
    at.button(key="roster_revoke").click().run()
    assert roster.check_code(store, codes[0]) is None and roster.check_code(store, codes[1]).name == "Dee"
    at.toggle(key="teacher_others_visible").set_value(False).run()
    assert class_settings(store).others_visible is False


def test_inspect_and_compare_list_only_ones_own_runs_when_the_teacher_hides_the_class(runs, app, offline_db):
    from nn import MLP

    store = RunStore(offline_db)
    for run_id in (runs[0], runs[2]):  # weights for Ann's and Bob's runs: both inspectable
        store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        MLP([784, 8, 10], seed=0).save(str(store.weights_path(run_id)))
    hide_the_class(offline_db)
    inspect = signed_in(app, ANN, "ui/inspect_page.py")
    assert not inspect.exception and "Bob's run" not in " ".join(map(str, inspect.selectbox[0].options))
    compare = signed_in(app, ANN, "ui/compare_page.py")
    assert not compare.exception and not [c for c in compare.get("button_group") if "compare_scope" in str(c.proto)]


def test_a_link_of_an_exercise_with_its_locked_settings_changed_queues_nothing(offline_db, app):
    """Issue 24: any network could join an exercise's leaderboard by its link with the lock taken off."""
    at = app()
    at.query_params.update({"exercise": "01_learning_rate", "optimizer": "adam", "hidden": "512"})
    at.run()
    at.sidebar.button(key="train_button").click().run()
    assert any("Not queued: the exercise 01_learning_rate keeps optimizer, hidden" in e.value for e in at.sidebar.error)
    assert RunStore(offline_db).count_runs() == 0
