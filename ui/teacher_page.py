"""Teacher: the class (its roster of sign-in codes, whether students see each other's runs:
``ui/roster_panel.py``), and for one exercise the class's predictions against the results, and a leaderboard.

Behind its own password (``teacher_password`` in .streamlit/secrets.toml or MNIST_LAB_TEACHER_PASSWORD);
on a laptop without one the page is open, on a class server it is refused. The leaderboard ranks each
student's runs of the exercise (its own runs and those started from its "try it yourself" link) by
validation accuracy, without a test column until the teacher shows it, so the class is not ranked by the test
set. "Reveal test numbers to students" is the class setting ``test_revealed``: until it is on, a student sees
no test number on any page or export (experiments/visibility.py).
"""
from __future__ import annotations

import dataclasses
import math

import pandas as pd
import streamlit as st

from experiments.access import Realm
from experiments.exercises.judge import answer_text, grade
from experiments.exercises.play import exercise_tag, group_state
from experiments.exercises.spec import Exercise, load_all
from experiments.i18n import N_, _, whole
from experiments.store import StoreError, predictions
from experiments.store.classroom import class_settings, save_class_settings
from ui import common, gate, roster_panel

# read at import, so marked here and translated where shown
LEADERBOARD_NOTE = N_("Ranked by validation accuracy; the test column is for you (the switch above shows it here "
                      "only).")
HIDDEN_FROM_STUDENTS = N_("Students see no test accuracy or loss on any page (History, Compare, the Sweep table, "
                          "Inspect, Insights, Report, the exercises' answers) or export: it stays hidden until you "
                          "reveal it, so they choose by validation.")
REVEALED_TO_STUDENTS = N_("Students see every run's test accuracy and loss on every page and export.")


def _allowed() -> bool:
    if not gate.password(Realm.TEACHER) and not common.class_server():
        st.caption(_("No teacher password is set (fine on a laptop; a class server needs one)."))
    return gate.teacher_allowed()


def _predictions(exercise: Exercise) -> None:
    latest = predictions.latest(common.store(), exercise=exercise.id)
    rows, right, judged = [], 0, 0
    for (name, _exercise), found in sorted(latest.items()):
        verdict = ""
        if found.group_id:
            state = group_state(common.store(), exercise, found.group_id)
            if state.result is not None:
                ok = grade(exercise, found.answer, state.result).right
                right, judged, verdict = right + ok, judged + 1, _("right") if ok else _("wrong")
            else:
                verdict = _("running")
        rows.append({_("student"): name, _("prediction"): answer_text(exercise, found.answer.get("value")),
                     _("result"): verdict or _("not run")})
    st.subheader(_("Predictions"))
    if not rows:
        st.info(_("No student has made a prediction for this exercise yet."))
        return
    st.metric(_("Predicted right"), _("{right} of {judged}").format(right=right, judged=judged),
              help=_("Among students whose runs have all finished."))
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _leaderboard(exercise: Exercise, show_test: bool) -> None:
    """Each student's best run of the exercise by validation accuracy (at the run's best epoch)."""
    st.subheader(_("Leaderboard"))
    best: dict[str, dict[str, object]] = {}
    for run in common.store().search_runs(tag=exercise_tag(exercise.id)):
        value = run.best_val_acc if run.best_val_acc is not None else run.val_acc
        if not run.student or value is None or not math.isfinite(value):
            continue
        # the epoch the numbers are read at: the best epoch, or the last one when there is none yet
        epoch = run.best_epoch if run.best_val_acc is not None else run.epochs_done
        row: dict[str, object] = {"student": run.student, "run": run.name, "epoch": epoch,
                                  "validation accuracy": value}
        if show_test:
            row["test accuracy"] = run.test_acc_at_best if run.best_epoch is not None else run.test_acc
        if run.student not in best or value > float(str(best[run.student]["validation accuracy"])):
            best[run.student] = row
    if not best:
        st.info(_("No finished run of this exercise has a validation accuracy yet."))
        return
    # the rows keep English keys (they are sorted by one); the headers are worded
    headers = {"student": _("student"), "run": _("run"), "epoch": _("epoch"),
               "validation accuracy": _("validation accuracy"), "test accuracy": _("test accuracy")}
    st.dataframe(pd.DataFrame(sorted(best.values(), key=_by_validation)).rename(columns=headers), hide_index=True,
                 column_config={headers["validation accuracy"]: st.column_config.NumberColumn(format="percent"),
                                headers["test accuracy"]: st.column_config.NumberColumn(format="percent")})
    if not show_test:
        st.caption(_(LEADERBOARD_NOTE))


