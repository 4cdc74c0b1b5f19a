"""Train: settings in the sidebar, then live curves, progress, Stop/Pause and a diagnosis of each run.

The live part is a fragment that reruns about once a second on its own while runs are active (every five
seconds when idle, to pick up runs queued elsewhere); it only reads the store and the run manager's
progress, rebuilds the figures only when a new epoch arrived, and keeps the user's zoom (stable element
keys and Plotly ``uirevision``). The script itself never loops or sleeps.

The ids of the runs this browser tab watches are kept in the page's URL (``/train?runs=3,4``) as well as
in Session State, so reloading the page (a new session) shows them again, finished ones included.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from experiments import run_actions, visibility
from experiments.access import NotAllowed
from experiments.analysis.diagnosis import diagnose
from experiments.analysis.diagnosis_text import describe
from experiments.analysis.dynamics_figures import BatchLine, add_batch_lines
from experiments.analysis.figures import LiveRun, best_mark, distinct_colors, live_figure, mark_best
from experiments.analysis.rounding import acc_percent
from experiments.config import ConfigError
from experiments.i18n import _
from experiments.runs.completion import run_epochs_text, run_fraction, shown_message, status_word
from experiments.runs.runner import LivePhase
from experiments.store import RunRecord, StoreError
from experiments.store.best import MONITOR_RULES
from experiments.store.dynamics import batch_progress, get_batch_points, get_layer_stats
from nn.status import RunStatus
from ui import common, resume_controls, sidebar, student
from ui.dynamics_view import dynamics_view
from ui.fix import try_fix_button
from ui.lr_finder_panel import lr_finder_panel

MAX_CHARTED = 8  # runs drawn on the live charts (the most recent ones)
MAX_REMEMBERED = 20  # run ids kept in the URL (the most recent ones)
LIVE_EVERY, IDLE_EVERY = 1.0, 5.0  # seconds between refreshes while runs are active / when idle
URL_KEY = "runs"
# The run manager's progress states around RunStatus.RUNNING (see experiments/runs/runner.Progress).
PAUSED, LOADING, WAITING = LivePhase.PAUSED, LivePhase.LOADING, LivePhase.WAITING
BUSY = {RunStatus.QUEUED, RunStatus.RUNNING, PAUSED, LOADING, WAITING}


def restore_watched() -> None:
    """A new session (a reload) takes the watched runs from the URL; bad ids are ignored."""
    if "watched" in st.session_state:
        return
    text = st.query_params.get(URL_KEY, "")
    parts = [part.strip() for part in text.split(",")[-MAX_REMEMBERED:]]
    ids = [int(part) for part in parts if part.isascii() and part.isdigit() and len(part) <= 12]
    st.session_state["watched"] = list(dict.fromkeys(ids))


def _remember(ids: list[int]) -> None:
    """Keep the watched run ids in the URL, so that a reload shows them again."""
    text = ",".join(map(str, ids[-MAX_REMEMBERED:]))
    if st.query_params.get(URL_KEY, "") != text:
        if text:
            st.query_params[URL_KEY] = text
        else:
            del st.query_params[URL_KEY]


def _watched_runs() -> list[RunRecord]:
    """This session's runs plus any run the manager is working on, oldest first. On a class server a student
    is shown the class's runs they did not ask for (the manager's) only if they are their own, and a run asked
    for by the address (``?runs=``) only if the teacher lets students see the class's runs; either way another
    student's run is read-only (``_progress_row``)."""
    watched = list(st.session_state.get("watched", []))
    ids = list(dict.fromkeys(watched + [p.run_id for p in common.manager().active()]))
    me, who, others = student.current(), common.identity(), student.others_visible()
    found = []
    for run_id in ids:
        try:
            run = common.store().get_run(run_id)
        except StoreError:  # deleted in History meanwhile
            continue
        if me and run_id not in watched and run.student != me:
            continue
        if not run_actions.visible(who, others, run):
            continue
        found.append(run)
    st.session_state["watched"] = [r.id for r in found]
    _remember(st.session_state["watched"])
    return found


