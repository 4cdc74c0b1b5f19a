"""Inspect one run: confusion matrix, per-class accuracy, misclassified digits, first-layer weights.

The first three are measured on the test images, so a student on a class server sees them only once the
teacher reveals the test numbers (experiments/visibility.py); the weights and a drawn digit are always shown."""
from __future__ import annotations

import numpy as np
import streamlit as st

from experiments import run_actions, visibility
from experiments.analysis.figures import confusion_figure, misclassified_figure, per_class_figure, weights_figure
from experiments.analysis.inspection import Inspection, history_accuracy_note, inspect_weights, weights_epoch
from experiments.analysis.rounding import acc_percent
from experiments.config import RunConfig
from experiments.store import RunRecord
from nn.status import RunStatus
from ui import common, export_buttons, student
from ui.draw_digit import draw_digit_panel
from ui.dynamics_view import dynamics_view

MAX_WRONG = 60


@st.cache_data(show_spinner="Evaluating the network on the test images...", max_entries=8)
def _inspect(run_id: int, path: str, mtime: float, config_json: str) -> Inspection:
    """Cached per run and weights file version (``mtime``), so revisiting the page is instant."""
    data = common.data_source().load(RunConfig.from_json(config_json))
    return inspect_weights(path, data)


def weights_caveat(run: RunRecord) -> str:
    """Why the numbers below may not describe a trained network (empty for a finished run)."""
    status = RunStatus(run.status)
    why = f" ({common.md_escape(run.message)})" if run.message else ""
    if status == RunStatus.DIVERGED:
        return (f"Run {run.id} diverged{why}: these weights are what was left when its loss blew up, so the "
                f"accuracy below is that of a broken network, not of what these settings can learn.")
    if status == RunStatus.FINISHED:
        return ""
    if status.is_active:
        return f"Run {run.id} is still {status}: these are the weights saved so far, not its final ones."
    return (f"Run {run.id} is {status} after {run.epochs_done} of {run.planned_epochs} epochs{why}: the network "
            f"below is only partly trained.")


def render() -> None:
    st.title("Inspect")
    store = common.store()
    who, others = common.identity(), student.others_visible()  # a classmate's run only where the teacher allows
    runs = [r for r in store.search_runs() if r.config is not None and store.weights_path(r.id).is_file()
            and run_actions.visible(who, others, r)]
    if not runs:
        st.info("No trained network to inspect yet: the final weights of each run are kept when it ends, so "
                "train one on the **Train** page first.", icon=":material/info:")
        return
    ids = [r.id for r in runs]
    wanted = st.session_state.get("inspect_id")
    by_id = {r.id: r for r in runs}
    configs = {r.id: r.config for r in runs if r.config is not None}  # a run with unreadable settings is left out
    run_id = st.selectbox("Run", ids, index=ids.index(wanted) if wanted in ids else 0, key="inspect_run",
                          format_func=lambda i: f"{i}: {by_id[i].name} ({configs[i].architecture}, "
                                                f"{by_id[i].status})")
    st.session_state["inspect_id"] = run_id
    run, config = by_id[run_id], configs[run_id]
    path = store.weights_path(run_id)
    if who.may_change(run.student):  # exporting is the owner's (or the teacher's), as on History
        export_buttons.model_download(store, run_id)  # before the evaluation: it needs the weights, not the data
    result = _inspect(run_id, str(path), path.stat().st_mtime, config.to_json())
    st.text(f"{config.architecture} · {config.activation} · {config.optimizer} lr {config.lr:g} · "
            f"{run.epochs_done} epoch(s), {run.status}")
    caveat = weights_caveat(run)
    if caveat:
        st.warning(caveat, icon=":material/warning:")
    if common.sees_test():
        _measured_on_test(run, config, result)
    else:
        st.info(f"The accuracy, confusion matrix and misclassified digits are measured on the test images: "
                f"{visibility.HIDDEN_NOTE}.", icon=":material/visibility_off:")

    st.subheader("First-layer weights")
    units = result.first_layer.shape[1]
    count = st.slider("Units shown", 1, min(units, 100), min(units, 30), key="inspect_units") if units > 1 else 1
    st.caption("Each hidden unit's 784 incoming weights as a 28x28 image: red pixels excite it, blue ones inhibit it.")
    st.plotly_chart(weights_figure(result.first_layer[:, :count]), key="inspect_weights")

    st.subheader("Training dynamics")
    dynamics_view(run, key="inspect_dyn")

    draw_digit_panel(run_id)


def _measured_on_test(run: RunRecord, config: RunConfig, result: Inspection) -> None:
    """What the saved network does on the test images: its accuracy, confusion, accuracy per digit and the
    digits it gets wrong (only for a session that may see test numbers: experiments/visibility.py)."""
    weights = weights_epoch(run)
    m1, m2, m3 = st.columns(3)
    m1.metric(f"Test accuracy at epoch {weights.epoch}", acc_percent(result.accuracy),
              help=f"Measured now on the test images with the saved weights: {weights.text()}.")
    m2.metric("Misclassified", f"{len(result.wrong):,} of {len(result.predictions):,}")
    worst = int(np.nanargmin(result.per_class)) if np.isfinite(result.per_class).any() else 0
    m3.metric("Hardest digit", f"{worst} ({acc_percent(result.per_class[worst])} correct)")
    st.caption(f"The numbers and figures on this page use the saved weights ({weights.text()}). "
               + history_accuracy_note(run, weights))
    left, right = st.columns(2)
    left.subheader("Confusion matrix")
    left.plotly_chart(confusion_figure(result.confusion), key="inspect_confusion")
    right.subheader("Accuracy per digit")
    right.plotly_chart(per_class_figure(result.per_class.tolist()), key="inspect_per_class")

    st.subheader("Misclassified test digits")
    digit = st.selectbox("True digit", ["any"] + list(range(10)), key="inspect_digit")
    data = common.data_source().load(config)
    wrong = result.wrong
    if digit != "any":
        wrong = wrong[data.y_test[wrong] == digit]
    shown = wrong[:MAX_WRONG]
    st.caption(f"Each image is titled true → predicted; showing {len(shown)} of {len(wrong)}.")
    st.plotly_chart(misclassified_figure(data.x_test[shown], data.y_test[shown], result.predictions[shown]),
                    key="inspect_wrong")


common.run_page(render)
