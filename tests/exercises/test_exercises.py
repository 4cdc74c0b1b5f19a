"""Exercises: every shipped file loads; a bad file is one line naming it; answers are range-checked before
they are stored; grading counts each (config, seed) once and carries the seed verdict."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from experiments.config import ConfigError, RunConfig
from experiments.exercises.judge import check_answer, grade, outcome
from experiments.exercises.spec import EXERCISES_DIR, ExerciseError, PredictionKind, load_all, load_exercise
from tests.conftest import ROOT

GOOD = '''
title = "T"
question = "Q?"
explanation = "E."
seeds = [0, 1]
[base]
epochs = 2
train_size = 500
[[runs]]
label = "a"
lr = 0.1
[[runs]]
label = "b"
lr = 0.001
[prediction]
kind = "winner"
'''


def write(tmp_path, text: str, name: str = "x.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_shipped_exercises_load_and_are_small():
    exercises, errors = load_all(EXERCISES_DIR)
    assert not errors
    assert len(exercises) >= 8
    for exercise in exercises:  # small enough to run in a minute or two on two cores
        assert len(exercise.configs()) <= 12
        for config in exercise.configs():
            assert config.train_size > 0 and config.train_size * config.epochs <= 30_000, exercise.id
            assert config.epochs <= 40, exercise.id
    assert {e.kind for e in exercises} == set(PredictionKind)


@pytest.mark.parametrize("change, words", [
    (lambda t: t.replace('question = "Q?"\n', ""), "missing field 'question'"),
    (lambda t: t.replace("lr = 0.1", "learning_rate = 0.1"), "unknown setting 'learning_rate'"),
    (lambda t: t.replace("lr = 0.1", "lr = 1e9"), "lr must be"),
    (lambda t: t.replace('kind = "winner"', 'kind = "guess"'), "prediction.kind"),
    (lambda t: "colour = 1\n" + t, "unknown field 'colour'"),
    (lambda t: t + "colour = 1\n", "unknown field prediction.colour"),
    (lambda t: t.replace("[base]", "locked = ['nope']\n[base]"), "unknown setting 'nope'"),
    (lambda t: t.replace("title = ", "title = = "), "not valid TOML"),
])
def test_a_bad_exercise_file_is_one_line_naming_it(tmp_path, change, words):
    path = write(tmp_path, change(GOOD), "bad_one.toml")
    with pytest.raises(ExerciseError) as caught:
        load_exercise(path)
    message = str(caught.value)
    assert message.startswith("bad_one.toml: ") and words in message and "\n" not in message
    write(tmp_path, GOOD, "good.toml")
    found, errors = load_all(tmp_path)
    assert [e.id for e in found] == ["good"] and len(errors) == 1


def number_exercise(tmp_path):
    text = GOOD.replace('kind = "winner"', 'kind = "number"\nrun = "a"\nlow = 0.0\nhigh = 1.0\ntolerance = 0.05')
    return load_exercise(write(tmp_path, text))


@pytest.mark.parametrize("answer", [1.5, -0.1, "abc", math.nan, None, True])
def test_a_prediction_out_of_range_is_refused(tmp_path, answer):
    with pytest.raises(ConfigError) as caught:
        check_answer(number_exercise(tmp_path), answer)
    assert "from 0% to 100%" in str(caught.value)


def test_a_winner_must_be_one_of_the_runs(tmp_path):
    exercise = load_exercise(write(tmp_path, GOOD))
    assert check_answer(exercise, "a") == {"kind": "winner", "value": "a"}
    with pytest.raises(ConfigError):
        check_answer(exercise, "<b>c</b>")


def test_a_curve_needs_one_value_per_epoch(tmp_path):
    text = GOOD.replace('kind = "winner"', 'kind = "curve"\nrun = "b"')
    exercise = load_exercise(write(tmp_path, text))
    assert check_answer(exercise, [0.2, 0.4])["value"] == [0.2, 0.4]
    with pytest.raises(ConfigError):
        check_answer(exercise, [0.2])


def fake_runs(exercise, finals: dict[str, list[float]]):
    runs, epochs, next_id = [], {}, 1
    for line in exercise.lines:
        for seed, final in zip(exercise.seeds, finals[line.label]):
            runs.append(SimpleNamespace(id=next_id, config=line.config.replace(seed=seed), epochs_done=2,
                                        status="finished"))
            epochs[next_id] = [{"test_acc": final / 2}, {"test_acc": final}]
            next_id += 1
    return runs, epochs


def test_grading_a_winner_with_its_seed_verdict(tmp_path):
    exercise = load_exercise(write(tmp_path, GOOD))
    runs, epochs = fake_runs(exercise, {"a": [0.90, 0.92], "b": [0.40, 0.45]})
    result = outcome(exercise, runs, epochs)
    assert result.winner == "a" and result.verdict is not None and result.verdict.real
    assert grade(exercise, {"value": "a"}, result).right
    assert not grade(exercise, {"value": "b"}, result).right


def test_a_repeated_config_and_seed_is_counted_once(tmp_path):
    exercise = load_exercise(write(tmp_path, GOOD))
    runs, epochs = fake_runs(exercise, {"a": [0.90, 0.92], "b": [0.40, 0.45]})
    runs.append(SimpleNamespace(id=99, config=exercise.lines[0].config.replace(seed=0), epochs_done=2,
                                status="finished"))
    epochs[99] = [{"test_acc": 0.5}, {"test_acc": 0.90}]
    assert outcome(exercise, runs, epochs).line("a").spread.n == 2


def test_grading_a_number_uses_the_tolerance_or_the_seed_spread(tmp_path):
    exercise = number_exercise(tmp_path)
    runs, epochs = fake_runs(exercise, {"a": [0.80, 0.82], "b": [0.4, 0.4]})
    result = outcome(exercise, runs, epochs)
    assert grade(exercise, {"value": 0.84}, result).right
    assert not grade(exercise, {"value": 0.60}, result).right
    assert RunConfig.from_dict({"lr": 0.1, "epochs": 2, "train_size": 500}) == exercise.line("a").config


def test_the_reveal_figure_draws_each_line_and_the_students_curve(tmp_path):
    from experiments.exercises.figure import reveal_figure
    from experiments.exercises.judge import answer_text

    exercise = load_exercise(write(tmp_path, GOOD.replace('label = "a"', 'label = "<b>a</b>"')))
    runs, epochs = fake_runs(exercise, {"<b>a</b>": [0.90, 0.92], "b": [0.40, 0.45]})
    figure = reveal_figure(exercise, outcome(exercise, runs, epochs), drawn=[0.3, 0.6])
    assert [t.name for t in figure.data] == ["&lt;b&gt;a&lt;/b&gt;", "b", "your curve"]
    assert list(figure.data[0].y) == pytest.approx([45.5, 91.0])
    assert answer_text(exercise, "b") == "b"
    assert answer_text(number_exercise(tmp_path), 0.912) == "91.20%"  # acc_percent, as everywhere


def test_no_real_difference_is_the_right_answer_when_the_seeds_cannot_tell(tmp_path):
    from experiments.exercises.spec import TIE

    exercise = load_exercise(write(tmp_path, GOOD.replace('kind = "winner"', 'kind = "winner"\ntie = true')))
    assert exercise.choices == ["a", "b", TIE]
    close, apart = ({"a": [0.90, 0.80], "b": [0.86, 0.84]}, {"a": [0.90, 0.92], "b": [0.40, 0.45]})
    noisy = outcome(exercise, *fake_runs(exercise, close))
    assert noisy.verdict is not None and not noisy.verdict.real
    assert grade(exercise, {"value": TIE}, noisy).right and not grade(exercise, {"value": "a"}, noisy).right
    clear = outcome(exercise, *fake_runs(exercise, apart))
    assert grade(exercise, {"value": "a"}, clear).right and not grade(exercise, {"value": TIE}, clear).right
    with pytest.raises(ExerciseError, match="only for a 'winner'"):
        load_exercise(write(tmp_path, number_text().replace("tolerance = 0.05", "tolerance = 0.05\ntie = true")))


def number_text() -> str:
    return GOOD.replace('kind = "winner"', 'kind = "number"\nrun = "a"\nlow = 0.0\nhigh = 1.0\ntolerance = 0.05')


def test_a_curve_is_drawn_at_its_points(tmp_path):
    curve = 'kind = "curve"\nrun = "a"\npoints = [1, 5, 10]'
    text = GOOD.replace("epochs = 2", "epochs = 10").replace('kind = "winner"', curve)
    exercise = load_exercise(write(tmp_path, text))
    assert exercise.drawn_epochs == (1, 5, 10)
    assert check_answer(exercise, [0.1, 0.5, 0.9])["value"] == [0.1, 0.5, 0.9]
    with pytest.raises(ConfigError, match="one value per drawn epoch"):
        check_answer(exercise, [0.1] * 10)
    with pytest.raises(ExerciseError, match="increasing epochs from 1 to 10"):
        load_exercise(write(tmp_path, text.replace("points = [1, 5, 10]", "points = [5, 1, 11]")))


@pytest.mark.parametrize("make, words", [
    (lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
    (lambda p: os.mkfifo(p), "not a regular file"),  # no writer: opening it must not block
    (lambda p: p.mkdir(), "not a regular file"),
    (lambda p: (p.touch(), os.truncate(p, 20 << 30)), "too large"),  # 20 GB, sparse: never read
    (lambda p: p.write_bytes(b'title = "\xff"'), "not UTF-8"),
    (lambda p: p.write_text("a = " + "[" * 30_000 + "]" * 30_000), "nested too deeply"),
], ids=["dev-zero", "fifo", "folder", "sparse-20GB", "not-utf8", "nested"])
def test_an_exercise_file_that_is_no_small_text_is_refused_without_reading_it(tmp_path, make, words):
    """A folder a teacher points at (MNIST_LAB_EXERCISES) may hold anything: a symlink to /dev/zero used to be
    read until the server ran out of memory."""
    make(tmp_path / "odd.toml")
    write(tmp_path, GOOD, "good.toml")
    found, errors = load_all(tmp_path)
    assert [e.id for e in found] == ["good"] and len(errors) == 1
    assert errors[0].startswith("odd.toml: ") and words in errors[0] and "\n" not in errors[0]


def test_a_run_from_an_exercise_link_keeps_its_locked_settings_to_carry_its_tag():
    """Issue 24: the leaderboard could be poisoned by any network tagged with the exercise."""
    from experiments.exercises.play import link_run_problem

    exercise = next(e for e in load_all(EXERCISES_DIR)[0] if e.id == "01_learning_rate")
    base = exercise.lines[0].config
    assert link_run_problem(exercise, base.replace(lr=0.5)) == ""  # lr is the free setting
    problem = link_run_problem(exercise, base.replace(hidden=(4096, 4096), optimizer="adam"))
    assert problem.startswith("the exercise 01_learning_rate keeps optimizer, hidden as it set them")


def test_the_link_refusal_and_the_headless_command_read_in_spanish():
    """Issue 26: the refusal of a link that changed an exercise's locked settings is worded in the session's
    language, and ``python -m experiments.exercises.play --lang es`` speaks Spanish down to argparse's words."""
    from experiments import i18n
    from experiments.exercises.play import link_run_problem

    with i18n.using("es"):
        exercise = next(e for e in load_all(EXERCISES_DIR)[0] if e.id == "01_learning_rate")
        problem = link_run_problem(exercise, exercise.lines[0].config.replace(optimizer="adam"))
    assert problem.startswith("el ejercicio 01_learning_rate fija optimizer tal como los definió"), problem
    shown = subprocess.run([sys.executable, "-m", "experiments.exercises.play", "--lang", "es", "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"})
    assert shown.returncode == 0 and shown.stdout.startswith("uso: python -m experiments.exercises.play")
    assert "Ejecuta ejercicios sin el tablero" in shown.stdout and "muestra esta ayuda y termina" in shown.stdout
