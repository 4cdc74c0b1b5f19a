"""Teacher: the class (its roster of sign-in codes, whether students see each other's runs:
``ui/roster_panel.py``), and for one exercise the class's predictions against the results, and a leaderboard.

Behind its own password (``teacher_password`` in .streamlit/secrets.toml or MNIST_LAB_TEACHER_PASSWORD);
on a laptop without one the page is open, on a class server it is refused. The leaderboard ranks each
student's runs of the exercise (its own runs and those started from its "try it yourself" link) by
validation accuracy, without a test column until the teacher shows it, so the class is not ranked by the test
set. The page says what that hides and what it does not: students still see each run's test accuracy on
History, Compare, the Sweep table, Inspect and in ``python -m experiments list`` (hiding it there until
revealed is a later issue), so the words must not promise more.
"""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from experiments.access import Realm
from experiments.exercises.judge import answer_text, grade
from experiments.exercises.play import exercise_tag, group_state
from experiments.exercises.spec import Exercise, load_all
from experiments.store import predictions
from ui import common, gate, roster_panel

LEADERBOARD_NOTE = ("Ranked by validation accuracy. Only this leaderboard leaves the test accuracy out until you "
                    "show it: students still see every run's test accuracy on History, Compare, the Sweep table, "
                    "Inspect and in `python -m experiments list`, so ask them to choose by validation.")


def _allowed() -> bool:
    if not gate.password(Realm.TEACHER) and not gate.class_server():
        st.caption("No teacher password is set (fine on a laptop; a class server needs one).")
    return gate.teacher_allowed()


def _predictions(exercise: Exercise) -> None:
    latest = predictions.latest(common.store(), exercise=exercise.id)
    rows, right, judged = [], 0, 0
    for (name, _), found in sorted(latest.items()):
        verdict = ""
        if found.group_id:
            state = group_state(common.store(), exercise, found.group_id)
            if state.result is not None:
                ok = grade(exercise, found.answer, state.result).right
                right, judged, verdict = right + ok, judged + 1, "right" if ok else "wrong"
            else:
                verdict = "running"
        rows.append({"student": name, "prediction": answer_text(exercise, found.answer.get("value")),
                     "result": verdict or "not run"})
    st.subheader("Predictions")
    if not rows:
        st.info("No student has made a prediction for this exercise yet.")
        return
    st.metric("Predicted right", f"{right} of {judged}", help="Among students whose runs have all finished.")
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _leaderboard(exercise: Exercise, show_test: bool) -> None:
    """Each student's best run of the exercise by validation accuracy (at the run's best epoch)."""
    st.subheader("Leaderboard")
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
        st.info("No finished run of this exercise has a validation accuracy yet.")
        return
    st.dataframe(pd.DataFrame(sorted(best.values(), key=_by_validation)), hide_index=True, column_config={
        "validation accuracy": st.column_config.NumberColumn(format="percent"),
        "test accuracy": st.column_config.NumberColumn(format="percent")})
    if not show_test:
        st.caption(LEADERBOARD_NOTE)


def _by_validation(row: dict[str, object]) -> float:
    return -float(str(row["validation accuracy"]))


def render() -> None:
    st.title("Teacher")
    if not _allowed():
        return
    roster_panel.render()
    exercises, errors = load_all()
    for line in errors:
        st.warning(common.message_text(line))
    if not exercises:
        return
    titles = {e.title: e for e in exercises}
    exercise = titles[st.selectbox("Exercise", list(titles), key="teacher_exercise")]
    _predictions(exercise)
    show_test = st.toggle("Show the test accuracy on the leaderboard", key="teacher_show_test",
                          help="Adds a test column to this leaderboard only (the ranking stays by validation); "
                               "the other pages show test accuracy anyway.")
    _leaderboard(exercise, show_test)


common.run_page(render)
