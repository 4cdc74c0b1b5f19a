"""An exercise file (TOML in ``exercises/``), loaded and checked: one line naming the file per problem.

    title = "Learning rate: 0.1 or 0.001?"
    question = "Plain SGD, ... Which learning rate ends with the higher test accuracy?"
    explanation = "Shown after the reveal."
    locked = ["optimizer", "hidden"]     # settings the "try it yourself" link locks
    free = ["lr"]                        # settings the student is invited to change
    seeds = [0, 1, 2]                    # every run is trained once per seed (a seeded group)
    metric = "test_acc"                  # what is compared: an epoch metric
    [base]                               # RunConfig overrides shared by every run
    optimizer = "sgd"
    [[runs]]                             # the runs to compare: a label plus RunConfig overrides
    label = "lr 0.1"
    lr = 0.1
    [prediction]
    kind = "winner"                      # winner | number | curve
    run = "lr 0.1"                       # number and curve: the run whose metric is predicted
    low = 0.0                            # number and curve: the accepted range (metric units)
    high = 1.0
    tolerance = 0.03                     # number and curve: how close counts as right
    points = [1, 5, 10]                  # curve: the epochs the student draws (default: every epoch)
    tie = true                           # winner: "no real difference" is an answer too (judged by Welch)
    [es]                                 # the exercise in Spanish (any offered language, by its code)
    title = "Tasa de aprendizaje: ¿0,1 o 0,001?"
    question = "..."
    explanation = "..."
    labels = { "lr 0.1" = "tasa 0,1" }   # the runs' labels as shown in that language (optional)

A person reads the exercise in the current language (``experiments.i18n``): the language's table where it
has the text, else the English above. The translation lives in the exercise's own file, not in the gettext
catalog: exercises are data a teacher writes (and may keep in a folder of their own, ``$MNIST_LAB_EXERCISES``),
so the Spanish is written and reviewed beside the English with no extraction step. A run's label as written
in ``[[runs]]`` stays its identity (a stored answer names it, so an answer given in one language grades the
same in another); the shown label is the language's.

Every run's config is built (and so validated) on load: an unknown setting or a bad value is refused there.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from experiments import i18n
from experiments.config import ConfigError, RunConfig
from experiments.i18n import N_, _
from experiments.settings.links import MAX_EXERCISE_ID, is_exercise_id, linked_settings
from experiments.settings.parsers import quote
from experiments.text_files import TextFileError, read_text_file

EXERCISES_DIR = Path(__file__).resolve().parents[2] / "exercises"
FOLDER_ENV = "MNIST_LAB_EXERCISES"  # a teacher's own folder of exercises instead of the shipped ones
METRICS = ("test_acc", "test_loss", "train_acc", "train_loss", "val_acc", "val_loss")
REQUIRED = ("title", "question", "explanation", "runs", "prediction")
TRANSLATIONS = tuple(code for code in i18n.LANGUAGES if code != i18n.ENGLISH)  # a table per other language
KNOWN = (*REQUIRED, "locked", "free", "seeds", "metric", "base", *TRANSLATIONS)
TRANSLATED_FIELDS = ("title", "question", "explanation", "labels")
PREDICTION_FIELDS = ("kind", "run", "low", "high", "tolerance", "points", "tie")
TIE = N_("no real difference (within seed noise)")  # the stored answer; shown translated
MAX_SEEDS = 5
MAX_EXERCISE_BYTES = 64 * 1024  # the longest shipped exercise is about 3 KB; anything far larger is not one


class PredictionKind(StrEnum):
    """What the student predicts: which run wins, one number, or a rough curve (one value per epoch)."""

    WINNER = "winner"
    NUMBER = "number"
    CURVE = "curve"


@dataclass(frozen=True)
class Line:
    """One run of the comparison: its label and its settings (seed 0; it is trained once per seed).

    ``label`` is shown (in the language the exercise was loaded in); ``key`` is the label as the file's
    ``[[runs]]`` writes it, the run's identity in stored answers (the same in every language).
    """

    label: str
    config: RunConfig
    key: str = ""

    @property
    def identity(self) -> str:
        return self.key or self.label


@dataclass(frozen=True)
class Exercise:
    """A checked exercise: everything the Exercises page and the judge need."""

    id: str                  # the file name without .toml
    title: str
    question: str
    explanation: str
    lines: tuple[Line, ...]
    kind: PredictionKind
    seeds: tuple[int, ...] = (0, 1, 2)
    metric: str = "test_acc"
    target: str = ""         # number/curve: the label of the predicted run
    low: float = 0.0
    high: float = 1.0
    tolerance: float = 0.03
    points: tuple[int, ...] = ()   # curve: the epochs drawn (every epoch of the target run when empty)
    tie: bool = False              # winner: TIE is offered, right when Welch's test finds no real difference
    locked: tuple[str, ...] = ()
    free: tuple[str, ...] = ()

    @property
    def higher_is_better(self) -> bool:
        return self.metric.endswith("_acc")

    @property
    def percent(self) -> bool:
        return self.metric.endswith("_acc")

    @property
    def choices(self) -> list[str]:
        """A winner prediction's options as shown: the runs' labels (and TIE, translated, when offered)."""
        return [line.label for line in self.lines] + ([_(TIE)] if self.tie else [])

    def answer_key(self, choice: object) -> str | None:
        """The stored form of a winner choice (shown or stored, in any language): a run's identity or TIE."""
        if self.tie and choice in (TIE, _(TIE)):
            return TIE
        return next((line.identity for line in self.lines if choice in (line.label, line.identity)), None)

    def shown(self, key: object) -> str:
        """A stored winner answer as shown in the current language (itself if it names nothing known)."""
        if key == TIE:
            return _(TIE)
        return next((line.label for line in self.lines if key in (line.identity, line.label)), str(key))

    @property
    def drawn_epochs(self) -> tuple[int, ...]:
        """A curve prediction's epochs (1-based)."""
        return self.points or tuple(range(1, self.line(self.target).config.epochs + 1))

    def line(self, label: str) -> Line:
        return next(line for line in self.lines if line.label == label)

    def configs(self) -> list[RunConfig]:
        """Every run to queue: each line once per seed."""
        return [line.config.replace(seed=seed) for line in self.lines for seed in self.seeds]


