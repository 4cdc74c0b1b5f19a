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
from experiments.exercises.figure import metric_name, reveal_figure
from experiments.exercises.judge import answer_text, check_answer, grade
from experiments.exercises.play import GroupState, group_state, queue_exercise
from experiments.exercises.spec import TIE, Exercise, PredictionKind, load_all
from experiments.i18n import N_, _
from experiments.settings.links import config_link
from experiments.store import predictions
from experiments.store.predictions import Prediction
from ui import common, links, student

REFRESH_S = 1.0
# a student's stage in an exercise (the progress table's words, translated where shown)
STAGES = (N_("not started"), N_("predicted"), N_("run"), N_("result hidden"), N_("right"), N_("wrong"),
          N_("running"))


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
    rows = [{_("run"): line.label, _("settings"): short_label(line.config, names)} for line in exercise.lines]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    first = exercise.lines[0].config
    st.caption(_("Every run: {architecture}, {images} training images, {n} epochs; each trained with seeds "
                 "{seeds}. Compared on the final {metric}.").format(
        architecture=first.architecture, images=first.train_size or 60000, n=first.epochs,
        seeds=", ".join(map(str, exercise.seeds)), metric=metric_name(exercise.metric)))
    if exercise.free:
        st.link_button(_("Try it yourself on the Train page"), _try_link(exercise), icon=":material/open_in_new:",
                       help=_("Change {settings}; the other settings are locked.").format(
                           settings=", ".join(exercise.free)))


def _prediction_widget(exercise: Exercise) -> object:
    """The input for this exercise's kind of prediction; its raw value."""
    key = f"answer_{exercise.id}"
    if exercise.kind is PredictionKind.WINNER:
        # the options are the runs' identities (and TIE), shown in the current language: a switch of language
        # keeps the choice
        options = [line.identity for line in exercise.lines] + ([TIE] if exercise.tie else [])
        return st.radio(_("Which run wins?"), options, index=None, key=key, persist_state=common.KEEP,
                        format_func=exercise.shown)
    k, unit = _percent(exercise), " (%)" if exercise.percent else ""
    if exercise.kind is PredictionKind.NUMBER:
        label = _("Your prediction for {run}{unit}").format(run=exercise.shown(exercise.target), unit=unit)
        text = st.text_input(label, key=key, persist_state=common.KEEP,
                             placeholder=_("{low} to {high}").format(low=f"{exercise.low * k:g}",
                                                                     high=f"{exercise.high * k:g}"))
        try:
            return float(text) / k
        except ValueError:
            return text
    epochs = exercise.drawn_epochs
    st.caption(_("Draw {run}'s {metric} after these epochs (roughly).").format(
        run=exercise.shown(exercise.target), metric=metric_name(exercise.metric)))
    columns = st.columns(len(epochs))
    middle = (exercise.low + exercise.high) * k / 2
    return [col.slider(_("epoch {n}{unit}").format(n=e, unit=unit), exercise.low * k, exercise.high * k, middle,
                       key=f"{key}_{i}", persist_state=common.KEEP) / k
            for i, (e, col) in enumerate(zip(epochs, columns))]


def _predict(exercise: Exercise) -> None:
    st.markdown(_("**1. Your prediction** (saved before anything runs)"))
    raw = _prediction_widget(exercise)
    if st.button(_("Save my prediction"), type="primary", key=f"save_{exercise.id}", icon=":material/edit_note:"):
        try:
            answer = check_answer(exercise, raw)
        except ConfigError as exc:
            st.error(_("Not saved: {reason}").format(reason=common.message_text(exc)), icon=":material/block:")
            return
        if common.first_click("predict", (exercise.id, answer)):
            predictions.save_prediction(common.store(), student.current(), exercise.id, answer)
            st.session_state.pop(f"retry_{exercise.id}", None)
        st.rerun()


def _said(exercise: Exercise, prediction: Prediction) -> None:
    st.markdown(_("**1. Your prediction:** {answer}").format(
        answer=common.md_escape(answer_text(exercise, prediction.answer.get("value")))))


def _run(exercise: Exercise, prediction: Prediction) -> None:
    _said(exercise, prediction)
    st.markdown(_("**2. Run it:** {runs} runs ({lines} settings × {seeds} seeds) queue as one group.").format(
        runs=len(exercise.configs()), lines=len(exercise.lines), seeds=len(exercise.seeds)))
    if st.button(_("Run the exercise"), type="primary", key=f"run_{exercise.id}", icon=":material/play_arrow:"):
        if common.first_click("exercise", (exercise.id, prediction.id)):
            group_id, _ids = queue_exercise(common.manager(), exercise, student.current())
            predictions.attach_group(common.store(), prediction.id, group_id)
        st.rerun()


