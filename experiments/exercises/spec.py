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

Every run's config is built (and so validated) on load: an unknown setting or a bad value is refused there.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from experiments.config import ConfigError, RunConfig
from experiments.settings.links import MAX_EXERCISE_ID, is_exercise_id, linked_settings
from experiments.settings.parsers import quote
from experiments.text_files import TextFileError, read_text_file

EXERCISES_DIR = Path(__file__).resolve().parents[2] / "exercises"
FOLDER_ENV = "MNIST_LAB_EXERCISES"  # a teacher's own folder of exercises instead of the shipped ones
METRICS = ("test_acc", "test_loss", "train_acc", "train_loss", "val_acc", "val_loss")
REQUIRED = ("title", "question", "explanation", "runs", "prediction")
KNOWN = (*REQUIRED, "locked", "free", "seeds", "metric", "base")
PREDICTION_FIELDS = ("kind", "run", "low", "high", "tolerance", "points", "tie")
TIE = "no real difference (within seed noise)"
MAX_SEEDS = 5
MAX_EXERCISE_BYTES = 64 * 1024  # the longest shipped exercise is about 3 KB; anything far larger is not one


class PredictionKind(StrEnum):
    """What the student predicts: which run wins, one number, or a rough curve (one value per epoch)."""

    WINNER = "winner"
    NUMBER = "number"
    CURVE = "curve"


@dataclass(frozen=True)
class Line:
    """One run of the comparison: its label and its settings (seed 0; it is trained once per seed)."""

    label: str
    config: RunConfig


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
        """A winner prediction's options: the runs' labels (and TIE when offered)."""
        return [line.label for line in self.lines] + ([TIE] if self.tie else [])

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
        raise ExerciseError(f"{path.name}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseError(f"{path.name}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise ExerciseError(f"{path.name}: nested too deeply to be an exercise") from None
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
        raise ConfigError(f"the file name must be letters, digits, '_' or '-', at most {MAX_EXERCISE_ID} characters")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"missing field {quote(missing[0])} (an exercise needs {', '.join(REQUIRED)})")
    unknown = sorted(set(data) - set(KNOWN))
    if unknown:
        raise ConfigError(f"unknown field {quote(unknown[0])}; known fields: {', '.join(KNOWN)}")
    texts = {k: _text(data, k) for k in ("title", "question", "explanation")}
    base = _table(data.get("base", {}), "base")
    lines = tuple(_line(i, entry, base) for i, entry in enumerate(_list(data["runs"], "runs")))
    if len({line.label for line in lines}) < len(lines):
        raise ConfigError("two runs have the same label")
    metric = str(data.get("metric", "test_acc"))
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)} (got {quote(metric)})")
    prediction = _table(data["prediction"], "prediction")
    kind, target, numbers = _prediction(prediction, lines)
    return Exercise(ident, texts["title"], texts["question"], texts["explanation"], lines=lines, kind=kind,
                    seeds=_seeds(data.get("seeds", [0, 1, 2])), metric=metric, target=target,
                    low=numbers.get("low", 0.0), high=numbers.get("high", 1.0),
                    tolerance=numbers.get("tolerance", 0.03), points=_points(prediction, lines, target),
                    tie=_tie(prediction, kind),
                    locked=_names(data.get("locked", []), "locked"), free=_names(data.get("free", []), "free"))


def _text(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be non-empty text")
    return value.strip()


def _table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a table of settings")
    return dict(value)


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{key} must be a non-empty list")
    return value


def _line(index: int, entry: Any, base: dict[str, Any]) -> Line:
    settings = _table(entry, f"runs[{index}]")
    label = settings.pop("label", None)
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f"runs[{index}] needs a label")
    if "seed" in settings or "seed" in base:
        raise ConfigError("seeds are given by the exercise's seeds list, not as a setting")
    try:
        return Line(label.strip(), RunConfig.from_dict({**base, **settings}))
    except ConfigError as exc:
        raise ConfigError(f"run {quote(label)}: {exc}") from None


def _prediction(table: dict[str, Any], lines: tuple[Line, ...]) -> tuple[PredictionKind, str, dict[str, float]]:
    unknown = sorted(set(table) - set(PREDICTION_FIELDS))
    if unknown:
        raise ConfigError(f"unknown field prediction.{unknown[0]}; known: {', '.join(PREDICTION_FIELDS)}")
    try:
        kind = PredictionKind(str(table.get("kind")))
    except ValueError:
        raise ConfigError(f"prediction.kind must be one of {', '.join(PredictionKind)} "
                          f"(got {quote(table.get('kind'))})") from None
    if kind is PredictionKind.WINNER:
        if len(lines) < 2:
            raise ConfigError("a 'winner' prediction needs at least two runs")
        return kind, "", {}
    target = table.get("run", lines[0].label)
    if target not in {line.label for line in lines}:
        raise ConfigError(f"prediction.run {quote(target)} is not the label of a run")
    numbers = {k: table.get(k, default) for k, default in (("low", 0.0), ("high", 1.0), ("tolerance", 0.03))}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers.values()):
        raise ConfigError("prediction.low, high and tolerance must be numbers")
    if not numbers["low"] < numbers["high"] or numbers["tolerance"] <= 0:
        raise ConfigError("prediction needs low < high and a tolerance > 0")
    return kind, str(target), {k: float(v) for k, v in numbers.items()}


def _points(table: dict[str, Any], lines: tuple[Line, ...], target: str) -> tuple[int, ...]:
    if "points" not in table:
        return ()
    points, epochs = table["points"], next(line.config.epochs for line in lines if line.label == target)
    ok = isinstance(points, list) and points and all(isinstance(p, int) and not isinstance(p, bool) for p in points)
    if not ok or points != sorted(set(points)) or not 1 <= points[0] <= points[-1] <= epochs:
        raise ConfigError(f"prediction.points must be increasing epochs from 1 to {epochs}")
    return tuple(points)


def _tie(table: dict[str, Any], kind: PredictionKind) -> bool:
    tie = table.get("tie", False)
    if not isinstance(tie, bool) or (tie and kind is not PredictionKind.WINNER):
        raise ConfigError("prediction.tie must be true or false, and only for a 'winner' prediction")
    return tie


def _seeds(value: Any) -> tuple[int, ...]:
    seeds = _list(value, "seeds")
    whole = all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    if not whole or len(set(seeds)) < len(seeds):
        raise ConfigError("seeds must be distinct whole numbers >= 0")
    if len(seeds) > MAX_SEEDS:
        raise ConfigError(f"at most {MAX_SEEDS} seeds (got {len(seeds)})")
    return tuple(seeds)


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ConfigError(f"{key} must be a list of setting names")
    unknown = [n for n in value if n not in linked_settings()]
    if unknown:
        raise ConfigError(f"{key} names an unknown setting {quote(unknown[0])}; known: {', '.join(linked_settings())}")
    return tuple(value)