def _progress_row(run: RunRecord, label: str) -> None:
    manager = common.manager()
    progress = manager.progress(run.id)
    status = progress.label if progress else run.status
    done = progress.epoch if progress else run.epochs_done
    total = run.planned_epochs
    text = _("Run {id} ({label}): {epochs} · {state}").format(
        id=run.id, label=common.md_escape(label), epochs=run_epochs_text(done, total, status),
        state=_state_text(run, status, progress))
    if not common.identity().may_change(run.student):  # another's run: to look at, not to change
        bar, note_col = st.columns([7, 2.6], vertical_alignment="center")
        bar.progress(run_fraction(done, total, status in BUSY), text=text)
        note_col.caption(_("{student}'s run").format(student=common.md_escape(run.student)) if run.student
                         else _("teacher's run"))
    elif status in BUSY:
        bar, pause_col, stop_col = st.columns([7, 1.4, 1.2], vertical_alignment="center")
        bar.progress(run_fraction(done, total, status in BUSY), text=text)
        _controls(run.id, status, pause_col, stop_col)
        return
    else:
        # an ended run has one control (Resume or Continue): it gets both columns' room, so that its label
        # (and the popover's arrow) fits at 1280 px instead of "Conti…"
        bar, more_col = st.columns([7, 2.6], vertical_alignment="center")
        bar.progress(run_fraction(done, total, status in BUSY), text=text)
        resume_controls.resume_button(run, more_col, "train")
        resume_controls.continue_control(run, more_col, "train")
    if run.message and status not in BUSY:
        st.caption(_("Run {id}: {message}").format(id=run.id, message=common.md_escape(shown_message(run.message))))


def _state_text(run: RunRecord, status: str, progress: Any) -> str:
    """Where the run stands, for its progress bar: accuracy and ETA while it trains, its outcome after."""
    if status in (RunStatus.RUNNING, PAUSED, WAITING):
        latest = progress.latest if progress else {}
        latest = latest if common.sees_test() else visibility.without_test(latest)
        acc = latest.get("val_acc", latest.get("test_acc"))
        split = (_("validation accuracy {acc}") if latest.get("val_acc") is not None
                 else _("test accuracy {acc}"))
        parts = [split.format(acc=acc_percent(acc))] if acc is not None else []
        # paused: no ETA, since the time left does not run down while the run waits
        if status == WAITING:
            parts.append(_("waiting its turn: another student's run trains for a few seconds"))
        parts.append(status_word(PAUSED) if status == PAUSED
                     else common.format_eta(progress.eta_seconds if progress else None))
        return " · ".join(parts)
    if status == LOADING:
        return _("loading the data")
    if status == RunStatus.QUEUED:
        return status_word(RunStatus.QUEUED)
    if run.best_val_acc is not None:
        monitor = run.config.monitor if run.config is not None else "val_loss"
        return _("{status}, val. accuracy {acc} at its best epoch, {epoch} ({rule})").format(
            status=status_word(status), acc=acc_percent(run.best_val_acc), epoch=run.best_epoch,
            rule=_(MONITOR_RULES.get(monitor, MONITOR_RULES["val_loss"])))
    if run.test_acc is not None:
        return _("{status}, test accuracy {acc} at its last epoch, {epoch}").format(
            status=status_word(status), acc=acc_percent(run.test_acc), epoch=run.epochs_done)
    return status_word(status)


def _controls(run_id: int, status: str, pause_col: Any, stop_col: Any) -> None:
    """Pause or Unpause, and Stop, for a run that is queued, loading or training (each checked against who
    is acting, in ``experiments/run_actions.py``, not only hidden for others' runs)."""
    action = None
    if status == PAUSED:
        if pause_col.button(_("Unpause"), key=f"unpause_{run_id}", icon=":material/play_arrow:"):
            action = run_actions.unpause
    elif pause_col.button(_("Pause"), key=f"pause_{run_id}", icon=":material/pause:",
                          disabled=status not in (RunStatus.RUNNING, WAITING)):
        action = run_actions.pause
    if stop_col.button(_("Stop"), key=f"stop_{run_id}", icon=":material/stop:"):
        action = run_actions.stop
    if action is None:
        return
    try:
        action(common.manager(), common.identity(), run_id)
    except (NotAllowed, StoreError) as exc:
        st.error(common.message_text(exc), icon=":material/block:")
        return
    st.rerun(scope="fragment")


