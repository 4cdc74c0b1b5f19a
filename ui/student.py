"""The student's name for this browser session: asked once, checked, shown as plain text.

On a class server every page needs it (after the class password); on a laptop only the Exercises page asks
(a prediction belongs to someone). Runs and predictions carry it (the store's ``student`` column), and
History and Compare can show "mine" or "everyone". Markup in a name is kept and shown literally.
"""
from __future__ import annotations

import streamlit as st

from experiments.access import LOCAL_USER, Identity, Realm, Role
from experiments.store import StoreError
from experiments.store.records import MAX_STUDENT, clean_student
from ui import common, gate

KEY = "_student"
URL_KEY = "student"  # the name is kept in the address bar too, so a reload does not ask again


def current() -> str:
    """This session's student name ("" before one is entered); a new session (a reload) takes it from the
    address bar if it is a valid name there."""
    if KEY not in st.session_state:
        try:
            st.session_state[KEY] = clean_student(st.query_params.get(URL_KEY, ""))
        except StoreError:
            st.session_state[KEY] = ""
    return str(st.session_state[KEY])


def name_form() -> bool:
    """A form asking for the name; True once this session has one. The name is shown as plain text."""
    if current():
        return True
    with st.form("student_name"):
        text = st.text_input("Your name", key="student_name_box",
                             help=f"As your teacher should see it; up to {MAX_STUDENT} characters.")
        sent = st.form_submit_button("Continue", type="primary")
    if sent:
        try:
            st.session_state[KEY] = clean_student(text)
        except StoreError as exc:
            st.error(common.message_text(exc), icon=":material/badge:")
            return False
        st.rerun()
    return False


def identity() -> Identity:
    """Who queues runs in this session, for the class's budgets: on a class server the student (or the
    teacher, once the teacher password is entered); on a laptop its one user."""
    if not gate.class_server():
        return LOCAL_USER
    return Identity(current(), Role.TEACHER if gate.passed(Realm.TEACHER) else Role.STUDENT)


def require_on_class_server() -> None:
    """On a class server, stop every page until the student has entered a name."""
    if gate.class_server() and not current():
        st.title("MNIST MLP lab")
        name_form()
        st.stop()


def sidebar_badge() -> None:
    """The name in the sidebar, as plain text; kept in the address bar so that a reload does not ask again."""
    name = current()
    if name:
        st.sidebar.caption(f"Student: {common.md_escape(name)}")
        if st.query_params.get(URL_KEY) != name:
            st.query_params[URL_KEY] = name


def scope_filter(key: str) -> str | None:
    """A "Mine / Everyone" toggle when a name is set: the student to filter runs by, or None for everyone."""
    if not current():
        return None
    choice = st.segmented_control("Runs", ["Mine", "Everyone"], default="Mine", key=key, persist_state=common.KEEP)
    return current() if choice == "Mine" else None
