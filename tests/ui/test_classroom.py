"""The classroom pages through AppTest: a prediction out of range is one line and stores nothing; a good
one is stored before anything runs; History filters "mine / everyone"; the Teacher page counts the class's
right predictions and keeps the test accuracy hidden until revealed."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig
from experiments.exercises.play import exercise_tag
from experiments.store import RunStore, predictions
from tests.ui.conftest import texts

NUMBER_EXERCISE = '''
title = "Number"
question = "What accuracy?"
explanation = "Because."
seeds = [0, 1]
[base]
hidden = "8"
epochs = 2
train_size = 500
[[runs]]
label = "a"
lr = 0.1
[[runs]]
label = "b"
lr = 0.001
[prediction]
kind = "number"
run = "a"
'''


@pytest.fixture
def env(offline_db, tmp_path, monkeypatch) -> Path:
    """The app's store (no MNIST) with one number exercise in its own folder, no teacher password."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "num.toml").write_text(NUMBER_EXERCISE)
    monkeypatch.setenv("MNIST_LAB_EXERCISES", str(folder))
    monkeypatch.delenv("MNIST_LAB_TEACHER_PASSWORD", raising=False)
    return offline_db


def on_page(app, page: str, student: str = "Ann") -> AppTest:
    at = app()
    at.session_state["_student"] = student
    at.run()
    at.switch_page(page)
    return at.run()


def box(at: AppTest, label: str):
    return next(t for t in at.text_input if t.label.startswith(label))


def test_a_prediction_out_of_range_is_one_line_and_stores_nothing(env, app):
    at = on_page(app, "ui/exercises_page.py")
    box(at, "Your prediction").input("150")
    at.button(key="save_num").click().run()
    assert len(at.error) == 1 and "from 0% to 100%" in at.error[0].value
    assert predictions.predictions(RunStore(env)) == []
    box(at, "Your prediction").input("90")
    at.button(key="save_num").click().run()
    stored = predictions.predictions(RunStore(env))
    assert [(p.student, p.exercise, p.answer, p.group_id) for p in stored] == \
        [("Ann", "num", {"kind": "number", "value": 0.9}, None)]
    assert RunStore(env).count_runs() == 0  # nothing runs before "Run the exercise"
    assert at.button(key="run_num")


def test_history_filters_mine_and_everyone(env, app):
    store = RunStore(env)
    for who in ("Ann", "Bob", "Bob"):
        store.create_run(RunConfig(), student=who)
    at = on_page(app, "ui/history_page.py")
    assert len(at.dataframe[0].value) == 1
    at.segmented_control(key="hist_scope").set_value("Everyone").run()
    assert len(at.dataframe[0].value) == 3


def finished_run(store: RunStore, student: str, val: float, test: float) -> int:
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=1), student=student, tags=[exercise_tag("num")])
    store.log_epoch(run_id, {"epoch": 1, "train_loss": 0.5, "test_loss": 0.5, "train_acc": 0.9, "test_acc": test,
                             "val_acc": val, "seconds": 0.1, "elapsed": 0.1})
    store.set_status(run_id, "finished")
    return run_id


def exercise_group(store: RunStore, student: str, group: str, finals: dict[float, float]) -> None:
    """The exercise's four runs (lr 0.1 and 0.001, seeds 0 and 1), finished with these final test accuracies
    per learning rate."""
    for lr, final in finals.items():
        for seed in (0, 1):
            config = RunConfig(hidden=(8,), epochs=2, train_size=500, lr=lr, seed=seed)
            run_id = store.create_run(config, group_id=group, student=student)
            for epoch in (1, 2):
                store.log_epoch(run_id, {"epoch": epoch, "test_acc": final - 0.1 / epoch + seed / 100})
            store.set_status(run_id, "finished")


def test_the_teacher_sees_the_class_and_reveals_the_test_accuracy_on_demand(env, app):
    store = RunStore(env)
    for who, guess in (("Ann", 0.9), ("Bob", 0.2), ("Cy", 0.5)):
        prediction = predictions.save_prediction(store, who, "num", {"kind": "number", "value": guess})
        if who != "Cy":  # Cy has not run it yet
            predictions.attach_group(store, prediction, f"g-{who}")
            exercise_group(store, who, f"g-{who}", {0.1: 0.95, 0.001: 0.5})
    finished_run(store, "Ann", 0.91, 0.905)
    finished_run(store, "Bob", 0.80, 0.795)
    at = on_page(app, "ui/teacher_page.py", student="Teacher")
    assert not at.exception
    assert at.metric[0].value == "1 of 2"
    table = at.dataframe[0].value
    assert list(table["student"]) == ["Ann", "Bob", "Cy"] and list(table["result"]) == ["right", "wrong", "not run"]
    assert list(table["prediction"]) == ["90.00%", "20.00%", "50.00%"]
    leaderboard = at.dataframe[-1].value
    assert list(leaderboard["student"]) == ["Ann", "Bob"]
    assert list(leaderboard["validation accuracy"]) == [0.91, 0.80]
    assert list(leaderboard["epoch"]) == [1, 1]  # the epoch they are read at, also without a best epoch (item 12)
    assert "test accuracy" not in leaderboard
    at.toggle(key="teacher_show_test").set_value(True).run()
    assert list(at.dataframe[-1].value["test accuracy"]) == [0.905, 0.795]


def test_the_teacher_page_says_students_see_no_test_number_until_it_is_revealed(env, app):
    """Issue 23 made the page say only the leaderboard hid the test accuracy (true then); issue 24 hides it from
    students everywhere until revealed (tests/ui/test_test_hidden.py), and the page says so."""
    finished_run(RunStore(env), "Ann", 0.91, 0.905)
    at = on_page(app, "ui/teacher_page.py", student="Teacher")
    words = texts(at)
    assert "hidden until you reveal it" in words
    for place in ("History", "Compare", "Sweep", "Inspect", "export"):
        assert place in words
    at.toggle(key="teacher_reveal_test").set_value(True).run()
    assert "Students see every run's test accuracy" in texts(at)


def test_a_name_in_the_address_is_nobody_and_gets_the_links_notice(env, app):
    """Issue 24: the student's name was taken from ?student= (on a class server too: anyone could be anyone).
    The address names nobody now, on a laptop as well; the link says it ignored the parameter."""
    at = app()
    at.query_params["student"] = "<b>Ann</b>"
    at.run()
    assert not [c.value for c in at.sidebar.caption if c.value.startswith("Student:")]
    assert "_student" not in at.session_state
    assert "The link's parameter 'student' is not a setting and was ignored." in texts(at)
