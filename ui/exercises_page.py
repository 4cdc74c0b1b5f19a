"""Exercises: pick one, predict (stored before anything runs), run it as a seeded group, then the reveal.

The reveal puts the prediction beside the result, gives the verdict with its seed noise (Welch's test over
the seeds, ``experiments.exercises.judge``) and the exercise's explanation. Each student's progress (their
latest attempt per exercise) is read from the store, so it survives a reload once the name is entered.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from experiments import visibility
from experiments.config import ConfigError, differing_fields, short_label
from experiments.exercises.figure import METRIC_NAMES, reveal_figure
from experiments.exercises.judge import answer_text, check_answer, grade
from experiments.exercises.play import GroupState, group_state, queue_exercise
from experiments.exercises.spec import Exercise, PredictionKind, load_all
from experiments.settings.links import config_link
from experiments.store import predictions
from experiments.store.predictions import Prediction
from ui import common, links, student

REFRESH_S = 1.0


def _percent(exercise: Exercise) -> float:
    return 100.0 if exercise.percent else 1.0


def _try_link(exercise: Exercise) -> str:
    """A link to the Train page (the app's root, the default page; ``page=train`` says so too) with the
    exercise's first run, its locked settings locked."""
    parts = urlsplit(st.context.url or "")
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    params = config_link(exercise.lines[0].config, "train", exercise.locked, exercise=exercise.id)
    return f"{base}/?{urlencode(params)}"


def _describe(exercise: Exercise) -> None:
    st.subheader(exercise.title)
    st.markdown(common.message_text(exercise.question))
    configs = [line.config for line in exercise.lines]
    names = differing_fields(configs)
    rows = [{"run": line.label, "settings": short_label(line.config, names)} for line in exercise.lines]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    first = exercise.lines[0].config
    st.caption(f"Every run: {first.architecture}, {first.train_size or 60000} training images, {first.epochs} "
               f"epochs; each trained with seeds {', '.join(map(str, exercise.seeds))}. Compared on the final "
               f"{METRIC_NAMES.get(exercise.metric, exercise.metric)}.")
    if exercise.free:
        st.link_button("Try it yourself on the Train page", _try_link(exercise), icon=":material/open_in_new:",
                       help=f"Change {', '.join(exercise.free)}; the other settings are locked.")


def _prediction_widget(exercise: Exercise) -> object:
    """The input for this exercise's kind of prediction; its raw value."""
    key = f"answer_{exercise.id}"
    if exercise.kind is PredictionKind.WINNER:
        return st.radio("Which run wins?", exercise.choices, index=None, key=key, persist_state=common.KEEP)
    k, unit = _percent(exercise), " (%)" if exercise.percent else ""
    if exercise.kind is PredictionKind.NUMBER:
        text = st.text_input(f"Your prediction for {exercise.target}{unit}", key=key, persist_state=common.KEEP,
                             placeholder=f"{exercise.low * k:g} to {exercise.high * k:g}")
        try:
            return float(text) / k
        except ValueError:
            return text
    epochs = exercise.drawn_epochs
    st.caption(f"Draw {exercise.target}'s {METRIC_NAMES.get(exercise.metric, exercise.metric)} after these epochs "
               f"(roughly).")
    columns = st.columns(len(epochs))
    middle = (exercise.low + exercise.high) * k / 2
    return [col.slider(f"epoch {e}{unit}", exercise.low * k, exercise.high * k, middle, key=f"{key}_{i}",
                       persist_state=common.KEEP) / k
            for i, (e, col) in enumerate(zip(epochs, columns))]


def _predict(exercise: Exercise) -> None:
    st.markdown("**1. Your prediction** (saved before anything runs)")
    raw = _prediction_widget(exercise)
    if st.button("Save my prediction", type="primary", key=f"save_{exercise.id}", icon=":material/edit_note:"):
        try:
            answer = check_answer(exercise, raw)
        except ConfigError as exc:
            st.error(f"Not saved: {common.message_text(exc)}", icon=":material/block:")
            return
        if common.first_click("predict", (exercise.id, answer)):
            predictions.save_prediction(common.store(), student.current(), exercise.id, answer)
            st.session_state.pop(f"retry_{exercise.id}", None)
        st.rerun()


def _said(exercise: Exercise, prediction: Prediction) -> None:
    st.markdown(f"**1. Your prediction:** {common.md_escape(answer_text(exercise, prediction.answer.get('value')))}")


def _run(exercise: Exercise, prediction: Prediction) -> None:
    _said(exercise, prediction)
    st.markdown(f"**2. Run it:** {len(exercise.configs())} runs ({len(exercise.lines)} settings × "
                f"{len(exercise.seeds)} seeds) queue as one group.")
    if st.button("Run the exercise", type="primary", key=f"run_{exercise.id}", icon=":material/play_arrow:"):
        if common.first_click("exercise", (exercise.id, prediction.id)):
            group_id, _ = queue_exercise(common.manager(), exercise, student.current())
            predictions.attach_group(common.store(), prediction.id, group_id)
        st.rerun()


def _progress(exercise: Exercise, group_id: str) -> None:
    """A fragment that follows the group until every run has ended, then reruns the page."""
    state = group_state(common.store(), exercise, group_id)
    if state.done:
        st.rerun()
    st.progress(state.ended / len(state.runs) if state.runs else 0.0,
                text=f"{state.ended} of {len(state.runs)} runs finished")


def _reveal(exercise: Exercise, prediction: Prediction, state: GroupState) -> None:
    """The prediction beside the result, the verdict with its seed noise, the curves and the explanation."""
    assert state.result is not None
    result, answer = state.result, prediction.answer.get("value")
    verdict = grade(exercise, prediction.answer, result)
    left, right = st.columns(2)
    left.metric("Your prediction", answer_text(exercise, answer))
    if exercise.kind is PredictionKind.WINNER:
        shown = ", ".join(f"{r.label}: {r.spread.text(exercise.percent, 1)}" for r in result.lines)
    elif exercise.kind is PredictionKind.CURVE:
        shown = answer_text(exercise, result.line(exercise.target).curve)
    else:
        shown = result.line(exercise.target).spread.text(exercise.percent, 1)
    right.metric("Result (mean over seeds)", shown)
    show = st.success if verdict.right else st.warning
    show(("Right. " if verdict.right else "Not quite. ") + common.message_text(verdict.text))
    if result.verdict is not None:
        st.caption(f"Seed noise: {common.message_text(result.verdict.text)}")
    drawn = [float(v) for v in answer] if exercise.kind is PredictionKind.CURVE and isinstance(answer, list) else []
    st.plotly_chart(reveal_figure(exercise, result, drawn), key=f"reveal_chart_{exercise.id}")
    st.markdown("**Why**")
    st.markdown(common.message_text(exercise.explanation))
    if st.button("Try this exercise again", key=f"retry_button_{exercise.id}"):
        st.session_state[f"retry_{exercise.id}"] = True
        st.rerun()


def _result_hidden(exercise: Exercise) -> bool:
    """Whether this exercise is judged on a test number that this session may not see yet."""
    return visibility.is_test_key(exercise.metric) and not common.sees_test()


def _step(exercise: Exercise, prediction: Prediction | None) -> None:
    """Show the step this student is at: predict, run, follow the runs, reveal."""
    if prediction is None or st.session_state.get(f"retry_{exercise.id}"):
        _predict(exercise)
        return
    if not prediction.group_id:
        _run(exercise, prediction)
        return
    state = group_state(common.store(), exercise, prediction.group_id)
    if not state.done:
        _said(exercise, prediction)
        st.fragment(_progress, run_every=REFRESH_S)(exercise, prediction.group_id)
        return
    if _result_hidden(exercise):
        _said(exercise, prediction)
        st.info(f"**3. Every run has finished.** This exercise is judged on the test set: "
                f"{visibility.HIDDEN_NOTE}.", icon=":material/visibility_off:")
        return
    revealed = st.session_state.setdefault("revealed", set())
    if prediction.id not in revealed:
        _said(exercise, prediction)
        st.markdown("**3. Every run has finished.**")
        if st.button("Reveal the result", type="primary", key=f"reveal_{exercise.id}", icon=":material/visibility:"):
            revealed.add(prediction.id)
            st.rerun()
        return
    _reveal(exercise, prediction, state)


def _progress_table(exercises: list[Exercise], latest: dict[tuple[str, str], Prediction]) -> None:
    rows = []
    for exercise in exercises:
        found = latest.get((student.current(), exercise.id))
        stage = "not started" if found is None else "predicted" if not found.group_id else "run"
        if found is not None and found.group_id:
            state = group_state(common.store(), exercise, found.group_id)
            if state.done and _result_hidden(exercise):
                stage = "result hidden"
            elif state.result is not None:
                stage = "right" if grade(exercise, found.answer, state.result).right else "wrong"
            elif not state.done:
                stage = "running"
        rows.append({"exercise": exercise.title, "your progress": stage})
    with st.expander("Your progress", icon=":material/checklist:"):
        st.table(pd.DataFrame(rows).set_index("exercise"))


def render() -> None:
    st.title("Exercises")
    exercises, errors = load_all()
    for line in errors:
        st.warning(common.message_text(line), icon=":material/rule:")
    if not student.name_form():
        return
    if not exercises:
        st.info("No exercises found in exercises/.")
        return
    latest = predictions.latest(common.store(), student=student.current())
    _progress_table(exercises, latest)
    titles = {e.title: e for e in exercises}
    linked = [e.title for e in exercises if e.id == links.exercise()]
    if linked:  # a link such as /exercises?exercise=01_learning_rate opens that exercise
        st.session_state.setdefault("exercise_choice", linked[0])
    exercise = titles[st.selectbox("Exercise", list(titles), key="exercise_choice",
                                   persist_state=common.KEEP)]
    _describe(exercise)
    _step(exercise, latest.get((student.current(), exercise.id)))


common.run_page(render)
