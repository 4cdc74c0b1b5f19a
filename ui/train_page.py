"""Train: settings in the sidebar, then live curves, progress, Stop/Pause and a diagnosis of each run.

The live part is a fragment that reruns about once a second on its own while runs are active (every five
seconds when idle, to pick up runs queued elsewhere); it only reads the store and the run manager's progress, rebuilds the figures only when a new epoch arrived, and keeps the user's zoom
(stable element keys and Plotly ``uirevision``). The script itself never loops or sleeps.
"""
from __future__ import annotations

import streamlit as st

from experiments.analysis.diagnosis import diagnose
from experiments.analysis.figures import LiveRun, live_figure
from experiments.runs.store import StoreError
from ui import common, sidebar
from ui.diagnosis_text import describe

MAX_CHARTED = 8  # runs drawn on the live charts (the most recent ones)
LIVE_EVERY, IDLE_EVERY = 1.0, 5.0  # seconds between refreshes while runs are active / when idle


def _watched_runs() -> list:
    """This session's runs plus any run the manager is working on, oldest first."""
    ids = list(dict.fromkeys(st.session_state.get("watched", []) + [p.run_id for p in common.manager().active()]))
    found = []
    for run_id in ids:
        try:
            found.append(common.store().get_run(run_id))
        except StoreError:  # deleted in History meanwhile
            continue
    st.session_state["watched"] = [r.id for r in found]
    return found


def _progress_row(run, label: str) -> None:
    manager = common.manager()
    progress = manager.progress(run.id)
    status = progress.label if progress else run.status
    done = progress.epoch if progress else run.epochs_done
    total = run.planned_epochs
    text = f"Run {run.id} ({common.md_escape(label)}): epoch {done}/{total}"
    if status in ("running", "paused"):
        if progress and progress.latest.get("test_acc") is not None:
            text += f" · test accuracy {progress.latest['test_acc']:.1%}"
        text += f" · {common.format_eta(progress.eta_seconds if progress else None)}"
        if status == "paused":
            text += " · paused"
    elif status == "loading":
        text += " · loading the data"
    elif status == "queued":
        text += " · queued"
    else:
        acc = f", test accuracy {run.test_acc:.1%}" if run.test_acc is not None else ""
        text += f" · {status}{acc}"
    bar, pause_col, stop_col = st.columns([7, 1.4, 1.2], vertical_alignment="center")
    bar.progress(done / total if total else 0.0, text=text)
    if status in ("running", "paused", "queued", "loading"):
        if status == "paused":
            if pause_col.button("Resume", key=f"resume_{run.id}", icon=":material/play_arrow:"):
                manager.resume(run.id)
                st.rerun(scope="fragment")
        elif pause_col.button("Pause", key=f"pause_{run.id}", icon=":material/pause:",
                              disabled=status != "running"):
            manager.pause(run.id)
            st.rerun(scope="fragment")
        if stop_col.button("Stop", key=f"stop_{run.id}", icon=":material/stop:"):
            manager.stop(run.id)
            st.rerun(scope="fragment")
    if run.message and status not in ("running", "paused", "queued", "loading"):
        st.caption(f"Run {run.id}: {common.md_escape(run.message)}")


def _snapshot(runs: list, labels: dict[int, str]) -> tuple:
    """Figures and findings of the watched runs, rebuilt only when a run has a new epoch or a new status
    (or the user zoomed)."""
    zoom = {kind: st.session_state.get(f"zoom_{kind}") for kind in ("loss", "acc")}
    signature = (tuple((r.id, r.epochs_done, r.status, labels[r.id]) for r in runs), repr(zoom))
    cached = st.session_state.get("live_snapshot")
    if cached and cached[0] == signature:
        return cached
    epochs = {r.id: common.store().get_epochs(r.id) for r in runs if r.epochs_done or r.status == "diverged"}
    # runs with epochs, and active ones as empty axes (so the browser has Plotly loaded before the first point)
    charted = [r for r in runs if r.epochs_done or r.status in ("queued", "running")][-MAX_CHARTED:]
    figures = None
    if charted:
        live = [LiveRun(labels[r.id] if len(charted) > 1 else f"run {r.id}", epochs.get(r.id, []), r.planned_epochs)
                for r in charted]
        figures = {kind: live_figure(live, kind, uirevision=f"live-{kind}", zoom=zoom[kind]) for kind in ("loss", "acc")}
    findings = [(r, describe(f)) for r in runs if r.id in epochs
                for f in diagnose(epochs[r.id], r.status, r.message, r.config)]
    cached = (signature, figures, findings)
    st.session_state["live_snapshot"] = cached
    return cached


