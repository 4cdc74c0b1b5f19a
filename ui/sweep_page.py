"""Sweep: a grid of settings (or a pasted TOML/JSON spec) trained by the local process pool, live.

The pool lives in the dashboard's process (held by ``st.cache_resource``, like the run manager), so a
sweep goes on while pages rerun and browsers come and go; its trials are ordinary stored runs (group and
tag ``sweep:<id>``), so Compare and History show them at once, and the page lists every sweep in the store
(command-line ones and those from before a restart too) by name and date. Cluster sweeps (Ray) run from the command
line: ``python -m experiments sweep SPEC --engine ray``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from experiments.access import Realm
from experiments.analysis import ranking
from experiments.analysis.rounding import acc_percent
from experiments.config import ConfigError, quote, setting_of
from experiments.i18n import N_, _, ngettext
from experiments.runs.completion import RunEpochs, completion, status_word
from experiments.store import RunRecord
from experiments.store.best import at_best_epoch, best_epoch_name
from experiments.sweeps.catalog import SweepSummary, count_statuses, stored_sweeps, trial_counts
from experiments.sweeps.local import LocalSweep, default_workers
from experiments.sweeps.spec import DEFAULT_STARTUP, Pruner, SweepSpec, Trial, expand, parse_spec, parse_text
from experiments.sweeps.tpe import TpeSweep, check_space
from nn.status import RunStatus
from ui import common, gate
from ui.tables import MISSING

LIVE_EVERY = 1.0  # seconds between refreshes of the trial table while the sweep runs
EXAMPLE = """name = "lr x batch"
[base]
epochs = 3
train_size = 10000
[grid]
lr = [0.01, 0.001]
batch_size = [32, 128]
"""


@st.cache_resource(show_spinner=False)
def _sweeps() -> dict[str, LocalSweep | TpeSweep]:
    """Sweeps started by this dashboard process, by sweep id (their pools run in the background)."""
    return {}


def _entries(text: str, sep: str, what: str) -> list[str]:
    """The entries of a ``sep``-separated list; an empty entry is refused, not dropped (``64;;128`` is a typo,
    and ``;;`` alone used to become a softmax-only trial)."""
    parts = [p.strip() for p in text.split(sep)]
    if not any(parts):
        raise ConfigError(_("{box}: give at least one value").format(box=what))
    if not all(parts):
        raise ConfigError(_("{box}: entry {n} of {text} is empty; separate the values with '{sep}'").format(
            box=what, n=parts.index("") + 1, text=quote(text), sep=sep))
    return parts


def _parsed(name: str, label: str, text: str) -> Any:
    """``text`` parsed as RunConfig setting ``name``; a refusal names the form's box (``label``), as it reads on
    the page, not the setting's field name."""
    return setting_of(name).parse(label, text)


def _values(name: str, text: str, sep: str, what: str) -> list:
    """Each entry parsed as RunConfig setting ``name`` (so a bad one is named before any trial is built)."""
    values = [_parsed(name, what, entry) for entry in _entries(text, sep, what)]
    return [list(v) if isinstance(v, tuple) else v for v in values]  # widths as JSON-friendly lists


