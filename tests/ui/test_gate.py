"""The class server's door through AppTest (ui/gate.py): refused without a teacher password; otherwise
nothing before a sign-in with a personal code (typed or from the personal link, which leaves the address),
the school's sign-in only where [auth] is configured, or the teacher password; never a name from the address;
wrong codes throttled by address and account; the deep link's page after signing in; only the teacher starts
a sweep. (The roster and throttle themselves: tests/store/test_roster.py, tests/test_access.py.)"""
from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from experiments.access import Throttle
from experiments.store import RunStore, roster
from tests.ui.conftest import texts


@pytest.fixture
def class_server(offline_db, monkeypatch):
    """The dashboard as a class server: listening on every interface, its own store, no password set, and a
    throttle of its own (the server's is one per process, shared by every test)."""
    from ui import gate

    fresh = Throttle()
    monkeypatch.setattr(gate, "_throttle", lambda: fresh)
    monkeypatch.delenv("MNIST_LAB_CLASS_PASSWORD", raising=False)
    monkeypatch.delenv("MNIST_LAB_TEACHER_PASSWORD", raising=False)
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield monkeypatch
    st_config.set_option("server.address", before)


@pytest.fixture
def classroom(class_server, offline_db):
    """A class server with a teacher password and two students on the roster: their codes by name."""
    class_server.setenv("MNIST_LAB_TEACHER_PASSWORD", "staff only")
    store = RunStore(offline_db)
    codes = {name: roster.add_student(store, name).code for name in ("Ann", "<b>Bob</b>")}
    store.close_all()
    return codes


