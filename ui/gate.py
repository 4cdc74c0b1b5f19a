"""The class server's doors: the class password before any page, the teacher password before the teacher view.

dashboard.py calls ``guard_server`` before anything renders. On a local server (listening on localhost) it
does nothing. On a class server it stops the page with one line if no class password is configured, and
otherwise shows only a password box until the session has entered it. The logic (address, passwords,
constant-time comparison, throttling) is ``experiments.access``; this module only draws it.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import streamlit as st

from experiments.access import Attempt, Realm, Throttle, attempt, configured_password, is_local

_PASSED = {Realm.CLASS: "_class_ok", Realm.TEACHER: "_teacher_ok"}


@st.cache_resource(show_spinner=False)
def _throttle() -> Throttle:
    """One throttle per server process, shared by every session (a new tab does not reset the wait)."""
    return Throttle()


def _secrets() -> Mapping[str, Any]:
    """Streamlit secrets as a mapping ({} when there is no secrets file)."""
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # no secrets.toml (or an unreadable one): the environment may still set the password
        return {}


def password(realm: Realm) -> str:
    return configured_password(realm, _secrets(), os.environ)


def class_server() -> bool:
    """Whether this server listens on anything but localhost."""
    return not is_local(st.get_option("server.address"))


def guard_server() -> None:
    """Stop here unless this session may see the pages (see the module docstring)."""
    if not class_server() or st.session_state.get(_PASSED[Realm.CLASS]):
        return
    if not password(Realm.CLASS):
        line = (f"This server listens on {st.get_option('server.address') or 'every network interface'} but no "
                f"class password is set: set password in .streamlit/secrets.toml or MNIST_LAB_CLASS_PASSWORD, "
                f"or run it on localhost.")
        print(line, file=sys.stderr)
        st.error(line, icon=":material/lock:")
        st.stop()
    st.title("MNIST MLP lab")
    ask(Realm.CLASS, "Class password")
    st.stop()


def passed(realm: Realm) -> bool:
    """Whether this session has entered ``realm``'s password."""
    return bool(st.session_state.get(_PASSED[realm]))


def teacher_allowed(label: str = "Teacher password") -> bool:
    """True when this session may do what only the teacher may: it has entered the teacher password, or no
    teacher password is set on a local server (a laptop). A class server without one refuses, in one line."""
    if password(Realm.TEACHER):
        return ask(Realm.TEACHER, label)
    if class_server():
        st.error("No teacher password is set: set teacher_password in .streamlit/secrets.toml or "
                 "MNIST_LAB_TEACHER_PASSWORD.", icon=":material/lock:")
        return False
    return True


def ask(realm: Realm, label: str) -> bool:
    """A password form for ``realm``; True once this session has entered the right password."""
    if st.session_state.get(_PASSED[realm]):
        return True
    with st.form(f"password_{realm}"):
        given = st.text_input(label, type="password", key=f"password_box_{realm}")
        sent = st.form_submit_button("Enter")
    if not sent:
        return False
    ip = st.context.ip_address
    client = f"{realm}:{ip if isinstance(ip, str) else 'unknown'}"
    result, wait = attempt(_throttle(), client, given, password(realm))
    if result is Attempt.OK:
        st.session_state[_PASSED[realm]] = True
        st.rerun()
    if result is Attempt.WAIT:
        st.error(f"Too many wrong passwords: try again in {wait:.0f} s.", icon=":material/hourglass_top:")
    else:
        st.error(f"Wrong password; the next try is possible in {wait:.0f} s.", icon=":material/lock:")
    return False
