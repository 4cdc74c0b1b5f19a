"""A student's answer to an exercise, checked (before it is stored), and graded against the runs' results.

The results of each line are its runs' final values of the exercise's metric, one per seed (a repeated
(config, seed) counted once, ``seeds.one_per_seed``); the verdict between the two best lines is Welch's
test (``stats.verdict``), so the reveal says whether the winner wins beyond seed noise. A winner answer is
stored as the run's identity (its label in the file) or TIE, so it grades the same whatever language the
student answered or reads the reveal in; every sentence is in the current language.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from experiments.analysis import stats
from experiments.analysis.rounding import acc_percent
from experiments.analysis.seeds import one_per_seed
from experiments.config import ConfigError, RunConfig
from experiments.exercises.spec import TIE, Exercise, Line, PredictionKind
from experiments.i18n import _, decimal, localized
from experiments.settings.parsers import quote


def check_answer(exercise: Exercise, answer: Any) -> dict[str, Any]:
    """The answer as stored (``{"kind": ..., "value": ...}``), or ConfigError (one line) if out of range."""
    kind = exercise.kind
    if kind is PredictionKind.WINNER:
        key = exercise.answer_key(answer)
        if key is None:
            raise ConfigError(_("choose one of: {choices} (got {value})").format(
                choices=", ".join(exercise.choices), value=quote(answer)))
        return {"kind": kind.value, "value": key}
    values = answer if kind is PredictionKind.CURVE else [answer]
    epochs = len(exercise.drawn_epochs)
    if kind is PredictionKind.CURVE and (not isinstance(values, (list, tuple)) or len(values) != epochs):
        raise ConfigError(_("a curve needs one value per drawn epoch ({epochs})").format(epochs=epochs))
    numbers = [_number(v, exercise) for v in values]
    return {"kind": kind.value, "value": numbers if kind is PredictionKind.CURVE else numbers[0]}


def _number(value: Any, exercise: Exercise) -> float:
    scale = 100.0 if exercise.percent else 1.0
    unit = "%" if exercise.percent else ""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not exercise.low <= number <= exercise.high:
        shown = quote(value * scale if isinstance(value, float) else value)
        raise ConfigError(_("the prediction must be a number from {low}{unit} to {high}{unit} (got {value})").format(
            low=f"{exercise.low * scale:g}", high=f"{exercise.high * scale:g}", unit=unit, value=shown))
    return number


@dataclass(frozen=True)
class LineResult:
    """One line's results over its seeds: the final values and the mean curve."""

    label: str
    finals: list[float]
    curve: list[float]          # mean per epoch over the seeds
    spread: stats.Spread


@dataclass(frozen=True)
class Outcome:
    """What the runs showed: each line's results, the best line and the verdict against the runner-up."""

    lines: list[LineResult]
    winner: str
    verdict: stats.Verdict | None

    def line(self, label: str) -> LineResult:
        return next(result for result in self.lines if result.label == label)


def _line_result(exercise: Exercise, line: Line, runs: Sequence[Any],
                 epochs: Mapping[int, Sequence[Mapping[str, Any]]]) -> LineResult:
    """One line's final values (one per seed, repeats counted once) and its mean curve."""
    members = [r for r in runs if _same_line(r.config, line)]
    curves = [c for c in (_curve(epochs.get(r.id, []), exercise.metric) for r in one_per_seed(members).kept) if c]
    finals = [c[-1] for c in curves if math.isfinite(c[-1])]
    length = max((len(c) for c in curves), default=0)
    mean = [_mean([c[i] for c in curves if i < len(c)]) for i in range(length)]
    return LineResult(line.label, finals, mean, stats.spread(finals))


def _same_line(config: RunConfig | None, line: Line) -> bool:
    return config is not None and config.replace(seed=0) == line.config.replace(seed=0)


def _curve(epochs: Sequence[Mapping[str, Any]], metric: str) -> list[float]:
    """A metric per epoch (NaN where missing)."""
    return [float(v) if (v := e.get(metric)) is not None else math.nan for e in epochs]