@dataclass
class Snapshot:
    """The live charts and findings of the watched runs, and what they were built from."""

    signature: tuple
    figures: dict[str, Any] | None = None
    findings: list[tuple[RunRecord, Any]] = field(default_factory=list)
    waiting: bool = False  # nothing to draw yet, but a run is queued or training


def _snapshot(runs: list[RunRecord], labels: dict[int, str]) -> Snapshot:
    """Figures and findings of the watched runs, rebuilt only when a run has a new epoch, new within-epoch
    points or a new status (or the user zoomed)."""
    zoom = {kind: st.session_state.get(f"zoom_{kind}") for kind in ("loss", "acc")}
    reach = batch_progress(common.store(), [r.id for r in runs])
    signature = (tuple((r.id, r.epochs_done, r.status, labels[r.id], reach.get(r.id)) for r in runs), repr(zoom))
    cached = st.session_state.get("live_snapshot")
    if isinstance(cached, Snapshot) and cached.signature == signature:
        return cached
    epochs = {r.id: common.store().get_epochs(r.id) for r in runs
              if r.epochs_done or r.status == RunStatus.DIVERGED}
    snapshot = Snapshot(signature)
    snapshot.figures, snapshot.waiting = _figures(runs, labels, epochs, zoom)
    snapshot.findings = [(r, f) for r in runs if r.id in epochs
                         for f in diagnose(epochs[r.id], r.status, r.message, r.config,
                                           layers=get_layer_stats(common.store(), r.id))]
    st.session_state["live_snapshot"] = snapshot
    return snapshot


