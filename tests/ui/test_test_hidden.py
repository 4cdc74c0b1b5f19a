"""On a class server a student sees no test-set number on any page until the teacher reveals them
(experiments/visibility.py); the teacher always does. Property-style: the store holds runs whose test numbers
are distinctive (test accuracy 43.21%, test loss 7.654), and every page's rendered text, tables, charts and
download buttons are scanned for them."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from experiments.access import Identity, Role
from experiments.config import RunConfig
from experiments.exercises.play import exercise_tag
from experiments.store import RunStore, predictions
from experiments.store.classroom import ClassSettings, class_settings, save_class_settings
from nn import MLP
from tests.conftest import make_dataset
from tests.ui.conftest import texts
from ui import common

TEST_ACC, TEST_LOSS = 0.4321, 7.654
TELLS = ("43.21", "0.4321", "43.2%", "7.654", "7.65")  # how the test numbers would read anywhere
PAGES = ["ui/train_page.py", "ui/history_page.py", "ui/compare_page.py", "ui/report_page.py", "ui/inspect_page.py",
         "ui/sweep_page.py", "ui/insights_page.py", "ui/exercises_page.py", "ui/teacher_page.py"]
EXERCISE = '''
title = "Learning rate"
question = "Which learning rate wins?"
explanation = "Because."
seeds = [0, 1]
metric = "test_acc"
[base]
hidden = "8"
epochs = 2
train_size = 500
val_size = 0
[[runs]]
label = "a"
lr = 0.1
[[runs]]
label = "b"
lr = 0.001
[prediction]
kind = "winner"
'''


@pytest.fixture
def class_server(offline_db, monkeypatch, tmp_path):
    """The dashboard as a class server with both passwords set, exercises of its own."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "lr.toml").write_text(EXERCISE)
    monkeypatch.setenv("MNIST_LAB_EXERCISES", str(folder))
    monkeypatch.setenv("MNIST_LAB_CLASS_PASSWORD", "class")
    monkeypatch.setenv("MNIST_LAB_TEACHER_PASSWORD", "teacher")
    monkeypatch.setenv("MNIST_DIR", str(make_dataset(tmp_path / "mnist", n_train=10_050, n_test=50)))
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield offline_db
    st_config.set_option("server.address", before)


def populate(path: Path) -> list[int]:
    """Ann's runs: two seeds with validation, one without (compared on test), an exercise attempt and a sweep's
    trials; every epoch's test accuracy is TEST_ACC and its test loss TEST_LOSS; weights saved."""
    store = RunStore(path)
    ids = []
    plans = [(RunConfig(hidden=(8,), lr=0.01, seed=s, epochs=2, train_size=1000), {}) for s in (0, 1)]
    plans.append((RunConfig(hidden=(8,), lr=0.1, seed=0, epochs=2, train_size=1000, val_size=0), {}))
    plans += [(RunConfig(hidden=(8,), lr=lr, seed=s, epochs=2, train_size=500, val_size=0),
               {"tags": [exercise_tag("lr")], "group_id": "ex-ann"}) for lr in (0.1, 0.001) for s in (0, 1)]
    plans += [(RunConfig(hidden=(8,), lr=lr, seed=0, epochs=2, train_size=1000),
               {"tags": ["sweep:sw1"], "group_id": "sw1", "name": f"grid #{k}: lr={lr}"})
              for k, lr in enumerate((0.1, 0.01))]
    for config, extra in plans:
        run_id = store.create_run(config, student="Ann", source="dashboard", **extra)
        for epoch in (1, 2):
            logs = {"epoch": epoch, "train_loss": 1.0 / epoch, "train_acc": 0.8 + 0.05 * epoch + config.lr,
                    "test_loss": TEST_LOSS, "test_acc": TEST_ACC, "seconds": 0.5, "elapsed": 0.5 * epoch}
            if config.val_size:
                logs.update(val_loss=1.05 / epoch, val_acc=0.79 + 0.04 * epoch + config.seed / 200)
            store.log_epoch(run_id, logs)
        store.set_status(run_id, "finished")
        store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        MLP(config.sizes(), seed=config.seed).save(str(store.weights_path(run_id)))
        ids.append(run_id)
    prediction = predictions.save_prediction(store, "Ann", "lr", {"kind": "winner", "value": "a"})
    predictions.attach_group(store, prediction, "ex-ann")
    store.close()
    return ids


def session(app, ids: list[int], teacher: bool = False) -> AppTest:
    """A session signed in as the student Ann (or as the teacher), every run ticked."""
    at = app(timeout=60)
    at.session_state[common.IDENTITY_KEY] = Identity("", Role.TEACHER) if teacher else Identity("Ann", Role.STUDENT)
    if teacher:
        at.session_state["_teacher_ok"] = True
    at.session_state["compare_ids"] = ids
    at.session_state["watched"] = ids
    return at.run()


def everything_shown(at: AppTest) -> str:
    """The page's texts, tables (every cell), metrics, charts' data and download buttons' labels and data."""
    parts = [texts(at), *(str(m.value) + str(m.label) for m in at.metric)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [table.value.to_csv() for table in at.table]
    parts += [chart.proto.spec for chart in at.get("plotly_chart")]
    parts += [str(b.proto) for b in at.get("download_button")]
    parts += [str(e.value) for e in at.exception]
    return "\n".join(parts)


def tells(shown: str) -> list[str]:
    return [t for t in TELLS if t in shown]


def visit_every_page(at: AppTest) -> dict[str, str]:
    seen = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = everything_shown(at)
        if page == "ui/sweep_page.py" and at.selectbox:
            shown += everything_shown(at)
        seen[page] = shown
    return seen


def test_a_student_sees_no_test_number_on_any_page_until_the_teacher_reveals_them(class_server, app):
    ids = populate(class_server)
    seen = visit_every_page(session(app, ids))
    leaks = {page: tells(shown) for page, shown in seen.items() if tells(shown)}
    assert leaks == {}
    assert "hidden until your teacher reveals" in seen["ui/inspect_page.py"]

    store = RunStore(class_server)
    save_class_settings(store, ClassSettings(test_revealed=True))
    assert class_settings(store).test_revealed
    revealed = visit_every_page(session(app, ids))
    assert tells(revealed["ui/history_page.py"]) and tells(revealed["ui/compare_page.py"])


def test_the_teacher_sees_the_test_numbers_before_revealing_them(class_server, app):
    ids = populate(class_server)
    at = session(app, ids, teacher=True)
    at.switch_page("ui/history_page.py").run()
    assert not at.exception and tells(everything_shown(at))


def test_the_teacher_reveals_the_test_numbers_with_one_toggle(class_server, app):
    populate(class_server)
    at = session(app, [], teacher=True)
    at.switch_page("ui/teacher_page.py").run()
    words = texts(at)
    assert "hidden until you reveal it" in words
    at.toggle(key="teacher_reveal_test").set_value(True).run()
    assert not at.exception and class_settings(RunStore(class_server)).test_revealed
    at.toggle(key="teacher_reveal_test").set_value(False).run()
    assert not class_settings(RunStore(class_server)).test_revealed