def _grid_form() -> tuple[SweepSpec, list[Trial]]:
    """The grid tab's widgets; every box holds what was typed and is parsed by RunConfig's schema."""
    c1, c2, c3 = st.columns(3)
    lrs = c1.text_input(_("Learning rates"), "0.01, 0.001", key="sw_lr",
                        persist_state=common.KEEP, help=_("Separated by commas."))
    batches = c2.text_input(_("Batch sizes"), "32, 128", key="sw_batch",
                            persist_state=common.KEEP, help=_("Separated by commas."))
    widths = c3.text_input(_("Hidden layers"), "64; 128,64", key="sw_hidden", persist_state=common.KEEP,
                           help=_("Architectures separated by semicolons, e.g. '64; 128,64'; 'none' is no hidden "
                                  "layer."))
    c4, c5, c6, c7 = st.columns(4)
    optimizers = c4.multiselect(_("Optimizers"), setting_of("optimizer").choices, ["adam"], key="sw_opt",
                                persist_state=common.KEEP)
    epochs = c5.text_input(_("Epochs"), "3", key="sw_epochs", persist_state=common.KEEP,
                           help=_("Accepted: {values}.").format(values=setting_of("epochs").parse.describe()))
    train_size = c6.text_input(_("Training images (0 = all)"), "10000", key="sw_train", persist_state=common.KEEP,
                               help=_("Accepted: {values}.").format(values=setting_of("train_size").parse.describe()))
    name = c7.text_input(_("Name"), "sweep", key="sw_name", persist_state=common.KEEP, max_chars=100)
    if not optimizers:
        raise ConfigError(_("choose at least one optimizer"))
    grid = {"lr": _values("lr", lrs.replace(";", ","), ",", _("Learning rates")),
            "batch_size": _values("batch_size", batches.replace(";", ","), ",", _("Batch sizes")),
            "hidden": _values("hidden", widths, ";", _("Hidden layers")), "optimizer": list(optimizers)}
    base = {"epochs": _parsed("epochs", _("Epochs"), epochs),
            "train_size": _parsed("train_size", _("Training images"), train_size)}
    spec = parse_spec({"name": name, "base": base, "grid": grid})
    return spec, expand(spec)


def _spec_form() -> tuple[SweepSpec, list[Trial]]:
    fmt = st.radio(_("Format"), ["toml", "json"], horizontal=True, key="sw_fmt", persist_state=common.KEEP)
    text = st.text_area(_("Spec"), EXAMPLE, height=220, key="sw_spec", persist_state=common.KEEP,
                        help=_("The same spec as `python -m experiments sweep SPEC` (see the README: Sweeps); "
                               "method = \"tpe\" with a [tpe] table searches with TPE."))
    spec = parse_text(text, fmt)
    if spec.engine != "local":
        st.caption(_("The dashboard runs sweeps on the local pool; for Ray use the command line."))
    if spec.is_tpe:
        check_space(spec)
        return spec, []
    return spec, expand(spec)


def _tpe_form() -> tuple[SweepSpec, list[Trial]]:
    """TPE over a learning-rate range and lists of batch sizes and widths, with a budget and a pruner."""
    c1, c2, c3 = st.columns(3)
    low_box, high_box = _("Learning rate from"), _("Learning rate to")
    low = c1.text_input(low_box, "0.0001", key="tp_lr_low", persist_state=common.KEEP)
    high = c1.text_input(high_box, "0.1", key="tp_lr_high",
                         persist_state=common.KEEP, help=_("Drawn on a log scale."))
    batches = c2.text_input(_("Batch sizes"), "32, 64, 128", key="tp_batch",
                            persist_state=common.KEEP, help=_("Separated by commas."))
    widths = c3.text_input(_("Hidden layers"), "64; 128; 256", key="tp_hidden", persist_state=common.KEEP,
                           help=_("Architectures separated by semicolons."))
    c4, c5, c6, c7, c8 = st.columns(5)
    budget_box, startup_box = _("Trial budget"), _("Random start-up trials")
    trials = c4.number_input(budget_box, 1, 200, 24, key="tp_trials", persist_state=common.KEEP)
    startup = c5.number_input(startup_box, 0, 200, DEFAULT_STARTUP, key="tp_startup",
                              persist_state=common.KEEP,
                              help=_("Drawn at random before TPE models the results."))
    pruner = c6.selectbox(_("Pruner"), [p.value for p in Pruner], key="tp_pruner", persist_state=common.KEEP,
                          help=_("median: stop a trial whose accuracy is below the median of earlier trials at the "
                                 "same epoch; hyperband: successive halving; none: every trial runs all its epochs."))
    epochs = c7.text_input(_("Epochs"), "5", key="tp_epochs", persist_state=common.KEEP)
    train_size = c8.text_input(_("Training images (0 = all)"), "10000", key="tp_train", persist_state=common.KEEP)
    bounds = [_parsed("lr", low_box, low), _parsed("lr", high_box, high)]
    if bounds[0] > bounds[1]:
        raise ConfigError(_("{low_box} ({low}) is above {high_box} ({high}): swap them").format(
            low_box=low_box, low=f"{bounds[0]:g}", high_box=high_box, high=f"{bounds[1]:g}"))
    if trials < startup:
        raise ConfigError(_("{budget_box} ({trials}) is below {startup_box} ({startup}): TPE would never model the "
                            "results; raise the budget or lower the start-up trials").format(
            budget_box=budget_box, trials=trials, startup_box=startup_box, startup=startup))
    spec = parse_spec({"name": "tpe", "method": "tpe",
                       "base": {"epochs": _parsed("epochs", _("Epochs"), epochs),
                                "train_size": _parsed("train_size", _("Training images"), train_size)},
                       "random": {"lr": {"log_uniform": bounds}},
                       "grid": {"batch_size": _values("batch_size", batches.replace(";", ","), ",",
                                                      _("Batch sizes")),
                                "hidden": _values("hidden", widths, ";", _("Hidden layers"))},
                       "tpe": {"trials": int(trials), "startup_trials": int(startup), "pruner": pruner}})
    check_space(spec)
    return spec, []


