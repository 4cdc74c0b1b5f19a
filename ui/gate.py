"""The class server's door: who this session is, signed in before any page renders.

dashboard.py calls ``guard_server`` after ``st.navigation`` (so the page the address names, e.g.
``/history?runs=3``, is the page shown after signing in) and before the page runs. On a local server
(listening on localhost) it does nothing: the laptop's user is ``LOCAL_USER`` and owns every run. On a class
server the session is nobody until one of these signs it in:

- a **personal code** from the teacher's roster, typed in or carried by the student's personal link
  (``/?code=7-...``; the code is taken out of the address at once, so it is neither shown nor copied on);
- **Streamlit's own sign-in** (``st.login``, OpenID Connect) where ``[auth]`` is configured in the secrets,
  for schools with accounts (``teacher_emails`` in the secrets names the teachers among them);
- the **teacher password**.

A name is never taken from the address: ``?student=`` means nothing any more. A sign-in is remembered across
reloads and new tabs by a cookie holding a token the roster signs (``roster.remember_token``: an HMAC, no
code in it, voided by reissuing or revoking the code, expiring after a fortnight). Streamlit 1.67 reads
cookies (``st.context.cookies``) but has no call that sets one, so a one-line script written with
``st.html(..., unsafe_allow_javascript=True)`` sets it; only our own constant text and the token (digits and
hex) go into that script, never user text. Wrong codes and passwords go through ``access.Throttle`` by
address and account. The logic is ``experiments.access`` and ``experiments.store.roster``; this module draws.
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from typing import Any

import streamlit as st

from experiments.access import (
    Attempt,
    Identity,
    Realm,
    Role,
    Throttle,
    attempt_with,
    bucket,
    configured_password,
    matches,
    oidc_identity,
    oidc_providers,
)
from experiments.i18n import _
from experiments.store import StoreError, roster
from ui import common

_TEACHER_OK = "_teacher_ok"
_COOKIE_PENDING = "_signin_cookie"
_SIGNED_OUT = "_signed_out"
_TOKEN = "_signin_token"
CODE_PARAM = "code"
COOKIE = "mnist_lab_signin"


def _cookie_name() -> str:
    """The remember cookie's name, with the server's port: browsers keep cookies per host, not per port, so
    two class servers on one machine would otherwise overwrite each other's sign-in."""
    port = st.get_option("server.port")
    return f"{COOKIE}_{int(port)}" if isinstance(port, int) else COOKIE


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


def _sign_in(who: Identity, remember: str = "") -> None:
    """This session is ``who`` from now on; ``remember`` (a roster token) goes into the cookie on the next run."""
    st.session_state[common.IDENTITY_KEY] = who
    st.session_state[_TOKEN] = remember  # checked again on every run: a revoked or reissued code ends it
    st.session_state.pop(_SIGNED_OUT, None)
    if who.role is Role.TEACHER:
        st.session_state[_TEACHER_OK] = True
    if remember:
        st.session_state[_COOKIE_PENDING] = remember


def _client(account: str) -> str:
    return bucket(st.context.ip_address, account)


def _from_cookie() -> bool:
    """Sign in from a remembered token (a reload, a new tab); False when there is none or it no longer holds."""
    token = st.context.cookies.get(_cookie_name()) if st.context.cookies else None
    if not token:
        return False
    try:
        entry = roster.check_token(common.store(), str(token), password(Realm.TEACHER))
    except StoreError:
        return False
    if entry is None:
        return False
    _sign_in(Identity("", Role.TEACHER) if entry.id == roster.TEACHER_ENTRY else Identity(entry.name, Role.STUDENT))
    return True


def _token(entry_id: int, teacher_password: str = "") -> str:
    """A remember token for the cookie; "" when the store cannot make one (e.g. a read-only store file: the
    sign-in then lasts this session only)."""
    try:
        return roster.remember_token(common.store(), entry_id, teacher_password)
    except StoreError:
        return ""


def _try_code(text: str) -> str:
    """Sign in with a roster code; "" when it worked, else the one line saying why not."""
    entry_id = roster.entry_of_code(text)
    account = f"code:{entry_id}" if entry_id is not None else "code:?"
    result, wait, entry = attempt_with(_throttle(), _client(account), lambda: roster.check_code(common.store(), text))
    if result is Attempt.OK and entry is not None:
        _sign_in(Identity(entry.name, Role.STUDENT), _token(entry.id))
        return ""
    if result is Attempt.WAIT:
        return _("Too many wrong tries: try again in {seconds} s.").format(seconds=math.ceil(wait))
    return _("That code opens nothing (mistyped, or revoked by the teacher); the next try is possible in "
             "{seconds} s.").format(seconds=math.ceil(wait))