def _figures(runs: list[RunRecord], labels: dict[int, str], epochs: dict[int, list],
             zoom: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The live loss and accuracy figures (None when there is nothing to chart), and whether the curves are
    still to come (a run is queued or training and none has an epoch yet)."""
    active = [r for r in runs if RunStatus(r.status).is_active]
    # runs with epochs, and active ones as empty axes (so the browser has Plotly loaded before the first point)
    charted = [r for r in runs if epochs.get(r.id) or r in active][-MAX_CHARTED:]
    waiting = bool(active) and not any(epochs.get(r.id) for r in charted)
    if not charted:
        return None, waiting
    live = [LiveRun(labels[r.id] if len(charted) > 1 else _("run {id}").format(id=r.id), epochs.get(r.id, []),
                    r.planned_epochs) for r in charted]
    lines = [BatchLine(run.label, get_batch_points(common.store(), r.id), color)
             for run, r, color in zip(live, charted, distinct_colors(len(charted)))]
    figures = {kind: mark_best(add_batch_lines(live_figure(live, kind, uirevision=f"live-{kind}", zoom=zoom[kind]),
                                               lines, kind, widen_y=not zoom[kind]),
                               [best_mark(run.label, run.epochs, r.best_epoch, f"val_{kind}",
                                          monitor=r.config.monitor if r.config else "val_loss")
                                for r, run in zip(charted, live)])
               for kind in ("loss", "acc")}
    return figures, waiting


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


def _charts_and_diagnoses(runs: list[RunRecord], labels: dict[int, str]) -> None:
    snapshot = _snapshot(runs, labels)
    figures = snapshot.figures
    if snapshot.waiting:
        st.caption(_("The curves appear here after the first epoch."))
    if figures is not None:
        left, right = st.columns(2)
        _chart(left, figures["loss"], "loss")
        _chart(right, figures["acc"], "acc")
        zoomed = [k for k in ("loss", "acc") if st.session_state.get(f"zoom_{k}")]
        note, reset = st.columns([5, 1], vertical_alignment="center")
        note.caption(_("Thin lines: the training loss and accuracy every few batches. Drag a box on a chart to "
                       "zoom in; the zoom stays while new epochs arrive."))
        if zoomed and reset.button(_("Reset zoom"), key="reset_zoom", icon=":material/zoom_out_map:"):
            for kind in zoomed:
                st.session_state.pop(f"zoom_{kind}", None)
            st.rerun(scope="fragment")
    for i, (run, finding) in enumerate(snapshot.findings):
        words = describe(finding)
        show = st.error if words.severity == "error" else st.warning
        show(_("Run {id} ({label}): {finding}").format(id=run.id, label=common.md_escape(labels[run.id]),
                                                        finding=words.text), icon=":material/troubleshoot:")
        try_fix_button(run, finding, key=f"fix_{run.id}_{finding.kind}_{i}")
    _dynamics_of_focus(runs, labels)


def _dynamics_of_focus(runs: list[RunRecord], labels: dict[int, str]) -> None:
    """The Dynamics view of one watched run (the newest by default), while the toggle is on."""
    if not st.toggle(_("Show the training dynamics"), key="train_dynamics",
                     help=_("Per layer, after every epoch: weight and gradient norms, update-to-weight ratio, dead "
                            "or saturated units, histograms.")):
        return
    ids = [r.id for r in runs]
    by_id = {r.id: r for r in runs}
    focus = st.selectbox(_("Run in focus"), ids[::-1], key="train_dynamics_run",
                         format_func=lambda i: _("run {id} ({label})").format(id=i, label=labels[i]))
    if focus is not None:
        dynamics_view(by_id[focus], key="train_dyn")


def _busy() -> bool:
    """Whether something is moving: a run queued or training, or the dataset loading."""
    return bool(common.manager().active()) or common.data_source().status().state in ("loading", "downloading")


def live_panel() -> None:
    """Progress, curves and diagnosis of the watched runs: a fragment rerun every second while something
    is moving, every few seconds otherwise (each rerun costs the server and the browser some CPU)."""
    # In its own timed reruns only: when the whole page runs, render has just read the state, and a whole-page
    # rerun from here would drop what that run did (a click's "Not queued" message)
    if not st.session_state.pop("live_in_page_run", False) and _busy() != st.session_state.get("live_busy"):
        st.rerun()  # the whole page, so that the fragment is made again with the other interval
    common.run_page(_live_panel)


def _live_panel() -> None:
    common.data_banner()
    runs = _watched_runs()
    if not runs:
        st.info(_nothing_watched_text(common.store().count_runs()), icon=":material/info:")
        return
    labels = common.run_labels(runs)
    for run in runs:
        _progress_row(run, labels[run.id])
    finished = [r.id for r in runs if not RunStatus(r.status).is_active]
    if finished and st.button(_("Clear ended runs from this view"), key="clear_finished"):
        st.session_state["watched"] = [r.id for r in runs if r.id not in finished]
        st.rerun(scope="fragment")
    _charts_and_diagnoses(runs, labels)


def _nothing_watched_text(stored: int) -> str:
    """What the live panel says when this tab watches no run: "no run yet" only when the store has none (a new
    session, e.g. a reload without ?runs=, watches nothing although runs are stored)."""
    if not stored:
        return _("No run yet: choose the settings in the sidebar and press **Train**. Runs queue one after another; "
                 "you can start several.")
    if stored == 1:
        return _("This tab is not watching a run. The stored run is on **History** and **Compare**. To train one "
                 "here, choose the settings in the sidebar and press **Train**. Runs queue one after another; you "
                 "can start several.")
    return _("This tab is not watching a run. The {n} stored runs are on **History** and **Compare**. To train one "
             "here, choose the settings in the sidebar and press **Train**. Runs queue one after another; you can "
             "start several.").format(n=stored)


def _checkpoint_note() -> None:
    """Under the settings: how much disk each run's checkpoint takes, when that is a lot (a big network)."""
    try:
        note = resume_controls.checkpoint_note(sidebar.config_from_state())
    except ConfigError:
        return  # Train says why when pressed
    if note:
        st.sidebar.caption(note)


def render() -> None:
    st.title(_("Train"))
    restore_watched()
    sidebar.settings_form()
    _checkpoint_note()
    common.data_source().prepare()
    with st.expander(_("Find a learning rate"), icon=":material/search:"):
        lr_finder_panel()
    busy = st.session_state["live_busy"] = _busy()
    st.session_state["live_in_page_run"] = True
    st.fragment(live_panel, run_every=LIVE_EVERY if busy else IDLE_EVERY)()


common.run_page(render)
