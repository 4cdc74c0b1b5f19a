"""The URL query string mirrors the sidebar settings and the page; opening a link restores them once.

``apply_once`` runs at the top of every script run (dashboard.py) but reads the link only on the first run
of a browser session: the link's valid settings become the sidebar's values, its lock/hide flags are kept
for the session, and each bad parameter is one notice. ``mirror`` then writes the current settings, the
page and the flags back into the query string on every run, so the address bar is always a link to what
the user sees. ``copy_link`` shows the full link with Streamlit's copy button (st.code has one).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import streamlit as st

from experiments import i18n
from experiments.config import RunConfig, schema
from experiments.exercises.spec import load_all
from experiments.i18n import _
from experiments.settings.links import EXERCISE, LANG, LinkState, link_keys, read_link, write_link
from experiments.settings.setting import Widget
from ui import common

# Query parameters that pages keep for themselves: Train's watched runs (ui/train_page.URL_KEY). A student's
# name is not one of them: who a session is comes from its sign-in only (ui/gate.py), so ?student= is noticed
# as a parameter that was ignored.
PAGE_KEYS = ("runs",)
_READ, _LOCK, _HIDE, _NOTICES, _EXERCISE = "_link_read", "_link_locked", "_link_hidden", "_link_notices", "_link_ex"


def _widget_value(name: str, value: Any) -> Any:
    """A typed setting value as its sidebar widget holds it (text boxes hold text)."""
    entry = next(e for e in schema() if e.name == name)
    return entry.setting.parse.to_text(value) if entry.setting.widget is Widget.TEXT else value


def widget_values(config: RunConfig) -> dict[str, Any]:
    """The sidebar's session-state values showing ``config`` (the "load into sidebar" mapping)."""
    return {common.config_key(e.name): _widget_value(e.name, getattr(config, e.name))
            for e in schema() if e.setting.in_sidebar}


def init_settings() -> None:
    """Default values of every sidebar setting live in Session State (the sidebar and links read them)."""
    for entry in schema():
        if entry.setting.in_sidebar:
            st.session_state.setdefault(common.config_key(entry.name),
                                        _widget_value(entry.name, getattr(RunConfig(), entry.name)))


def apply_once(current_page: str) -> None:
    """On a session's first run: apply the link's settings and flags; switch to its page if it names one."""
    if st.session_state.get(_READ):
        return
    st.session_state[_READ] = True
    params = st.query_params.to_dict()
    known = {e.id for e in load_all()[0]} if params.get(EXERCISE) else None
    state: LinkState = read_link(params, tuple(common.PAGES), PAGE_KEYS, exercises=known)
    for name, value in state.values.items():
        st.session_state[common.config_key(name)] = _widget_value(name, value)
    st.session_state[_LOCK], st.session_state[_HIDE] = state.locked, state.hidden
    st.session_state[_EXERCISE] = state.exercise
    st.session_state[_NOTICES] = (state.page or current_page, state.notices)
    if state.page and state.page != current_page:
        st.switch_page(common.PAGES[state.page], query_params=st.query_params.to_dict())


def apply_pending() -> None:
    """Settings sent by History's "Load into sidebar" (``common.load_into_sidebar``) become the sidebar's
    values. Called before ``mirror``, so the address bar and "Copy link" show the loaded settings in the same
    run (and a reload keeps them), as they do after any other change of the sidebar."""
    pending = st.session_state.pop(common.PENDING_CONFIG, None)
    if not pending:
        return
    st.session_state.update(widget_values(RunConfig.from_dict(pending)))
    st.session_state[common.CONFIG_LOADED] = True


def locked() -> frozenset[str]:
    return frozenset(st.session_state.get(_LOCK, frozenset()))


def hidden() -> frozenset[str]:
    return frozenset(st.session_state.get(_HIDE, frozenset()))


def exercise() -> str:
    """The exercise a link came from ("" if none): runs queued from Train carry its tag."""
    return str(st.session_state.get(_EXERCISE, ""))


def current_params(page: str) -> dict[str, str]:
    values = {e.name: st.session_state[common.config_key(e.name)] for e in schema()
              if e.setting.in_sidebar and common.config_key(e.name) in st.session_state}
    # The language goes into the link when it is not the default, or when the link locks it.
    shown = i18n.language() if i18n.language() != i18n.DEFAULT or LANG in locked() else None
    return write_link(values, page, locked(), hidden(), exercise(), shown)


def mirror(page: str) -> None:
    """Write the current settings, page and flags into the address bar (only those that changed); the
    parameters pages keep for themselves (PAGE_KEYS) stay as they are."""
    params = current_params(page)
    for key in link_keys():
        if key not in params and key in st.query_params:
            del st.query_params[key]
        elif key in params and st.query_params.get(key) != params[key]:
            st.query_params[key] = params[key]


def link_url(page: str) -> str:
    """The full link to this page with the current settings (not this tab's own page state, e.g. its runs)."""
    base = (st.context.url or "").rstrip("/")
    return f"{base}?{urlencode(current_params(page))}"


def notices(page: str) -> None:
    """The link's notices, one line each, in the sidebar of the page the link opened (until the user leaves
    it: the page reruns on its own, e.g. when the data starts loading, and the notice must stay readable)."""
    opened, texts = st.session_state.get(_NOTICES, ("", ()))
    if opened != page:
        st.session_state.pop(_NOTICES, None)
        return
    for text in texts:
        st.sidebar.warning(common.message_text(text), icon=":material/link_off:")


def copy_link(page: str) -> None:
    """A "Copy link" expander with the link in a code box (its copy button copies it)."""
    with st.sidebar.expander(_("Copy link"), icon=":material/link:"):
        st.caption(_("Anyone who opens this link gets these settings on this page."))
        with st.container(key="copy_link"):  # the link, URL-encoded, as literal text with a copy button
            st.code(link_url(page), language=None, wrap_lines=True)