def _try_teacher(given: str) -> str:
    """Sign in as the teacher; "" when it worked, else the one line saying why not."""
    return _teacher_attempt(given)[1]


def _teacher_attempt(given: str) -> tuple[Attempt, str]:
    """Sign in as the teacher: the attempt's result, and "" when it worked, else the one line saying why not."""
    expected = password(Realm.TEACHER)
    result, wait, _opened = attempt_with(_throttle(), _client("teacher"),
                                         lambda: True if matches(given, expected) else None)
    if result is Attempt.OK:
        _sign_in(Identity("", Role.TEACHER), _token(roster.TEACHER_ENTRY, expected))
        return result, ""
    if result is Attempt.WAIT:
        return result, _("Too many wrong passwords: try again in {seconds} s.").format(seconds=math.ceil(wait))
    return result, _("Wrong password; the next try is possible in {seconds} s.").format(seconds=math.ceil(wait))


def _from_link() -> str | None:
    """A personal link's code (``?code=``): taken out of the address whatever it holds, then tried; None when
    the address holds none, else "" (signed in) or the one line saying why not."""
    if CODE_PARAM not in st.query_params:
        return None
    text = st.query_params.get(CODE_PARAM, "")
    del st.query_params[CODE_PARAM]
    return _try_code(text)


def _from_provider() -> bool:
    """Signed in through ``st.login`` (only asked where ``[auth]`` is configured)."""
    user = st.user.to_dict() if oidc_providers(_secrets()) else {}
    if not user.get("is_logged_in"):
        return False
    who = oidc_identity(user, _secrets().get("teacher_emails", ()))
    if who is None:
        return False
    _sign_in(who)
    return True


def _write_cookie(token: str) -> None:
    """Set (or, with "", clear) the remember cookie in the browser (see the module docstring)."""
    if token and not all(c.isalnum() or c == "." for c in token):
        return  # never reached: a token is digits, dots and hex; nothing else goes into the script
    age = roster.REMEMBER_S if token else 0
    st.html(f"<script>document.cookie = '{_cookie_name()}={token}; path=/; max-age={age}; SameSite=Strict' + "
            f"(location.protocol === 'https:' ? '; Secure' : '');</script>", unsafe_allow_javascript=True)


def remember_pending() -> None:
    """After a sign-in: put the remember token into the browser's cookie, once."""
    token = st.session_state.pop(_COOKIE_PENDING, "")
    if token:
        with st.sidebar:
            _write_cookie(str(token))


def sign_out() -> None:
    """Forget this session's sign-in and the browser's remembered one."""
    for key in (common.IDENTITY_KEY, _TEACHER_OK, _COOKIE_PENDING, _TOKEN):
        st.session_state.pop(key, None)
    st.session_state[_SIGNED_OUT] = "clear the cookie"
    if oidc_providers(_secrets()) and st.user.to_dict().get("is_logged_in"):
        st.logout()
    st.rerun()


def restore_sign_in() -> None:
    """Before navigation, without drawing: sign in from a remembered token (a reload, a new tab) or the
    school's sign-in, so the page and its sidebar appear on the first run."""
    if common.signed_in() is not None:
        _still_valid()
        return
    if st.session_state.get(_SIGNED_OUT):
        return  # after Sign out this session's cookie still holds the old token: it is not read again
    _from_cookie() or _from_provider()


def _still_valid() -> None:
    """End this session's sign-in when the teacher has revoked or reissued its code (or changed the teacher
    password) since: the session's token no longer checks. One HMAC and one row read per run."""
    token = st.session_state.get(_TOKEN)
    if not common.class_server() or not token:
        return
    try:
        valid = roster.check_token(common.store(), str(token), password(Realm.TEACHER)) is not None
    except StoreError:
        return  # the store cannot be read just now: the pages will say so
    if not valid:
        for key in (common.IDENTITY_KEY, _TEACHER_OK, _COOKIE_PENDING, _TOKEN):
            st.session_state.pop(key, None)


