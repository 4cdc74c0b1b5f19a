"""The Train page's sidebar: the Train button (with its message) on top, then one widget per RunConfig setting.

The widgets, their keys, defaults and tooltips are generated from RunConfig's schema (experiments/config.py),
so a new setting appears here without code. Numbers are text boxes that hold exactly what was typed, and
Train builds the run through RunConfig's parse: a value the user sees is the value queued, or Train says in
one line why it is refused and queues nothing. Every text is in the session's language (``ui/language.py``).
"""
from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from experiments.config import ConfigError, RunConfig, schema, setting_label
from experiments.exercises.play import exercise_tag, link_run_problem
from experiments.exercises.spec import load_all
from experiments.i18n import _
from experiments.settings.links import LANG
from experiments.settings.setting import SettingField, Widget
from experiments.store import MAX_NAME, StoreError
from ui import common, links, student


def config_from_state() -> RunConfig:
    """The RunConfig the sidebar shows, parsed from its widgets' values; ConfigError names a bad one by its
    label in the sidebar ("Batch size", not batch_size)."""
    return RunConfig.from_user({entry.name: st.session_state[common.config_key(entry.name)]
                                for entry in schema() if entry.setting.in_sidebar}, setting_label)


def _init_defaults() -> None:
    """Default values live in Session State (not in the widget calls), so loading a config never conflicts."""
    for key, value in {**links.widget_values(RunConfig()), common.NAME_KEY: ""}.items():
        st.session_state.setdefault(key, value)


def _with(options: tuple[Any, ...], value: Any) -> list[Any]:
    return list(options) if value in options else sorted([*options, value])


def _widget(box: DeltaGenerator, entry: SettingField, locked: bool = False) -> None:
    """The widget of one setting, as its schema entry describes it (disabled when a link locks it)."""
    s, key = entry.setting, common.config_key(entry.name)
    tip = _("{help} Accepted: {accepted}.").format(help=s.help, accepted=s.parse.describe())
    if locked:
        tip += " " + _("Locked by this link.")
    if s.widget is Widget.CHOICE:
        box.selectbox(s.label, s.choices, key=key, help=tip, disabled=locked, persist_state=common.KEEP)
    elif s.widget is Widget.LOG_SLIDER:
        box.select_slider(s.label, options=_with(s.choices, st.session_state[key]), key=key, help=tip,
                          format_func=lambda v: f"{v:g}", disabled=locked, persist_state=common.KEEP)
    elif s.widget is Widget.CHECKBOX:
        box.checkbox(s.label, key=key, help=tip, disabled=locked, persist_state=common.KEEP)
    else:
        box.text_input(s.label, key=key, help=tip, disabled=locked, persist_state=common.KEEP)


def _queue(box: DeltaGenerator) -> None:
    """Train was pressed: queue the shown settings once, or say in one line (under the button) why not."""
    try:
        config = config_from_state()
    except ConfigError as exc:
        box.error(_("Not queued: {reason}").format(reason=common.message_text(exc)), icon=":material/block:")
        return
    linked = [e for e in load_all()[0] if e.id == links.exercise()] if links.exercise() else []
    if linked and (problem := link_run_problem(linked[0], config)):
        box.error(_("Not queued: {reason}").format(reason=problem), icon=":material/block:")
        return
    if common.data_source().status().state == "failed":
        box.error(_("Not queued: the MNIST images are not available (see the message on the page)."),
                  icon=":material/cloud_off:")
        return
    if not common.first_click("train", config):  # the first click queued it (its rerun may have been cut short)
        st.session_state[common.NAME_KEY] = ""
        st.toast(_("Already queued: the repeated click was ignored"), icon=":material/block:")
        return
    try:
        tags = (exercise_tag(links.exercise()),) if links.exercise() else ()
        run_id = common.manager().submit(config, name=str(st.session_state[common.NAME_KEY]).strip() or None,
                                         student=student.current(), tags=tags, identity=common.identity())
    except StoreError as exc:
        box.error(_("Not queued: {reason}").format(reason=common.message_text(exc)), icon=":material/block:")
        return
    st.session_state.setdefault("watched", []).append(run_id)
    st.session_state[common.NAME_KEY] = ""  # the next run gets its own name (the name box is drawn below)
    st.toast(_("Run {id} queued").format(id=run_id), icon=":material/schedule:")


def settings_form() -> None:
    """Draw the Train button (on top, so it and its message are in view) and the settings below it."""
    _init_defaults()
    sb = st.sidebar
    top = sb.container()
    # Before the widgets are drawn: their values are already in Session State, and the name box can be cleared.
    if top.button(_("Train"), type="primary", key="train_button", icon=":material/play_arrow:", width="stretch",
                  help=_("Queue a run with the settings below; it starts when the runs before it have finished.")):
        _queue(top)
    sb.header(_("Settings"))
    if st.session_state.pop(common.CONFIG_LOADED, False):
        sb.info(_("Settings loaded from a stored run."), icon=":material/input:")
    locked, hidden = links.locked(), links.hidden()
    if (locked - {LANG}) or hidden:
        sb.caption(_("This link locks or hides some settings."))
    entries = [e for e in schema() if e.setting.in_sidebar and e.name not in hidden]
    for entry in entries:
        if not entry.setting.more:
            _widget(sb, entry, entry.name in locked)
    more = sb.expander(_("More settings"))
    for entry in entries:
        if entry.setting.more:
            _widget(more, entry, entry.name in locked)
    more.text_input(_("Run name"), key=common.NAME_KEY, max_chars=MAX_NAME,
                    help=_("Optional; defaults to 'run <id>'. Rename it later in History."), persist_state=common.KEEP)