class ExerciseError(ConfigError):
    """A bad exercise file; the message names the file."""


def load_exercise(path: Path) -> Exercise:
    """Read and check one exercise file; ExerciseError (one line, naming the file) if anything is wrong."""
    try:
        data = tomllib.loads(read_text_file(path, MAX_EXERCISE_BYTES))
        return _exercise(path.stem, data)
    except TextFileError as exc:
        raise ExerciseError(_("{file}: {reason}").format(file=path.name, reason=exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseError(_("{file}: not valid TOML ({reason})").format(file=path.name, reason=exc)) from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise ExerciseError(_("{file}: nested too deeply to be an exercise").format(file=path.name)) from None
    except ConfigError as exc:
        raise ExerciseError(f"{path.name}: {exc}") from None


def exercises_dir() -> Path:
    """The exercises folder: $MNIST_LAB_EXERCISES, else the shipped exercises/."""
    return Path(os.environ.get(FOLDER_ENV) or EXERCISES_DIR)


def load_all(folder: Path | None = None) -> tuple[list[Exercise], list[str]]:
    """Every exercise of the folder (default ``exercises_dir()``, sorted by file name) and one error line per
    bad file."""
    folder = folder or exercises_dir()
    found, errors = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            found.append(load_exercise(path))
        except ExerciseError as exc:
            errors.append(str(exc))
    return found, errors


def _exercise(ident: str, data: dict[str, Any]) -> Exercise:
    if not is_exercise_id(ident):
        raise ConfigError(_("the file name must be letters, digits, '_' or '-', at most {n} characters").format(
            n=MAX_EXERCISE_ID))
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(_("missing field {name} (an exercise needs {fields})").format(
            name=quote(missing[0]), fields=", ".join(REQUIRED)))
    unknown = sorted(set(data) - set(KNOWN))
    if unknown:
        raise ConfigError(_("unknown field {name}; known fields: {fields}").format(
            name=quote(unknown[0]), fields=", ".join(KNOWN)))
    texts = {k: _text(data, k) for k in ("title", "question", "explanation")}
    base = _table(data.get("base", {}), "base")
    lines = tuple(_line(i, entry, base) for i, entry in enumerate(_list(data["runs"], "runs")))
    if len({line.label for line in lines}) < len(lines):
        raise ConfigError(_("two runs have the same label"))
    lines = _in_language(data, texts, lines)
    metric = str(data.get("metric", "test_acc"))
    if metric not in METRICS:
        raise ConfigError(_("metric must be one of {metrics} (got {value})").format(
            metrics=", ".join(METRICS), value=quote(metric)))
    prediction = _table(data["prediction"], "prediction")
    kind, target, numbers = _prediction(prediction, lines)
    target = next((line.label for line in lines if line.identity == target), target)
    return Exercise(ident, texts["title"], texts["question"], texts["explanation"], lines=lines, kind=kind,
                    seeds=_seeds(data.get("seeds", [0, 1, 2])), metric=metric, target=target,
                    low=numbers.get("low", 0.0), high=numbers.get("high", 1.0),
                    tolerance=numbers.get("tolerance", 0.03), points=_points(prediction, lines, target),
                    tie=_tie(prediction, kind),
                    locked=_names(data.get("locked", []), "locked"), free=_names(data.get("free", []), "free"))


def _text(data: dict[str, Any], key: str, where: str = "") -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(_("{field} must be non-empty text").format(field=where + key))
    return value.strip()


def _in_language(data: dict[str, Any], texts: dict[str, str], lines: tuple[Line, ...]) -> tuple[Line, ...]:
    """Every language's table is checked; the current language's texts replace the English ones in ``texts``,
    and its labels are shown (each line keeps its file label as its identity)."""
    translations = {code: _translation(data, code, lines) for code in TRANSLATIONS}
    chosen = translations.get(i18n.language(), {})
    texts.update({k: v for k, v in chosen.items() if k in texts})
    shown = chosen.get("labels", {})
    return tuple(Line(shown.get(line.label, line.label), line.config, line.label) for line in lines)


def _translation(data: dict[str, Any], code: str, lines: tuple[Line, ...]) -> dict[str, Any]:
    """The exercise's table for language ``code`` (title, question, explanation, labels), checked; {} if none."""
    if code not in data:
        return {}
    table = data[code]
    if not isinstance(table, dict):
        raise ConfigError(_("{code} must be a table of translated texts").format(code=code))
    unknown = sorted(set(table) - set(TRANSLATED_FIELDS))
    if unknown:
        raise ConfigError(_("unknown field {code}.{name}; known: {fields}").format(
            code=code, name=unknown[0], fields=", ".join(TRANSLATED_FIELDS)))
    found: dict[str, Any] = {k: _text(table, k, f"{code}.") for k in ("title", "question", "explanation")
                             if k in table}
    found["labels"] = _translated_labels(table.get("labels", {}), code, lines)
    return found


def _translated_labels(labels: Any, code: str, lines: tuple[Line, ...]) -> dict[str, str]:
    """A language's ``labels`` table (run label -> shown label), checked."""
    if not isinstance(labels, dict) or not all(isinstance(v, str) and v.strip() for v in labels.values()):
        raise ConfigError(_("{code}.labels must map run labels to non-empty text").format(code=code))
    strange = [k for k in labels if k not in {line.label for line in lines}]
    if strange:
        raise ConfigError(_("{code}.labels names no run {label}").format(code=code, label=quote(strange[0])))
    if len(set(labels.values())) < len(labels):
        raise ConfigError(_("two runs have the same label"))
    return {k: v.strip() for k, v in labels.items()}


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(_("{field} must be a table of settings").format(field=key))
    return dict(value)


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ConfigError(_("{field} must be a non-empty list").format(field=key))
    return value


def _line(index: int, entry: Any, base: dict[str, Any]) -> Line:
    settings = _table(entry, f"runs[{index}]")
    label = settings.pop("label", None)
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(_("runs[{index}] needs a label").format(index=index))
    if "seed" in settings or "seed" in base:
        raise ConfigError(_("seeds are given by the exercise's seeds list, not as a setting"))
    try:
        return Line(label.strip(), RunConfig.from_dict({**base, **settings}))
    except ConfigError as exc:
        raise ConfigError(_("run {label}: {reason}").format(label=quote(label), reason=exc)) from None


def _prediction(table: dict[str, Any], lines: tuple[Line, ...]) -> tuple[PredictionKind, str, dict[str, float]]:
    unknown = sorted(set(table) - set(PREDICTION_FIELDS))
    if unknown:
        raise ConfigError(_("unknown field prediction.{name}; known: {fields}").format(
            name=unknown[0], fields=", ".join(PREDICTION_FIELDS)))
    try:
        kind = PredictionKind(str(table.get("kind")))
    except ValueError:
        raise ConfigError(_("prediction.kind must be one of {kinds} (got {value})").format(
            kinds=", ".join(PredictionKind), value=quote(table.get("kind")))) from None
    if kind is PredictionKind.WINNER:
        if len(lines) < 2:
            raise ConfigError(_("a 'winner' prediction needs at least two runs"))
        return kind, "", {}
    target = table.get("run", lines[0].identity)
    if target not in {line.identity for line in lines}:
        raise ConfigError(_("prediction.run {label} is not the label of a run").format(label=quote(target)))
    numbers = {k: table.get(k, default) for k, default in (("low", 0.0), ("high", 1.0), ("tolerance", 0.03))}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers.values()):
        raise ConfigError(_("prediction.low, high and tolerance must be numbers"))
    if not numbers["low"] < numbers["high"] or numbers["tolerance"] <= 0:
        raise ConfigError(_("prediction needs low < high and a tolerance > 0"))
    return kind, str(target), {k: float(v) for k, v in numbers.items()}


def _points(table: dict[str, Any], lines: tuple[Line, ...], target: str) -> tuple[int, ...]:
    if "points" not in table:
        return ()
    points, epochs = table["points"], next(line.config.epochs for line in lines if line.label == target)
    ok = isinstance(points, list) and points and all(isinstance(p, int) and not isinstance(p, bool) for p in points)
    if not ok or points != sorted(set(points)) or not 1 <= points[0] <= points[-1] <= epochs:
        raise ConfigError(_("prediction.points must be increasing epochs from 1 to {epochs}").format(epochs=epochs))
    return tuple(points)


def _tie(table: dict[str, Any], kind: PredictionKind) -> bool:
    tie = table.get("tie", False)
    if not isinstance(tie, bool) or (tie and kind is not PredictionKind.WINNER):
        raise ConfigError(_("prediction.tie must be true or false, and only for a 'winner' prediction"))
    return tie


def _seeds(value: Any) -> tuple[int, ...]:
    seeds = _list(value, "seeds")
    whole = all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    if not whole or len(set(seeds)) < len(seeds):
        raise ConfigError(_("seeds must be distinct whole numbers >= 0"))
    if len(seeds) > MAX_SEEDS:
        raise ConfigError(_("at most {n} seeds (got {count})").format(n=MAX_SEEDS, count=len(seeds)))
    return tuple(seeds)


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ConfigError(_("{field} must be a list of setting names").format(field=key))
    unknown = [n for n in value if n not in linked_settings()]
    if unknown:
        raise ConfigError(_("{field} names an unknown setting {name}; known: {names}").format(
            field=key, name=quote(unknown[0]), names=", ".join(linked_settings())))
    return tuple(value)