def sign_in(at: AppTest, code: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Your personal code").input(code)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def badge(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption if c.value.startswith("Signed in as")]


def test_a_class_server_without_a_teacher_password_refuses_every_page(class_server, app):
    class_server.setenv("MNIST_LAB_CLASS_PASSWORD", "open sesame")  # a class password names nobody: not enough
    at = app().run()
    assert len(at.error) == 1 and "no teacher password is set" in at.error[0].value
    assert not at.title and not at.text_input and not at.sidebar.button


def test_nothing_renders_before_a_sign_in_and_a_name_in_the_address_is_nobody(classroom, app):
    """Issue 24: /?student=alice after the class password acted as Alice."""
    at = app()
    at.query_params["student"] = "Ann"
    at.session_state["_student"] = "Ann"  # a laptop's typed name grants nothing on a class server
    at.run()
    assert [t.label for t in at.text_input] == ["Your personal code", "Teacher password"]
    assert [t.value for t in at.title] == ["MNIST MLP lab"] and not at.sidebar.button and not badge(at)


def test_a_code_signs_in_as_its_roster_name_shown_literally(classroom, app):
    at = sign_in(app().run(), classroom["<b>Bob</b>"])
    assert [t.value for t in at.title] == ["Train"]
    assert badge(at) == [r"Signed in as \<b\>Bob\</b\>"]
    assert at.session_state["_identity"].name == "<b>Bob</b>"


def test_wrong_codes_are_throttled_per_account_not_per_shared_address(classroom, app, monkeypatch):
    """Issue 24: one wrong password from a shared address locked out a classmate's right one. AppTest sessions
    have no address, so every session here shares one, as a class behind a NAT does."""
    from ui import gate

    frozen = Throttle(clock=lambda: 0.0)  # time stands still: a wait never ends
    monkeypatch.setattr(gate, "_throttle", lambda: frozen)
    ann_id = classroom["Ann"].split("-")[0]
    first = sign_in(app().run(), f"{ann_id}-wrongwrongwrong")
    assert "That code opens nothing" in texts(first)
    again = sign_in(app().run(), classroom["Ann"])  # Ann's right code, within the wait: not even compared
    assert "Too many wrong tries" in texts(again) and not badge(again)
    bob = sign_in(app().run(), classroom["<b>Bob</b>"])  # the classmate at the same address is not held up
    assert badge(bob) == [r"Signed in as \<b\>Bob\</b\>"]


def test_the_personal_link_signs_in_leaves_the_address_and_lands_on_its_page(classroom, app):
    """Issue 24: /history landed on Train after the password. (AppTest knows the pages only after a first run,
    so that run is the root; the browser test opens /history?code=... directly.)"""
    at = app().run()
    at.switch_page("ui/history_page.py").run()
    assert [t.label for t in at.text_input] == ["Your personal code", "Teacher password"]
    at.query_params["code"] = classroom["Ann"]
    at.run()
    assert "History" in [t.value for t in at.title] and badge(at) == ["Signed in as Ann"]
    assert "code" not in at.query_params


def test_a_wrong_personal_link_says_so_and_leaves_the_address(classroom, app):
    at = app()
    at.query_params["code"] = "1-nothingnothing"
    at.run()
    assert "That code opens nothing" in texts(at) and "code" not in at.query_params and not badge(at)


def test_a_revoked_code_opens_nothing(classroom, app, offline_db):
    store = RunStore(offline_db)
    roster.revoke(store, int(classroom["Ann"].split("-")[0]))
    at = sign_in(app().run(), classroom["Ann"])
    assert "That code opens nothing" in texts(at) and not badge(at)


def test_revoking_a_code_ends_a_session_signed_in_with_it(classroom, app, offline_db):
    at = sign_in(app().run(), classroom["Ann"])
    assert badge(at) == ["Signed in as Ann"]
    roster.revoke(RunStore(offline_db), int(classroom["Ann"].split("-")[0]))
    at.run()
    assert [t.label for t in at.text_input] == ["Your personal code", "Teacher password"] and not badge(at)


def test_the_teacher_signs_in_with_the_teacher_password_and_signs_out(classroom, app):
    at = app().run()
    next(t for t in at.text_input if t.label == "Teacher password").input("staff only")
    next(b for b in at.button if b.label == "Sign in as the teacher").click()
    at.run()
    assert badge(at) == ["Signed in as the teacher"]
    at.switch_page("ui/teacher_page.py").run()
    assert "Teacher" in [t.value for t in at.title] and not [t for t in at.text_input if "password" in t.label]
    at.sidebar.button(key="sign_out").click().run()
    assert [t.label for t in at.text_input] == ["Your personal code", "Teacher password"] and not badge(at)


def test_the_school_sign_in_is_offered_only_where_auth_is_configured(classroom, app):
    plain = app().run()
    assert not [b for b in plain.button if b.label.startswith("Sign in with")]
    at = app()
    at.secrets["auth"] = {"redirect_uri": "http://lab:8501/oauth2callback", "cookie_secret": "c",
                          "client_id": "id", "client_secret": "s",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    at.run()
    assert [b.label for b in at.button if b.label.startswith("Sign in with")] == ["Sign in with your school account"]


def student_on_the_sweep_page(app, code: str) -> AppTest:
    """A student's session on the class server, signed in with their code, on the Sweep page."""
    at = sign_in(app().run(), code)
    return at.switch_page("ui/sweep_page.py").run()


def test_on_a_class_server_only_the_teacher_starts_a_sweep(classroom, app):
    """A sweep's worker processes take every core outside the class's run queue: a student sees no Start."""
    at = student_on_the_sweep_page(app, classroom["Ann"])
    assert not at.exception and "Sweep" in [t.value for t in at.title]
    assert not [b for b in at.button if (b.key or "").startswith("sw_start")]  # no tab's Start button
    box = next(t for t in at.text_input if t.label == "Teacher password, to start a sweep")
    box.input("staff only")
    next(b for b in at.button if b.label == "Enter").click().run()
    assert {b.key for b in at.button} >= {"sw_start_grid", "sw_start_tpe", "sw_start_spec"}


def test_a_personal_link_signs_in_anew_and_a_wrong_one_changes_nothing(classroom, app):
    """A shared computer: Bob's browser is signed in when Ann opens her link; a guessed link (Bob's id, a made-up
    secret) leaves Ann Ann."""
    at = sign_in(app().run(), classroom["<b>Bob</b>"])
    at.query_params["code"] = classroom["Ann"]
    at.run()
    assert badge(at) == ["Signed in as Ann"] and "code" not in at.query_params
    at.query_params["code"] = classroom["<b>Bob</b>"].split("-")[0] + "-guessedguessed"
    at.run()
    assert badge(at) == ["Signed in as Ann"] and "That code opens nothing" in texts(at)


def test_the_sign_in_page_reads_in_the_links_language(classroom, app):
    """Issue 26: a teacher's link with lang=es opens the class's door in Spanish, the lab's name too."""
    at = app()
    at.query_params["lang"] = "es"
    at.run()
    assert [t.value for t in at.title] == ["Laboratorio MLP de MNIST"]
    assert [t.label for t in at.text_input] == ["Tu código personal", "Contraseña de docente"]