def guard_server() -> None:
    """Stop here unless this session is signed in (see the module docstring)."""
    if not common.class_server():
        return
    # a personal link signs in anew, whoever this browser was (a shared computer: the next student's link)
    refusal = _from_link()
    if refusal == "":
        st.rerun()  # signed in by the personal link: draw the page with its navigation
    if common.signed_in() is not None:
        if refusal:  # a wrong link changes nothing: this session stays who it was
            st.error(refusal, icon=":material/lock:")
        return
    if st.session_state.get(_SIGNED_OUT) == "clear the cookie":
        _write_cookie("")
        st.session_state[_SIGNED_OUT] = "cleared"
    providers = oidc_providers(_secrets())
    if not password(Realm.TEACHER) and not providers:
        address = st.get_option("server.address")
        line = (_("This server listens on {address} but no teacher password is set, so nobody can sign in to make "
                  "the class's roster: set teacher_password in .streamlit/secrets.toml or "
                  "MNIST_LAB_TEACHER_PASSWORD, or run it on localhost.").format(address=address) if address
                else _("This server listens on every network interface but no teacher password is set, so nobody "
                       "can sign in to make the class's roster: set teacher_password in .streamlit/secrets.toml "
                       "or MNIST_LAB_TEACHER_PASSWORD, or run it on localhost."))
        print(line, file=sys.stderr)
        st.error(line, icon=":material/lock:")
        st.stop()
    st.title(_("MNIST MLP lab"))
    _sign_in_forms(providers, refusal or "")
    st.stop()


def _sign_in_forms(providers: list[str | None], refusal: str) -> None:
    """The personal code box, the school's sign-in buttons, and the teacher's password."""
    if refusal:
        st.error(refusal, icon=":material/lock:")
    with st.form("sign_in_code"):
        given = st.text_input(_("Your personal code"), type="password", key="sign_in_code_box",
                              help=_("The code (or personal link) your teacher gave you, e.g. 7-abcd..."))
        sent = st.form_submit_button(_("Sign in"), type="primary", key="sign_in_code_send")
    if sent:
        _retry_or_say(_try_code(given))
    for provider in providers:
        label = (_("Sign in with {provider}").format(provider=provider) if provider
                 else _("Sign in with your school account"))
        if st.button(label, key=f"sign_in_{provider}",
                     icon=":material/account_circle:"):
            st.login(provider) if provider else st.login()
    if password(Realm.TEACHER):
        with st.expander(_("Teacher")), st.form("sign_in_teacher"):
            given = st.text_input(_("Teacher password"), type="password", key="sign_in_teacher_box")
            sent = st.form_submit_button(_("Sign in as the teacher"), key="sign_in_teacher_send")
        if sent:
            _retry_or_say(_try_teacher(given))


def _retry_or_say(refusal: str) -> None:
    if not refusal:
        st.rerun()
    st.error(refusal, icon=":material/lock:")


def signed_in_badge() -> None:
    """In the sidebar on a class server: who is signed in (as plain text) and Sign out."""
    who = common.signed_in()
    if not common.class_server() or who is None:
        return
    st.sidebar.caption(_("Signed in as the teacher") if who.role is Role.TEACHER
                       else _("Signed in as {name}").format(name=common.md_escape(who.name)))
    if st.sidebar.button(_("Sign out"), key="sign_out", icon=":material/logout:"):
        sign_out()


def passed(realm: Realm) -> bool:
    """Whether this session is the teacher (``Realm.TEACHER``); every signed-in session for ``Realm.CLASS``."""
    if realm is Realm.TEACHER:
        return bool(st.session_state.get(_TEACHER_OK))
    return common.signed_in() is not None


def teacher_allowed(label: str = "") -> bool:
    """True when this session may do what only the teacher may: it signed in as the teacher or entered the
    teacher password here, or no teacher password is set on a local server (a laptop). A class server without
    one refuses, in one line. ``label``: the password box's label ("Teacher password" when empty)."""
    if st.session_state.get(_TEACHER_OK):
        return True
    if password(Realm.TEACHER):
        return ask_teacher(label or _("Teacher password"))
    if common.class_server():
        st.error(_("No teacher password is set: set teacher_password in .streamlit/secrets.toml or "
                   "MNIST_LAB_TEACHER_PASSWORD."), icon=":material/lock:")
        return False
    return True


def ask_teacher(label: str) -> bool:
    """The teacher password form; True once this session has entered it (on a class server the session is
    then the teacher's)."""
    with st.form(f"password_{Realm.TEACHER}"):
        given = st.text_input(label, type="password", key=f"password_box_{Realm.TEACHER}")
        sent = st.form_submit_button(_("Enter"), key=f"password_send_{Realm.TEACHER}")
    if not sent:
        return False
    result, refusal = _teacher_attempt(given)
    if not refusal:
        if not common.class_server():  # a laptop's user stays LOCAL_USER: the password only opens the teacher's view
            st.session_state.pop(common.IDENTITY_KEY, None)
            st.session_state.pop(_COOKIE_PENDING, None)
        st.rerun()
    st.error(refusal, icon=":material/hourglass_top:" if result is Attempt.WAIT else ":material/lock:")
    return False
