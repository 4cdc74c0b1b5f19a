"""Inspect one run: confusion matrix, per-class accuracy, misclassified digits, first-layer weights.

The first three are measured on the test images, so a student on a class server sees them only once the
teacher reveals the test numbers (experiments/visibility.py); the weights and a drawn digit are always shown."""
from __future__ import annotations

import numpy as np
import streamlit as st

from experiments import run_actions
from experiments.analysis.figures import confusion_figure, misclassified_figure, per_class_figure, weights_figure
from experiments.analysis.inspection import Inspection, history_accuracy_note, inspect_weights, weights_epoch
from experiments.analysis.rounding import acc_percent
from experiments.config import RunConfig
from experiments.i18n import _, ngettext, whole
from experiments.runs.completion import shown_message, status_word
from experiments.store import RunRecord
from nn.status import RunStatus
from ui import common, export_buttons, student
from ui.draw_digit import draw_digit_panel
from ui.dynamics_view import dynamics_view

MAX_WRONG = 60


@st.cache_data(show_spinner=False, max_entries=8)  # the spinner is render's, in the reader's language
def _inspect(run_id: int, path: str, mtime: float, config_json: str) -> Inspection:
    """Cached per run and weights file version (``mtime``), so revisiting the page is instant."""
    data = common.data_source().load(RunConfig.from_json(config_json))
    return inspect_weights(path, data)


def weights_caveat(run: RunRecord) -> str:
    """Why the numbers below may not describe a trained network (empty for a finished run)."""
    status = RunStatus(run.status)
    why = f" ({common.md_escape(shown_message(run.message))})" if run.message else ""
    if status == RunStatus.DIVERGED:
        return _("Run {id} diverged{why}: these weights are what was left when its loss blew up, so the accuracy "
                 "below is that of a broken network, not of what these settings can learn.").format(id=run.id, why=why)
    if status == RunStatus.FINISHED:
        return ""
    if status.is_active:
        return _("Run {id} is still {status}: these are the weights saved so far, not its final ones.").format(
            id=run.id, status=status_word(status))
    return ngettext("Run {id} is {status} after {done} of {planned} epoch{why}: the network below is only partly "
                    "trained.",
                    "Run {id} is {status} after {done} of {planned} epochs{why}: the network below is only partly "
                    "trained.", run.planned_epochs or 0).format(id=run.id, status=status_word(status),
                                                                 done=run.epochs_done, planned=run.planned_epochs,
                                                                 why=why)


def render() -> None:
    st.title(_("Inspect"))
    store = common.store()
    who, others = common.identity(), student.others_visible()  # a classmate's run only where the teacher allows
    runs = [r for r in store.search_runs() if r.config is not None and store.weights_path(r.id).is_file()
            and run_actions.visible(who, others, r)]
    if not runs:
        st.info(_("No trained network to inspect yet: the final weights of each run are kept when it ends, so "
                  "train one on the **Train** page first."), icon=":material/info:")
        return
    ids = [r.id for r in runs]
    wanted = st.session_state.get("inspect_id")
    by_id = {r.id: r for r in runs}
    configs = {r.id: r.config for r in runs if r.config is not None}  # a run with unreadable settings is left out
    run_id = st.selectbox(_("Run"), ids, index=ids.index(wanted) if wanted in ids else 0, key="inspect_run",
                          format_func=lambda i: f"{i}: {by_id[i].name} ({configs[i].architecture}, "
                                                f"{status_word(by_id[i].status)})")
    st.session_state["inspect_id"] = run_id
    run, config = by_id[run_id], configs[run_id]
    path = store.weights_path(run_id)
    if who.may_change(run.student):  # exporting is the owner's (or the teacher's), as on History
        export_buttons.model_download(store, run_id)  # before the evaluation: it needs the weights, not the data
    with st.spinner(_("Evaluating the network on the test images...")):
        result = _inspect(run_id, str(path), path.stat().st_mtime, config.to_json())
    epochs = ngettext("{count} epoch", "{count} epochs", run.epochs_done).format(count=run.epochs_done)
    st.text(f"{config.architecture} · {config.activation} · {config.optimizer} lr {config.lr:g} · "
            f"{epochs}, {status_word(run.status)}")
    caveat = weights_caveat(run)
    if caveat:
        st.warning(caveat, icon=":material/warning:")
    if common.sees_test():
        _measured_on_test(run, config, result)
    else:
        st.info(_("The accuracy, confusion matrix and misclassified digits are measured on the test images: test "
                  "numbers are hidden until your teacher reveals them."), icon=":material/visibility_off:")

    st.subheader(_("First-layer weights"))
    units = result.first_layer.shape[1]
    count = (st.slider(_("Units shown"), 1, min(units, 100), min(units, 30), key="inspect_units")
             if units > 1 else 1)
    st.caption(_("Each hidden unit's 784 incoming weights as a 28x28 image: red pixels excite it, blue ones "
                 "inhibit it."))
    st.plotly_chart(weights_figure(result.first_layer[:, :count]), key="inspect_weights")

    st.subheader(_("Training dynamics"))
    dynamics_view(run, key="inspect_dyn")

    draw_digit_panel(run_id)


def _measured_on_test(run: RunRecord, config: RunConfig, result: Inspection) -> None:
    """What the saved network does on the test images: its accuracy, confusion, accuracy per digit and the
    digits it gets wrong (only for a session that may see test numbers: experiments/visibility.py)."""
    weights = weights_epoch(run)
    m1, m2, m3 = st.columns(3)
    m1.metric(_("Test accuracy at epoch {epoch}").format(epoch=weights.epoch), acc_percent(result.accuracy),
              help=_("Measured now on the test images with the saved weights: {weights}.").format(
                  weights=weights.text()))
    m2.metric(_("Misclassified"), _("{wrong} of {total}").format(wrong=whole(len(result.wrong)),
                                                                total=whole(len(result.predictions))))
    worst = int(np.nanargmin(result.per_class)) if np.isfinite(result.per_class).any() else 0
    m3.metric(_("Hardest digit"), _("{digit} ({accuracy} correct)").format(
        digit=worst, accuracy=acc_percent(result.per_class[worst])))
    st.caption(_("The numbers and figures on this page use the saved weights ({weights}).").format(
        weights=weights.text()) + " " + history_accuracy_note(run, weights))
    left, right = st.columns(2)
    left.subheader(_("Confusion matrix"))
    left.plotly_chart(confusion_figure(result.confusion), key="inspect_confusion")
    right.subheader(_("Accuracy per digit"))
    right.plotly_chart(per_class_figure(result.per_class.tolist()), key="inspect_per_class")

    st.subheader(_("Misclassified test digits"))
    digit = st.selectbox(_("True digit"), ["any"] + list(range(10)), key="inspect_digit",
                         format_func=lambda d: _("any") if d == "any" else str(d))
    data = common.data_source().load(config)
    wrong = result.wrong
    if digit != "any":
        wrong = wrong[data.y_test[wrong] == digit]
    shown = wrong[:MAX_WRONG]
    st.caption(_("Each image is titled true → predicted; showing {shown} of {total}.").format(
        shown=whole(len(shown)), total=whole(len(wrong))))
    st.plotly_chart(misclassified_figure(data.x_test[shown], data.y_test[shown], result.predictions[shown]),
                    key="inspect_wrong")


common.run_page(render)
