"""Who this session is, for the pages: the ``Identity`` that acts (``identity()``) and the name runs and
predictions are stored under (``current()``); "Mine / Everyone"; the laptop's name box.

On a class server both come from the sign-in (``ui/gate.py``): never from the address (``?student=`` is
ignored, with the link's notice) and never typed, so nobody can act or queue under another student's name.
On a laptop the user is ``LOCAL_USER`` (who owns every run) and only the Exercises page asks for a name (a
prediction belongs to someone); it labels the runs and predictions, it grants nothing. Names are shown as
plain text (markup kept literally).
"""
from __future__ import annotations

import streamlit as st

from experiments.access import Role
from experiments.i18n import N_, _
from experiments.store import StoreError
from experiments.store.classroom import class_settings
from experiments.store.records import MAX_STUDENT, clean_student
from ui import common, gate

KEY = common.STUDENT_KEY  # a laptop's typed name
SCOPES = {"Mine": N_("Mine"), "Everyone": N_("Everyone")}  # "Mine / Everyone": values stay English


def current() -> str:
    """The name this session's runs and predictions are stored under ("" for none: the teacher, or a laptop
    before a name is typed)."""
    if common.class_server():
        who = common.signed_in()
        return who.name if who is not None else ""
    return str(st.session_state.get(KEY, ""))


def is_student() -> bool:
    """Whether a student of a class server is signed in (whose view of others' runs the teacher decides)."""
    who = common.signed_in()
    return who is not None and who.role is Role.STUDENT


def others_visible() -> bool:
    """Whether this session may look at runs that are not its own (changing them is another matter)."""
    return not is_student() or class_settings(common.store()).others_visible


def name_form() -> bool:
    """True once this session has a name for its predictions: a signed-in student always; the teacher never
    (predictions are the students'); a laptop's user after typing one (shown as plain text)."""
    if current():
        return True
    if common.class_server():
        st.info(_("Predictions belong to students: sign in with a student's code to make one."),
                icon=":material/badge:")
        return False
    with st.form("student_name"):
        text = st.text_input(_("Your name"), key="student_name_box",
                             help=_("As your teacher should see it; up to {n} characters.").format(n=MAX_STUDENT))
        sent = st.form_submit_button(_("Continue"), type="primary", key="student_name_send")
    if sent:
        try:
            st.session_state[KEY] = clean_student(text)
        except StoreError as exc:
            st.error(common.message_text(exc), icon=":material/badge:")
            return False
        st.rerun()
    return False


def sidebar_badge() -> None:
    """Who this is, as plain text: the signed-in identity with Sign out (a class server), or a laptop's name."""
    if common.class_server():
        gate.signed_in_badge()
    elif current():
        st.sidebar.caption(_("Student: {name}").format(name=common.md_escape(current())))


def scope_filter(key: str) -> str | None:
    """The student to filter runs by, or None for everyone: a "Mine / Everyone" toggle when a name is set; a
    student who may not see the class's runs (the teacher's setting) gets their own, without a toggle."""
    if not current():
        return None
    if not others_visible():
        st.caption(_("Your runs (the teacher shows the class's runs to students, or not)."))
        return current()
    choice = st.segmented_control(_("Runs"), list(SCOPES), default="Mine", key=key, persist_state=common.KEEP,
                                  format_func=lambda scope: _(SCOPES[scope]))
    return current() if choice == "Mine" else None
