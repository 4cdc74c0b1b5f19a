"""The class server's pieces without a browser: who may enter (address, passwords, constant-time check,
throttling), student names, the store's student column and predictions table (its migration), and the
dashboard's doors through AppTest (password first on a class server, refused without one)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from experiments.access import Attempt, Realm, Throttle, attempt, configured_password, is_local, matches
from experiments.config import RunConfig
from experiments.store import RunStore, StoreError, predictions
from experiments.store.schema import MIGRATIONS

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@pytest.mark.parametrize("address, local", [("localhost", True), ("127.0.0.1", True), ("::1", True),
                                            ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                            ("", False), (None, False), ("192.168.1.20", False),
                                            ("example.org", False)])
def test_which_addresses_are_local(address, local):
    assert is_local(address) is local


def test_passwords_come_from_secrets_then_the_environment():
    env = {"MNIST_LAB_CLASS_PASSWORD": "from-env", "MNIST_LAB_TEACHER_PASSWORD": "t"}
    assert configured_password(Realm.CLASS, {"password": "from-secrets"}, env) == "from-secrets"
    assert configured_password(Realm.CLASS, {}, env) == "from-env"
    assert configured_password(Realm.TEACHER, {}, env) == "t"
    assert configured_password(Realm.CLASS, {}, {}) == ""
    assert matches("s3cret", "s3cret") and not matches("s3cre", "s3cret") and not matches("", "")


def test_wrong_passwords_are_throttled_per_client():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0], max_wait_s=8)
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 1.0)
    assert attempt(throttle, "a", "right", "right")[0] is Attempt.WAIT  # not even compared while waiting
    assert attempt(throttle, "b", "right", "right")[0] is Attempt.OK    # another client is not affected
    now[0] = 1.5
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 2.0)
    now[0] = 4.0
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 4.0)
    now[0] = 100.0
    for _ in range(5):
        result, wait = attempt(throttle, "a", "wrong", "right")
        now[0] += wait
    assert wait == 8
    assert attempt(throttle, "a", "right", "right")[0] is Attempt.OK
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 1.0)  # success resets


@pytest.mark.parametrize("name, problem", [("x" * 10_000, "too long (10000 characters; at most 60)"),
                                           ("   ", "cannot be empty"), ("a\nb", "one line")])
def test_a_bad_student_name_is_refused_in_one_line(tmp_path, name, problem):
    store = RunStore(tmp_path / "s.sqlite")
    with pytest.raises(StoreError) as caught:
        store.create_run(RunConfig(), student=name)
    assert problem in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(StoreError):
        predictions.save_prediction(store, name, "01", {"value": "a"})
    assert store.count_runs() == 0 and predictions.predictions(store) == []


def test_runs_and_predictions_carry_the_student(tmp_path):
    store = RunStore(tmp_path / "s.sqlite")
    mine = store.create_run(RunConfig(), student="<b>Ann</b>")
    store.create_run(RunConfig(), student="Bob")
    store.create_run(RunConfig())
    assert [r.id for r in store.search_runs(student="<b>Ann</b>")] == [mine]
    assert len(store.search_runs()) == 3
    first = predictions.save_prediction(store, "<b>Ann</b>", "01_lr", {"kind": "winner", "value": "lr 0.1"})
    second = predictions.save_prediction(store, "<b>Ann</b>", "01_lr", {"kind": "winner", "value": "lr 0.001"})
    predictions.attach_group(store, second, "ex-1")
    latest = predictions.latest(store, student="<b>Ann</b>")
    assert latest[("<b>Ann</b>", "01_lr")].id == second and latest[("<b>Ann</b>", "01_lr")].group_id == "ex-1"
    assert [p.id for p in predictions.predictions(store, exercise="01_lr")] == [first, second]


def columns(conn, table: str) -> list[tuple]:
    return sorted(tuple(row[1:]) for row in conn.execute(f"PRAGMA table_info({table})"))


def test_the_classroom_migration_brings_an_older_file_to_the_fresh_schema(tmp_path):
    step = next(v for v, sql in MIGRATIONS.items() if "CREATE TABLE predictions" in sql)
    RunStore(tmp_path / "fresh.sqlite").close_all()
    old = RunStore(tmp_path / "old.sqlite")
    kept = old.create_run(RunConfig(), name="before the migration")
    old.close_all()
    conn = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    conn.executescript("DROP INDEX predictions_student; DROP TABLE predictions; ALTER TABLE runs DROP COLUMN student")
    for statement in filter(str.strip, MIGRATIONS[step].split(";")):
        conn.execute(statement)
    fresh = sqlite3.connect(tmp_path / "fresh.sqlite")
    for table in ("runs", "predictions"):
        assert columns(conn, table) == columns(fresh, table)
    assert conn.execute("SELECT name, student FROM runs WHERE id = ?", (kept,)).fetchone() == \
        ("before the migration", "")
    conn.close()
    fresh.close()


# ---------------------------------------------------------------------- the dashboard's doors (AppTest)
@pytest.fixture
def class_server(tmp_path, monkeypatch):
    """The dashboard as a class server: listening on every interface, its own store, no password set."""
    monkeypatch.setenv("RESULTS_DB", str(tmp_path / "runs.sqlite"))
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    monkeypatch.setenv("MNIST_DIR", str(empty))
    monkeypatch.delenv("MNIST_LAB_CLASS_PASSWORD", raising=False)
    monkeypatch.delenv("MNIST_LAB_TEACHER_PASSWORD", raising=False)
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield monkeypatch
    st_config.set_option("server.address", before)


def test_a_class_server_without_a_password_refuses_every_page(class_server):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert len(at.error) == 1 and "no class password is set" in at.error[0].value
    assert not at.title and not at.text_input and not at.sidebar.button


def test_a_class_server_asks_the_password_first_and_throttles_wrong_ones(class_server):
    from ui import gate

    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    frozen = Throttle(clock=lambda: 0.0)  # time stands still: the wait after a wrong password never ends
    class_server.setattr(gate, "_throttle", lambda: frozen)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert [t.label for t in at.text_input] == ["Class password"] and not at.sidebar.button
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password" in at.error[0].value
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    assert "Too many wrong passwords" in at.error[0].value  # right, but within the wait: not even compared
    assert [t.label for t in at.text_input] == ["Class password"]


def test_after_the_password_a_student_name_is_asked_and_shown_literally(class_server):
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    assert [t.label for t in at.text_input] == ["Your name"]
    at.text_input[0].input("y" * 10_000)
    at.button[0].click().run()
    assert len(at.error) == 1 and "10000 characters; at most 60" in at.error[0].value
    at.text_input[0].input("<b>Ann</b> [x](javascript:alert(1))")
    at.button[0].click().run()
    assert [t.value for t in at.title] == ["Train"]
    badge = [c.value for c in at.sidebar.caption if c.value.startswith("Student:")]
    assert badge == [r"Student: \<b\>Ann\</b\> \[x\]\(javascript\:alert\(1\)\)"]


def student_on_the_sweep_page() -> AppTest:
    """A student's session on the class server (password "open sesame", name Ann), on the Sweep page."""
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    at.text_input[0].input("Ann")
    at.button[0].click().run()
    return at.switch_page("ui/sweep_page.py").run()


def test_on_a_class_server_only_the_teacher_starts_a_sweep(class_server):
    """A sweep's worker processes take every core outside the class's run queue: a student sees no Start."""
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    class_server.setenv("MNIST_LAB_TEACHER_PASSWORD", "staff only")
    at = student_on_the_sweep_page()
    assert not at.exception and "Sweep" in [t.value for t in at.title]
    assert not [b for b in at.button if b.key == "sw_start"]
    box = next(t for t in at.text_input if t.label == "Teacher password, to start a sweep")
    box.input("staff only")
    next(b for b in at.button if b.label == "Enter").click().run()
    assert [b for b in at.button if b.key == "sw_start"]


def test_a_class_server_without_a_teacher_password_starts_no_sweep(class_server):
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    at = student_on_the_sweep_page()
    assert not [b for b in at.button if b.key == "sw_start"]
    assert any("No teacher password is set" in e.value for e in at.error)