@dataclass(frozen=True)
class Plan:
    """A sweep ready to start: its spec and its expanded trials."""

    spec: SweepSpec
    trials: list[Trial]


def _start(plan: Plan, workers: int) -> None:
    """Start the sweep once per click: a double click (two reruns seeing the button pressed) starts it once.
    The live view below turns to the new sweep (the picker is drawn after this, in the same run)."""
    if not common.first_click("start_sweep", (plan.spec, [t.config for t in plan.trials], workers)):
        return
    sweep: LocalSweep | TpeSweep
    if plan.spec.is_tpe:
        sweep = TpeSweep(common.store(), plan.spec, workers=workers, source="dashboard")
    else:
        sweep = LocalSweep(common.store(), plan.spec, plan.trials, workers=workers, source="dashboard")
    sweep.start()
    _sweeps()[sweep.sweep_id] = sweep
    st.session_state["sw_pick"], st.session_state["sw_by_hand"] = sweep.sweep_id, False  # show the new sweep
    st.toast(ngettext("Sweep started: {n} trial", "Sweep started: {n} trials", plan.spec.size).format(n=plan.spec.size),
             icon=":material/play_arrow:")


def _active(summaries: list[SweepSummary]) -> bool:
    """Whether any sweep's trials may still change: a pool of this process at work, or an active stored run (a
    sweep started from the command line or by another dashboard process). While one does, the live view is
    redrawn every second, whichever sweep is shown."""
    return any(not s.done() for s in _sweeps().values()) or any(s.active for s in summaries)


def _summaries() -> list[SweepSummary]:
    """Every sweep, newest first: this process's that have no trial stored yet, then the stored ones."""
    stored = stored_sweeps(common.store())
    return _starting({s.sweep_id for s in stored}) + stored


def _signature(summaries: list[SweepSummary]) -> tuple:
    """What the picker shows of every sweep (which sweeps, their trials' statuses) and whether any runs."""
    return _active(summaries), tuple((s.sweep_id, len(s.run_ids), tuple(sorted(s.statuses.items())))
                                     for s in summaries)


def _live(sweep_id: str | None) -> None:
    """The sweep's trials as stored: status, epochs and accuracy (a fragment rerun every second while any sweep
    runs). When a sweep appears or a trial's status changes, the whole page reruns: the picker's labels count
    the trials' statuses as they are now (the picker stays outside the fragment, so that its list stays open
    while the trials train), and the fragment is made again with the interval that now applies."""
    if _signature(_summaries()) != st.session_state.get("sw_seen"):
        st.rerun()
    if sweep_id is None:
        return
    runs = common.store().search_runs(group_id=sweep_id, order_by="id", descending=False)
    reach = completion(RunEpochs(r.epochs_done, r.planned_epochs, RunStatus(r.status).is_active) for r in runs)
    st.progress(reach.fraction, text=f"{reach.epochs_text()} · " + trial_counts(count_statuses(r.status for r in runs)))
    _trial_table(sweep_id, runs)
    a, b = st.columns(2)
    _stop_button(a, _sweeps().get(sweep_id), active=any(RunStatus(r.status).is_active for r in runs))
    if b.button(_("Open in Compare"), disabled=not runs, icon=":material/compare_arrows:", key="sw_compare"):
        st.session_state["compare_ids"] = [r.id for r in runs]
        st.switch_page(common.PAGES["compare"])


