"""The Teacher page's class panel: the roster (add a student and hand them their code or personal link,
reissue a code, revoke one) and whether students see each other's runs.

A new code is shown once, in this session, with its personal link (``/?code=...``): the store keeps only its
hash (``experiments/store/roster.py``), so a lost code is reissued, never looked up. Names are shown as plain
text. The logic lives in ``experiments/``; this module draws it.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from experiments.i18n import _
from experiments.store import StoreError, roster
from experiments.store.classroom import class_settings, save_class_settings
from ui import common, gate

_ISSUED = "_roster_issued"  # (name, code) pairs made in this session, shown until dismissed


def personal_link(code: str) -> str:
    """The link that signs its holder in with ``code`` (the server's own address, its root page)."""
    parts = urlsplit(st.context.url or "")
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{base}/?{urlencode({gate.CODE_PARAM: code})}"


def _visibility() -> None:
    settings = class_settings(common.store())
    shown = st.toggle(_("Students see the class's runs (read-only)"), value=settings.others_visible,
                      key="teacher_others_visible",
                      help=_("On: History, Compare and Train show every student's runs to everyone, to look at; "
                             "only a run's owner (and you) can stop, continue, edit, delete or export it. Off: each "
                             "student sees only their own runs."))
    if shown != settings.others_visible:
        save_class_settings(common.store(), dataclasses.replace(settings, others_visible=shown))
        st.toast(_("Saved: students see the class's runs") if shown
                 else _("Saved: students no longer see the class's runs"), icon=":material/check:")


def _issued() -> None:
    issued = st.session_state.get(_ISSUED, [])
    if not issued:
        return
    st.warning(_("Each code is shown only now: hand it (or its link) to that student. A lost code is reissued."),
               icon=":material/key:")
    for name, code in issued:
        st.text(f"{name}: {code}")
        st.code(personal_link(code), language=None)
    if st.button(_("Done: hide the codes"), key="roster_hide_codes"):
        st.session_state[_ISSUED] = []
        st.rerun()


def _add() -> None:
    with st.form("roster_add", clear_on_submit=True):
        names = st.text_area(_("Add students"), key="roster_names", height=80,
                             help=_("One name per line, as their runs should be labelled (up to 60 characters)."))
        sent = st.form_submit_button(_("Add and make their codes"), icon=":material/person_add:")
    if not sent:
        return
    made, refused = [], []
    for name in filter(str.strip, names.splitlines()):
        try:
            issued = roster.add_student(common.store(), name)
        except StoreError as exc:
            refused.append(common.message_text(exc))
        else:
            made.append((issued.entry.name, issued.code))
    st.session_state.setdefault(_ISSUED, []).extend(made)
    for line in refused:
        st.error(_("Not added: {reason}").format(reason=line), icon=":material/block:")
    if made and not refused:
        st.rerun()  # the form cleared, the new codes shown below it


def _manage(entries: list[roster.RosterEntry]) -> None:
    if not entries:
        st.caption(_("No student on the roster yet: students sign in with the codes you make here."))
        return
    st.dataframe(pd.DataFrame([{_("code starts"): f"{e.id}-", _("name"): e.name, _("added"): e.created,
                                _("state"): _("revoked") if e.revoked else _("active")} for e in entries]),
                 hide_index=True)
    by_id = {e.id: e for e in entries}
    left, mid, right = st.columns([3, 1, 1], vertical_alignment="bottom")
    chosen = left.selectbox(_("Student"), list(by_id), key="roster_entry",
                            format_func=lambda i: f"{by_id[i].name} ({i}-...)")
    if chosen is None:
        return
    if mid.button(_("New code"), key="roster_reissue", icon=":material/autorenew:",
                  help=_("The old code and every session signed in with it stop working.")):
        issued = roster.reissue(common.store(), chosen)
        st.session_state.setdefault(_ISSUED, []).append((issued.entry.name, issued.code))
        st.rerun()
    if right.button(_("Revoke"), key="roster_revoke", icon=":material/block:", disabled=by_id[chosen].revoked,
                    help=_("No code opens this name any more; their runs stay theirs.")):
        roster.revoke(common.store(), chosen)
        st.toast(_("Revoked: {name}").format(name=by_id[chosen].name), icon=":material/block:")
        st.rerun()


def render() -> None:
    """The class panel (the caller has checked that this session is the teacher)."""
    with st.expander(_("Class: roster and what students see"), icon=":material/group:",
                     expanded=common.class_server() and not roster.entries(common.store())):
        _visibility()
        _add()
        _issued()
        _manage(roster.entries(common.store()))
