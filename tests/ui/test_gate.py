"""The class server's doors through AppTest (ui/gate.py): the class password first (refused without one,
wrong ones throttled), then the student's name, shown literally; only the teacher starts a sweep. (Who may
enter: tests/test_access.py; the student in the store: tests/store/test_students.py.)"""
from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from experiments.access import Throttle


@pytest.fixture
def class_server(offline_db, monkeypatch):
    """The dashboard as a class server: listening on every interface, its own store, no password set."""
    monkeypatch.delenv("MNIST_LAB_CLASS_PASSWORD", raising=False)
    monkeypatch.delenv("MNIST_LAB_TEACHER_PASSWORD", raising=False)
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield monkeypatch
    st_config.set_option("server.address", before)


def test_a_class_server_without_a_password_refuses_every_page(class_server, app):
    at = app().run()
    assert len(at.error) == 1 and "no class password is set" in at.error[0].value
    assert not at.title and not at.text_input and not at.sidebar.button


def test_a_class_server_asks_the_password_first_and_throttles_wrong_ones(class_server, app):
    from ui import gate

    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    frozen = Throttle(clock=lambda: 0.0)  # time stands still: the wait after a wrong password never ends
    class_server.setattr(gate, "_throttle", lambda: frozen)
    at = app().run()
    assert [t.label for t in at.text_input] == ["Class password"] and not at.sidebar.button
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password" in at.error[0].value
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    assert "Too many wrong passwords" in at.error[0].value  # right, but within the wait: not even compared
    assert [t.label for t in at.text_input] == ["Class password"]


def test_after_the_password_a_student_name_is_asked_and_shown_literally(class_server, app):
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    at = app().run()
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


def student_on_the_sweep_page(app) -> AppTest:
    """A student's session on the class server (password "open sesame", name Ann), on the Sweep page."""
    at = app().run()
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    at.text_input[0].input("Ann")
    at.button[0].click().run()
    return at.switch_page("ui/sweep_page.py").run()


def test_on_a_class_server_only_the_teacher_starts_a_sweep(class_server, app):
    """A sweep's worker processes take every core outside the class's run queue: a student sees no Start."""
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    class_server.setenv("MNIST_LAB_TEACHER_PASSWORD", "staff only")
    at = student_on_the_sweep_page(app)
    assert not at.exception and "Sweep" in [t.value for t in at.title]
    assert not [b for b in at.button if (b.key or "").startswith("sw_start")]  # no tab's Start button
    box = next(t for t in at.text_input if t.label == "Teacher password, to start a sweep")
    box.input("staff only")
    next(b for b in at.button if b.label == "Enter").click().run()
    assert {b.key for b in at.button} >= {"sw_start_grid", "sw_start_tpe", "sw_start_spec"}


def test_a_class_server_without_a_teacher_password_starts_no_sweep(class_server, app):
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")
    at = student_on_the_sweep_page(app)
    assert not [b for b in at.button if (b.key or "").startswith("sw_start")]  # no tab's Start button
    assert any("No teacher password is set" in e.value for e in at.error)
