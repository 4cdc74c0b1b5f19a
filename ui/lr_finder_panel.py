"""The Train page's "Find a learning rate" panel: sweep the lr for the sidebar's settings, show the loss
curve with both suggestions, and put the chosen one into the sidebar's Learning rate.

The sweep itself is experiments/analysis/lr_find.py (a throwaway copy of the network; nothing is stored);
this module only lays out widgets. It reads the sidebar's settings from Session State (the keys
``common.config_key`` names) and writes only the lr's, from a button callback, i.e. before the sidebar is
drawn.
"""
from __future__ import annotations

import streamlit as st

from experiments.analysis.lr_find import LRFindReport, find_learning_rate, rounded_lr
from experiments.analysis.lr_find_figure import lr_find_figure
from experiments.config import ConfigError, RunConfig, schema
from experiments.i18n import N_, _, decimal
from ui import common

REPORT_KEY = "lr_find_report"
LR_KEY = common.config_key("lr")
IGNORED = ("lr", "epochs")  # settings the sweep does not depend on


def sidebar_config() -> RunConfig:
    """The settings currently in the sidebar (defaults for any not drawn yet); ConfigError if invalid."""
    keys = {entry.name: common.config_key(entry.name) for entry in schema() if entry.setting.in_sidebar}
    return RunConfig.from_dict({name: st.session_state[key] for name, key in keys.items() if key in st.session_state})


def _same_sweep(a: RunConfig, b: RunConfig) -> bool:
    """Whether a sweep made for ``a`` still holds for ``b`` (only the lr and the epochs may differ)."""
    return a.replace(**{f: getattr(b, f) for f in IGNORED}) == b


def _use(lr: float) -> None:
    """Button callback: runs before the next script run, so the sidebar widget takes the new value."""
    st.session_state[LR_KEY] = lr
    st.session_state["lr_find_used"] = lr


def lr_finder_panel() -> None:
    """The panel: a button that sweeps, the figure, a choice of suggestion and "Use this learning rate"."""
    st.subheader(_("Find a learning rate"))
    st.caption(_("Trains a throwaway copy of the network on one epoch's batches while the learning rate grows "
                 "from 1e-6 to 10, and stops when the loss blows up. A good lr is where the loss falls fastest "
                 "(steepest descent), or a tenth of where it is lowest. Nothing is stored."))
    try:
        config = sidebar_config()
    except ConfigError as exc:
        st.error(_("Fix the settings first: {reason}").format(reason=common.message_text(exc)),
                 icon=":material/block:")
        return
    if st.button(_("Find a learning rate"), key="lr_find_button", icon=":material/search:",
                 help=_("About a second for 784-128-10 on all 60,000 images.")):
        try:
            with st.spinner(_("Sweeping the learning rate...")):
                data = common.data_source().load(config)
                st.session_state[REPORT_KEY] = find_learning_rate(config, data)
        except common.USER_ERRORS as exc:
            st.error(common.message_text(exc), icon=":material/error:")
            return
    used = st.session_state.pop("lr_find_used", None)
    if used is not None:
        st.success(_("Learning rate set to {lr} in the sidebar.").format(lr=f"{used:g}"), icon=":material/check:")
    report: LRFindReport | None = st.session_state.get(REPORT_KEY)
    if report is not None:
        _show(report, config)


def _show(report: LRFindReport, config: RunConfig) -> None:
    """The curve, the suggestions and the button that applies one."""
    if not _same_sweep(report.config, config):
        st.warning(_("The settings changed since this sweep: find a learning rate again for the new ones."),
                   icon=":material/update:")
    st.plotly_chart(lr_find_figure(report.lrs, report.losses, report.smoothed, report.steepest, report.minimum),
                    key="lr_find_chart")
    steps = _("batch {batch}: {steps} steps in {seconds} s").format(
        batch=report.config.batch_size, steps=len(report.lrs), seconds=decimal(report.seconds, 1))
    st.caption(f"{report.config.architecture} · {report.config.optimizer} · {steps}"
               + (_(", stopped when the loss blew up.") if report.stopped_early else "."))
    # The radio's options stay the English names (shown in the reader's language), so a choice survives a switch.
    options = {name: rounded_lr(lr) for name, lr in ((N_("minimum / 10"), report.minimum),  # the default: see
                                                     (N_("steepest descent"), report.steepest))  # LRFindReport
               if lr is not None}
    if not options:
        st.info(_("The loss never fell during the sweep, so there is no suggestion: try more training images or "
                  "another optimizer."), icon=":material/info:")
        return
    choice = st.radio(_("Suggestion"), list(options), key="lr_find_choice", horizontal=True,
                      format_func=lambda name: f"{_(name)}: {options[name]:g}")
    lr = options[choice or next(iter(options))]
    st.button(_("Use this learning rate"), key="lr_find_use", icon=":material/input:", on_click=_use, args=(lr,),
              help=_("Put it into the sidebar's Learning rate."))