def _chart(column, figure, kind: str) -> None:
    """One live chart; a box dragged on it becomes its zoom, kept while new epochs arrive."""
    event = column.plotly_chart(figure, key=f"live_{kind}", on_select="rerun", selection_mode="box",
                                config={"displaylogo": False})
    boxes = event.selection.box if event else []
    if boxes:
        box = boxes[-1]
        zoom = {"x": sorted(box["x"]), "y": sorted(box["y"])}
        if zoom["x"][0] < zoom["x"][1] and zoom["y"][0] < zoom["y"][1] and zoom != st.session_state.get(f"zoom_{kind}"):
            st.session_state[f"zoom_{kind}"] = zoom
            st.rerun(scope="fragment")


def _charts_and_diagnoses(runs: list, labels: dict[int, str]) -> None:
    _, figures, findings = _snapshot(runs, labels)
    if figures is None:
        st.caption("The curves appear here after the first epoch.")
    else:
        left, right = st.columns(2)
        _chart(left, figures["loss"], "loss")
        _chart(right, figures["acc"], "acc")
        zoomed = [k for k in ("loss", "acc") if st.session_state.get(f"zoom_{k}")]
        note, reset = st.columns([5, 1], vertical_alignment="center")
        note.caption("Drag a box on a chart to zoom in; the zoom stays while new epochs arrive.")
        if zoomed and reset.button("Reset zoom", key="reset_zoom", icon=":material/zoom_out_map:"):
            for kind in zoomed:
                st.session_state.pop(f"zoom_{kind}", None)
            st.rerun(scope="fragment")
    for run, finding in findings:
        show = st.error if finding.severity == "error" else st.warning
        show(f"Run {run.id} ({common.md_escape(labels[run.id])}): {finding.text}", icon=":material/troubleshoot:")


def _busy() -> bool:
    """Whether something is moving: a run queued or training, or the dataset loading."""
    return bool(common.manager().active()) or common.data_source().status().state in ("loading", "downloading")


def live_panel() -> None:
    """Progress, curves and diagnosis of the watched runs: a fragment rerun every second while something
    is moving, every few seconds otherwise (each rerun costs the server and the browser some CPU)."""
    if _busy() != st.session_state.get("live_busy"):
        st.rerun()  # the whole page, so that the fragment is made again with the other interval
    common.run_page(_live_panel)


def _live_panel() -> None:
    common.data_banner()
    runs = _watched_runs()
    if not runs:
        st.info("No run yet: choose the settings in the sidebar and press **Train**. Runs queue one after "
                "another; you can start several.", icon=":material/info:")
        return
    labels = common.run_labels(runs)
    for run in runs:
        _progress_row(run, labels[run.id])
    finished = [r.id for r in runs if r.status not in ("queued", "running")]
    if finished and st.button("Clear ended runs from this view", key="clear_finished"):
        st.session_state["watched"] = [r.id for r in runs if r.id not in finished]
        st.rerun(scope="fragment")
    _charts_and_diagnoses(runs, labels)


def render() -> None:
    st.title("Train")
    sidebar.settings_form()
    common.data_source().prepare()
    busy = st.session_state["live_busy"] = _busy()
    st.fragment(live_panel, run_every=LIVE_EVERY if busy else IDLE_EVERY)()


common.run_page(render)