def _trial_table(sweep_id: str, runs: list[RunRecord]) -> None:
    """The trials, each read at its best epoch (the one validation loss picks) or, without one, its last (the
    "at" column says which); the best trial is named with the number it is chosen by."""
    summaries = [r.summary() for r in runs]
    table = pd.DataFrame([{"id": r.id, "trial": r.name, "status": status_word(r.status),
                           "epochs": f"{r.epochs_done}/{r.planned_epochs}", "at": s.by.word, "epoch": s.epoch,
                           "val acc": s.val_acc, "test acc": s.test_acc} for r, s in zip(runs, summaries)],
                         columns=["id", "trial", "status", "epochs", "at", "epoch", "val acc", "test acc"])
    table = common.visible_columns(table)  # no test column for a student until the teacher reveals it
    # the columns keep their English names (visible_columns finds the test column by it); their headers are worded
    headers = {"trial": _("trial"), "status": _("status"), "epochs": _("epochs"), "at": _("at"), "epoch": _("epoch"),
               "val acc": _("val acc"), "test acc": _("test acc")}
    st.dataframe(table, hide_index=True, placeholder=MISSING, key=f"sw_table_{sweep_id}", column_config={
        "trial": st.column_config.TextColumn(headers["trial"]),
        "status": st.column_config.TextColumn(headers["status"]),
        "epochs": st.column_config.TextColumn(headers["epochs"]),
        "at": st.column_config.TextColumn(headers["at"], help=_(
            "best: the {best_epoch}; last: the last finished epoch (a trial without a best epoch yet).").format(
            best_epoch=best_epoch_name())),
        "epoch": st.column_config.NumberColumn(headers["epoch"], help=_("The epoch the accuracies are read at.")),
        "val acc": st.column_config.NumberColumn(headers["val acc"], format="percent"),
        "test acc": st.column_config.NumberColumn(headers["test acc"], format="percent", help=ranking.WHY_NOT_TEST)})
    best = next((r for r in ranking.rank(runs) if r.best_val_acc is not None), None)
    if best is not None:
        st.caption(_("Best trial by {rank}: run {id} ({name}), {accuracy} at epoch {epoch}. {why}").format(
            rank=at_best_epoch(_("val. accuracy")), id=best.id, name=best.name, accuracy=acc_percent(best.best_val_acc),
            epoch=best.best_epoch, why=ranking.WHY_NOT_TEST))


def _stop_button(column: DeltaGenerator, sweep: LocalSweep | TpeSweep | None, active: bool) -> None:
    """Stop for a sweep this process runs; a sweep run by another process is stopped there."""
    if sweep is None and active:
        column.caption(_("Started by another process (e.g. the command line): stop it there with Ctrl-C."))
        return
    may = not common.class_server() or gate.passed(Realm.TEACHER)  # on a class server a sweep is the teacher's
    if column.button(_("Stop sweep"), disabled=not (may and active and sweep and not sweep.stopping),
                     icon=":material/stop:", key="sw_stop",
                     help=_("Running trials stop after their current batch; waiting ones never start.")):
        if sweep is not None:
            sweep.stop()
        st.rerun(scope="fragment")


# the tabs: a code (the Start button's key) -> the tab's title (translated where shown) and its form
FORMS = {"Grid": (N_("Grid"), _grid_form), "TPE": (N_("TPE (model-based, with pruning)"), _tpe_form),
         "Spec": (N_("Spec (TOML or JSON)"), _spec_form)}