def _by_validation(row: dict[str, object]) -> float:
    return -float(str(row["validation accuracy"]))


def _reveal_test_to_students() -> None:
    """The class setting that shows students the test numbers (``ClassSettings.test_revealed``), saved at once."""
    st.subheader(_("Test numbers"))
    store = common.store()
    settings = class_settings(store)
    revealed = st.toggle(_("Reveal test numbers to students"), value=settings.test_revealed,
                         key="teacher_reveal_test",
                         help=_("The test set is the final check: reveal it once the class has chosen by validation."))
    if revealed != settings.test_revealed:
        save_class_settings(store, dataclasses.replace(settings, test_revealed=revealed))
    st.caption(_(REVEALED_TO_STUDENTS if revealed else HIDDEN_FROM_STUDENTS))


def _budgets() -> None:
    """The largest network and the most training steps one student run may ask for (0: no cap); a student's
    run over either is refused in one line when queued (experiments/runs/budget.py)."""
    st.subheader(_("Budgets per student run"))
    settings = class_settings(common.store())
    with st.form("teacher_budgets"):
        left, right = st.columns(2)
        parameters = left.number_input(_("Most weights and biases (0: no cap)"), min_value=0, step=10_000,
                                       value=settings.max_parameters or 0, key="teacher_max_parameters",
                                       help=_("784-128-10 has {small}; 784-512-512-10 has {large}.").format(
                                           small=whole(101770), large=whole(669706)))
        steps = right.number_input(_("Most training steps (0: no cap)"), min_value=0, step=1_000,
                                   value=settings.max_steps or 0, key="teacher_max_steps",
                                   help=_("Epochs x batches per epoch: 10 epochs at batch size 64 on {images} images "
                                          "are {steps}.").format(images=whole(50000), steps=whole(7820)))
        saved = st.form_submit_button(_("Save budgets"))
    if saved:
        try:
            save_class_settings(common.store(), dataclasses.replace(
                settings, max_parameters=int(parameters) or None, max_steps=int(steps) or None))
        except StoreError as exc:
            st.error(common.message_text(exc), icon=":material/error:")
            return
        st.toast(_("Budgets saved: they apply to runs queued from now on"), icon=":material/check:")


def render() -> None:
    st.title(_("Teacher"))
    if not _allowed():
        return
    roster_panel.render()
    _reveal_test_to_students()
    _budgets()
    exercises, errors = load_all()
    for line in errors:
        st.warning(common.message_text(line))
    if not exercises:
        return
    # keyed by the exercise's id, shown by its title: a switch of language keeps the exercise
    by_id = {e.id: e for e in exercises}
    chosen = st.selectbox(_("Exercise"), list(by_id), key="teacher_exercise",
                          format_func=lambda ident: by_id[ident].title if ident in by_id else str(ident))
    exercise = by_id.get(str(chosen), exercises[0])
    _predictions(exercise)
    show_test = st.toggle(_("Show the test accuracy on the leaderboard"), key="teacher_show_test",
                          help=_("Adds a test column to this leaderboard, for you (the ranking stays by validation); "
                                 "students see it only once you reveal test numbers above."))
    _leaderboard(exercise, show_test)


common.run_page(render)