def outcome(exercise: Exercise, runs: Sequence[Any], epochs: Mapping[int, Sequence[Mapping[str, Any]]]) -> Outcome:
    """Results of an exercise's runs (RunRecords with their epochs by run id), grouped by line."""
    results = [_line_result(exercise, line, runs, epochs) for line in exercise.lines]
    sign = 1.0 if exercise.higher_is_better else -1.0
    ranked = sorted((r for r in results if r.finals), key=lambda r: -sign * r.spread.mean)
    if not ranked:
        return Outcome(results, "", None)
    verdict = None
    if len(ranked) > 1:
        verdict = stats.verdict(ranked[0].finals, ranked[1].finals, ranked[0].label, ranked[1].label,
                                percent=exercise.percent)
    return Outcome(results, ranked[0].label, verdict)


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


@dataclass(frozen=True)
class Grade:
    """Whether the prediction was right, and one sentence saying why."""

    right: bool
    text: str


def grade(exercise: Exercise, answer: Mapping[str, Any], result: Outcome) -> Grade:
    """Compare a stored answer with the outcome."""
    if not result.winner:
        return Grade(False, _("No run finished with a result: nothing to compare the prediction with."))
    if exercise.kind is PredictionKind.WINNER:
        return _grade_winner(exercise, answer.get("value"), result)
    target = result.line(exercise.target)
    fmt = _format(exercise)
    if exercise.kind is PredictionKind.NUMBER:
        allowed = max(exercise.tolerance, 2 * target.spread.std)
        error = abs(float(answer.get("value", math.nan)) - target.spread.mean)
        gap = _distance(exercise)
        return Grade(error <= allowed, _("You predicted {guess}; the runs gave {mean} ± {std} (within {allowed} "
                                         "counts as right).").format(
            guess=fmt(answer.get("value")), mean=fmt(target.spread.mean), std=gap(target.spread.std),
            allowed=gap(allowed)))
    guess = [float(v) for v in answer.get("value", [])]
    drawn = [target.curve[e - 1] if e <= len(target.curve) else math.nan for e in exercise.drawn_epochs]
    pairs = [(g, m) for g, m in zip(guess, drawn) if math.isfinite(m)]
    error = sum(abs(g - m) for g, m in pairs) / len(pairs) if pairs else math.inf
    gap = _distance(exercise)
    return Grade(error <= exercise.tolerance, _("Your curve is {error} away from the runs' mean curve on average "
                                                "(within {allowed} counts as right).").format(
        error=gap(error), allowed=gap(exercise.tolerance)))


def _grade_winner(exercise: Exercise, value: Any, result: Outcome) -> Grade:
    """Right: the run that came out ahead; or, when offered, "no real difference" if Welch's test finds none."""
    noise = result.verdict is not None and result.verdict.kind is stats.VerdictKind.NOISE
    if noise:
        text = _("{winner} came out ahead, but within seed noise: the seeds cannot tell the runs apart").format(
            winner=result.winner)
    else:
        text = _("{winner} came out ahead, beyond seed noise").format(winner=result.winner)
    expected = TIE if exercise.tie and noise else exercise.answer_key(result.winner)
    right = exercise.answer_key(value) == expected
    return Grade(right, _("You predicted {guess}; {outcome}.").format(guess=exercise.shown(value), outcome=text))


def answer_text(exercise: Exercise, value: Any) -> str:
    """A stored answer as a student reads it: the run's label, or numbers in % for accuracies."""
    if exercise.kind is PredictionKind.WINNER:
        return exercise.shown(value)
    fmt = _format(exercise)
    try:
        return ", ".join(fmt(float(v)) for v in (value if isinstance(value, list) else [value]))
    except (TypeError, ValueError):
        return str(value)


def _distance(exercise: Exercise) -> Any:
    """A difference between two values of the metric: percentage points for accuracies."""
    if exercise.percent:
        return lambda v: _("{value} points").format(value=decimal(float(v) * 100, 1))
    return lambda v: _significant(float(v))


def _format(exercise: Exercise) -> Any:
    if exercise.percent:
        return lambda v: acc_percent(float(v)) if v is not None else "-"
    return lambda v: _significant(float(v)) if v is not None else "-"


def _significant(value: float) -> str:
    """Three significant digits (Python's ``.3g``) with the language's decimal mark."""
    return localized(f"{value:.3g}")