def _progress(exercise: Exercise, group_id: str) -> None:
    """A fragment that follows the group until every run has ended, then reruns the page."""
    state = group_state(common.store(), exercise, group_id)
    if state.done:
        st.rerun()
    st.progress(state.ended / len(state.runs) if state.runs else 0.0,
                text=_("{ended} of {n} runs finished").format(ended=state.ended, n=len(state.runs)))


def _reveal(exercise: Exercise, prediction: Prediction, state: GroupState) -> None:
    """The prediction beside the result, the verdict with its seed noise, the curves and the explanation."""
    assert state.result is not None
    result, answer = state.result, prediction.answer.get("value")
    verdict = grade(exercise, prediction.answer, result)
    left, right = st.columns(2)
    left.metric(_("Your prediction"), answer_text(exercise, answer))
    if exercise.kind is PredictionKind.WINNER:
        shown = ", ".join(f"{exercise.shown(r.label)}: {r.spread.text(exercise.percent, 1)}" for r in result.lines)
    elif exercise.kind is PredictionKind.CURVE:
        shown = answer_text(exercise, result.line(exercise.target).curve)
    else:
        shown = result.line(exercise.target).spread.text(exercise.percent, 1)
    right.metric(_("Result (mean over seeds)"), shown)
    show = st.success if verdict.right else st.warning
    show((_("Right.") if verdict.right else _("Not quite.")) + " " + common.message_text(verdict.text))
    if result.verdict is not None:
        st.caption(_("Seed noise: {verdict}").format(verdict=common.message_text(result.verdict.text)))
    drawn = [float(v) for v in answer] if exercise.kind is PredictionKind.CURVE and isinstance(answer, list) else []
    st.plotly_chart(reveal_figure(exercise, result, drawn), key=f"reveal_chart_{exercise.id}")
    st.markdown("**" + _("Why") + "**")
    st.markdown(common.message_text(exercise.explanation))
    if st.button(_("Try this exercise again"), key=f"retry_button_{exercise.id}"):
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
        st.info(_("**3. Every run has finished.** This exercise is judged on the test set: {note}.").format(
            note=_(visibility.HIDDEN_NOTE)), icon=":material/visibility_off:")
        return
    revealed = st.session_state.setdefault("revealed", set())
    if prediction.id not in revealed:
        _said(exercise, prediction)
        st.markdown(_("**3. Every run has finished.**"))
        if st.button(_("Reveal the result"), type="primary", key=f"reveal_{exercise.id}", icon=":material/visibility:"):
            revealed.add(prediction.id)
            st.rerun()
        return
    _reveal(exercise, prediction, state)


def _progress_table(exercises: list[Exercise], latest: dict[tuple[str, str], Prediction]) -> None:
    rows = []
    for exercise in exercises:
        found = latest.get((student.current(), exercise.id))
        stage = STAGES[0] if found is None else STAGES[1] if not found.group_id else STAGES[2]
        if found is not None and found.group_id:
            state = group_state(common.store(), exercise, found.group_id)
            if state.done and _result_hidden(exercise):
                stage = STAGES[3]
            elif state.result is not None:
                stage = STAGES[4] if grade(exercise, found.answer, state.result).right else STAGES[5]
            elif not state.done:
                stage = STAGES[6]
        rows.append({_("exercise"): exercise.title, _("your progress"): _(stage)})
    with st.expander(_("Your progress"), icon=":material/checklist:"):
        st.table(pd.DataFrame(rows).set_index(_("exercise")))


def render() -> None:
    st.title(_("Exercises"))
    exercises, errors = load_all()
    for line in errors:
        st.warning(common.message_text(line), icon=":material/rule:")
    if not student.name_form():
        return
    if not exercises:
        st.info(_("No exercises found in exercises/."))
        return
    latest = predictions.latest(common.store(), student=student.current())
    _progress_table(exercises, latest)
    # keyed by the exercise's id and shown by its title in the session's language: a switch of language keeps
    # the exercise in view
    by_id = {e.id: e for e in exercises}
    if links.exercise() in by_id:  # a link such as /exercises?exercise=01_learning_rate opens that exercise
        st.session_state.setdefault("exercise_choice", links.exercise())
    if st.session_state.get("exercise_choice") not in by_id:
        st.session_state.pop("exercise_choice", None)  # an exercise since removed (or a title kept from before)
    chosen = st.selectbox(_("Exercise"), list(by_id), key="exercise_choice", persist_state=common.KEEP,
                          format_func=lambda ident: by_id[ident].title if ident in by_id else str(ident))
    exercise = by_id[str(chosen)]
    _describe(exercise)
    _step(exercise, latest.get((student.current(), exercise.id)))


common.run_page(render)
