"""The browser session's language: chosen once, switched in the sidebar, set for every script run.

On a session's first run the language is the link's ``lang=`` (a teacher's link opens the class in Spanish),
else the browser's preferred language (``st.context.locale``, then the Accept-Language header), else English.
The choice is kept in Session State for the whole session; the sidebar's switch changes it (disabled when the
link says ``lock=lang``). ``apply`` runs at the top of every run (dashboard.py) and makes it the current
language of ``experiments.i18n`` for everything the run writes; a fragment's rerun, which runs only the
fragment, reads it from Session State through ``i18n.set_fallback``.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from experiments import i18n
from experiments.i18n import _
from experiments.settings.links import LANG
from ui import common, links

KEY = "language"  # Session State: the session's language code (the switch's value)
LABEL = "Idioma · Language"  # the switch's label, in both languages: found whichever one is on screen


def _session_language() -> str | None:
    """The session's choice, read from a script run of that session (None outside one)."""
    if get_script_run_ctx() is None:
        return None
    value = st.session_state.get(KEY)
    return str(value) if value else None


def first_choice() -> str:
    """The language of a session's first run: the link's, the browser's, else English."""
    return (i18n.supported(st.query_params.get(LANG)) or i18n.preferred(st.context.locale)
            or i18n.preferred(st.context.headers.get("Accept-Language")) or i18n.DEFAULT)


def apply() -> str:
    """Make the session's language the current one for this run (deciding it on the session's first run)."""
    i18n.set_fallback(_session_language)
    if st.session_state.get(KEY) not in i18n.LANGUAGES:
        st.session_state[KEY] = first_choice()
    return i18n.set_language(st.session_state[KEY])


def switch() -> None:
    """The sidebar's language switch (each language named in itself); locked by a link's ``lock=lang``."""
    locked = LANG in links.locked()
    st.sidebar.radio(LABEL, list(i18n.LANGUAGES), key=KEY, format_func=lambda code: i18n.LANGUAGES[code],
                     horizontal=True, disabled=locked, persist_state=common.KEEP,
                     help=_("Locked by this link.") if locked else _("The language of every page, for this session."))