def _tab(name: str, form: Callable[[], tuple[SweepSpec, list[Trial]]], may_start: bool, workers: int) -> None:
    """One tab: its form, what it would start, and its own Start button, so the sweep started is always the
    one whose form is on screen (a Start button shared by the tabs started another tab's sweep)."""
    try:
        plan: Plan | None = Plan(*form())
    except ConfigError as exc:
        plan = None
        st.error(common.message_text(exc), icon=":material/error:")
    st.write(_size_text(plan))
    if may_start and st.button(_("Start sweep"), type="primary", disabled=plan is None, icon=":material/play_arrow:",
                               key=f"sw_start_{name.lower()}") and plan is not None:
        _start(plan, workers)


def _size_text(plan: Plan | None) -> str:
    if plan is None:
        return _("Fix the settings above to start.")
    if plan.spec.tpe is not None:
        return ngettext("**TPE: up to {n} trial**, pruner {pruner}", "**TPE: up to {n} trials**, pruner {pruner}",
                        plan.spec.size).format(n=plan.spec.size, pruner=plan.spec.tpe.pruner)
    return "**" + ngettext("{n} trial", "{n} trials", len(plan.trials)).format(n=len(plan.trials)) + "**"


def _starting(known: set[str]) -> list[SweepSummary]:
    """This process's sweeps with no trial stored yet (a TPE sweep stores its first trial a moment after it
    starts), so that the picker can show a sweep from its first second."""
    return [SweepSummary(sweep_id, sweep.spec.name, "", "dashboard") for sweep_id, sweep in _sweeps().items()
            if sweep_id not in known and not sweep.done()]


def _pick_sweep(summaries: list[SweepSummary]) -> str | None:
    """Every stored sweep (this process's, the command line's, earlier ones), newest first, by name, date and
    its trials' statuses as stored now. The view follows the newest sweep (one just started here, or one that
    appears from the command line) unless an older one was chosen by hand."""
    if not summaries:
        return None
    by_id = {s.sweep_id: s for s in summaries}
    ids = list(by_id)
    newest = st.session_state["sw_newest"] = ids[0]
    if st.session_state.get("sw_pick") not in by_id or not st.session_state.get("sw_by_hand"):
        st.session_state["sw_pick"] = newest  # following the newest, or the chosen sweep was deleted
    return st.selectbox(_("Sweep"), ids, key="sw_pick", format_func=lambda i: _label(by_id[i]), on_change=_chosen,
                        help=_("Every sweep in the store, including those started from the command line. "
                               "The newest is shown unless you choose an older one."))


def _chosen() -> None:
    """The picker was changed by hand: an older sweep stays shown; the newest is followed again."""
    st.session_state["sw_by_hand"] = st.session_state.get("sw_pick") != st.session_state.get("sw_newest")


def _label(summary: SweepSummary) -> str:
    return summary.label() if summary.run_ids else _("{name} · starting").format(name=summary.name)


def _may_start() -> bool:
    """On a class server only the teacher starts sweeps: a sweep's worker processes take every core, outside
    the run queue that shares the machine among the students in turn. Anyone may watch them."""
    if not common.class_server():
        return True
    st.caption(_("On a class server sweeps are the teacher's: they use every core, outside the class's run queue."))
    return gate.teacher_allowed(_("Teacher password, to start a sweep"))


def render() -> None:
    st.title(_("Sweep"))
    st.caption(_("Train every combination of the settings below, or let TPE choose the trials and prune weak ones; "
                 "one trial per core, each a stored run. "
                 "On a cluster: `python -m experiments sweep SPEC --engine ray` (see the README)."))
    may_start = _may_start()
    counts = list(range(1, default_workers() + 1))
    workers = int(st.selectbox(_("Worker processes"), counts, index=len(counts) - 1, key="sw_workers",
                                 persist_state=common.KEEP))
    for (name, (_title, form)), tab in zip(FORMS.items(), st.tabs([_(title) for title, _form in FORMS.values()])):
        with tab:
            _tab(name, form, may_start, workers)
    summaries = _summaries()
    st.session_state["sw_seen"] = _signature(summaries)
    sweep_id = _pick_sweep(summaries)
    st.fragment(_live, run_every=LIVE_EVERY if _active(summaries) else None)(sweep_id)


common.run_page(render)
