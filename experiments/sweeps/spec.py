"""Sweep specs: a grid and/or random search over RunConfig settings, expanded into validated trials.

Pure: no store, no training. A spec is TOML or JSON, e.g.::

    {"name": "lr x batch", "base": {"epochs": 5, "train_size": 10000},
     "grid": {"lr": [0.1, 0.01], "batch_size": [32, 128]},
     "random": {"samples": 4, "l2": {"log_uniform": [1e-5, 1e-2]}, "hidden": {"choice": ["64", "128,64"]}},
     "seed": 0, "engine": "local"}

Trials are every grid point times ``samples`` random draws (one of either if the other is absent). The
draws depend only on ``seed``, so a spec always expands to the same trials. Every trial is validated by
RunConfig before anything is stored or started; a bad spec is refused with one line naming trial and field.

The ``[tpe]`` table of a sweep spec: the trial budget, the random start-up trials and the pruner.

``method = "tpe"`` turns a spec's grid lists and random distributions into a search space for Optuna's TPE
sampler (``experiments.sweeps.tpe``) instead of a list of trials, e.g.::

    method = "tpe"
    [base]
    epochs = 5
    [random]
    lr = { log_uniform = [1e-4, 1e-1] }
    [grid]
    batch_size = [32, 64, 128]
    [tpe]
    trials = 24            # the budget: trials started in all
    startup_trials = 8     # drawn at random before TPE models the results (Optuna's n_startup_trials)
    pruner = "median"      # median, hyperband or none: stop weak trials after an epoch

Pure parsing: a bad table is refused with one line that says what to change.
"""
from __future__ import annotations

import itertools
import json
import math
import random
import secrets
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from experiments.config import MAX_TRIALS, ConfigError, RunConfig, quote, schema, short_label
from experiments.i18n import _
from experiments.store.records import hidden_characters
from experiments.text_files import TextFileError, read_text_file

MAX_SPEC_BYTES = 1 << 20  # a spec is a few lines; a megabyte is far beyond any real one
MAX_NESTING = 8  # a spec's deepest value is a list of hidden-layer lists inside grid: 4 levels
ENGINES = ("local", "ray")
DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int_uniform")
SETTINGS = tuple(entry.name for entry in schema())
SPEC_KEYS = ("name", "base", "grid", "random", "seed", "engine", "method", "tpe")
METHODS = ("grid", "random", "tpe")
TAG_PREFIX = "sweep:"


# ---------------------------------------------------------------------- the [tpe] table
TPE_KEYS = ("trials", "startup_trials", "pruner")
DEFAULT_STARTUP = 8


class Pruner(StrEnum):
    """How a TPE sweep ends weak trials early, judged per epoch on validation accuracy."""

    MEDIAN = "median"          # below the median of earlier trials at the same epoch
    HYPERBAND = "hyperband"    # successive halving over several brackets
    NONE = "none"


@dataclass(frozen=True)
class TpeSettings:
    trials: int
    startup_trials: int = DEFAULT_STARTUP
    pruner: Pruner = Pruner.MEDIAN


def parse_tpe(value: Any) -> TpeSettings:
    """The ``[tpe]`` table; ConfigError (one line) for a missing budget, a budget below the start-up trials,
    an unknown pruner or an unknown key."""
    if not isinstance(value, Mapping):
        raise ConfigError(_("method = \"tpe\" needs a [tpe] table with trials = N (the trial budget)"))
    unknown = sorted(set(value) - set(TPE_KEYS), key=str)
    if unknown:
        raise ConfigError(_("unknown tpe key {key}; known: {known}").format(key=quote(unknown[0]),
                                                                           known=", ".join(TPE_KEYS)))
    trials = _whole(value.get("trials"), "tpe.trials", 1)
    startup = _whole(value.get("startup_trials", min(DEFAULT_STARTUP, trials)), "tpe.startup_trials", 0)
    if trials > MAX_TRIALS:
        raise ConfigError(_("tpe.trials is {trials}; at most {most} are allowed").format(trials=trials,
                                                                                        most=MAX_TRIALS))
    if trials < startup:
        raise ConfigError(_("tpe.trials ({trials}) is below tpe.startup_trials ({startup}): TPE would never model "
                            "the results; raise trials or lower startup_trials").format(trials=trials, startup=startup))
    word = str(value.get("pruner", Pruner.MEDIAN.value)).strip().lower()
    if word not in {p.value for p in Pruner}:
        raise ConfigError(_("tpe.pruner must be one of {choices} (got {value})").format(
            choices=", ".join(p.value for p in Pruner), value=quote(value.get("pruner"))))
    return TpeSettings(trials, startup, Pruner(word))


def _whole(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(_("{name} must be a whole number >= {low} (got {value})").format(
            name=name, low=low, value=quote(value)))
    return value


# ---------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Trial:
    """One point of a sweep: its index, its validated config and the settings the sweep chose for it."""

    index: int
    config: RunConfig
    params: dict[str, Any]

    def label(self) -> str:
        return short_label(self.config, list(self.params)) if self.params else self.config.architecture


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: fixed settings, grid values, random distributions, sample count, seed and engine."""

    name: str = "sweep"
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    random: dict[str, dict[str, list]] = field(default_factory=dict)
    samples: int = 0
    seed: int = 0
    engine: str = "local"
    method: str = "grid"               # grid and random expand into trials; tpe searches (see the [tpe] table above)
    tpe: TpeSettings | None = None

    @property
    def is_tpe(self) -> bool:
        return self.method == "tpe"

    @property
    def size(self) -> int:
        """Trials the sweep starts (TPE: its budget)."""
        if self.tpe is not None:
            return self.tpe.trials
        points = math.prod(len(v) for v in self.grid.values()) if self.grid else 1
        return points * (self.samples if self.random else 1)


def parse_spec(data: Mapping[str, Any]) -> SweepSpec:
    """A SweepSpec from a parsed mapping; structural problems raise ConfigError (trials not yet checked)."""
    if not isinstance(data, Mapping):
        raise ConfigError(_("a sweep spec must be a mapping, got {type}").format(type=type(data).__name__))
    _check_keys(data)
    base = _settings_table(data.get("base", {}), "base")
    grid = _grid(data.get("grid", {}))
    rand = dict(_settings_table(data.get("random", {}), "random", extra=("samples",)))
    method = _method(data.get("method"), data)
    samples = _samples(rand.pop("samples", None), rand, method)
    both = sorted(set(grid) & set(rand))
    if both:
        raise ConfigError(_("{setting} is in both grid and random: choose one").format(setting=quote(both[0])))
    for key, dist in rand.items():
        _check_distribution(key, dist)
    if not grid and not rand:
        raise ConfigError(_("a sweep needs a grid or a random section with at least one setting"))
    spec = SweepSpec(_name(data.get("name")), dict(base), grid, {k: dict(v) for k, v in rand.items()}, samples,
                     _seed(data.get("seed", 0)), _engine(data.get("engine", "local")), method,
                     parse_tpe(data.get("tpe")) if method == "tpe" else None)
    if spec.size > MAX_TRIALS:
        raise ConfigError(_("the sweep has {n} trials; at most {most} are allowed").format(n=spec.size,
                                                                                          most=MAX_TRIALS))
    return spec


def _check_keys(data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - set(SPEC_KEYS), key=str)
    if unknown:
        raise ConfigError(_("unknown sweep key {key}; known: {known}").format(key=quote(unknown[0]),
                                                                             known=", ".join(sorted(SPEC_KEYS))))


def _method(value: Any, data: Mapping[str, Any]) -> str:
    """grid (the default), random or tpe; a [tpe] table belongs to method = "tpe" only."""
    method = "grid" if value is None else str(value).strip().lower()
    if method not in METHODS:
        raise ConfigError(_("method must be one of {choices} (got {value})").format(choices=", ".join(METHODS),
                                                                                   value=quote(value)))
    if method != "tpe" and "tpe" in data:
        raise ConfigError(_('a [tpe] table needs method = "tpe"'))
    return method


def _name(value: Any) -> str:
    """The sweep's name (its runs' names and tag start with it): one line, no characters that hide what it
    says, as run names."""
    name = str(value or "sweep").strip()[:100] or "sweep"
    hidden = hidden_characters(name)
    if hidden:
        raise ConfigError(_("the sweep's name holds invisible control characters ({characters}): remove them").format(
            characters=", ".join(hidden[:5])))
    return name


def _engine(value: Any) -> str:
    engine = str(value).strip().lower()
    if engine not in ENGINES:
        raise ConfigError(_("engine must be one of {choices} (got {value})").format(choices=", ".join(ENGINES),
                                                                                   value=quote(value)))
    return engine


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(_("seed must be a whole number >= 0 (got {value})").format(value=quote(value)))
    return value


def _settings_table(value: Any, section: str, extra: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """A spec section whose keys are RunConfig settings (plus ``extra``); unknown keys are refused."""
    table = _mapping(value, section)
    for key in table:
        if key not in SETTINGS and key not in extra:
            raise ConfigError(_("{section}: unknown setting {key}; known settings: {known}").format(
                section=section, key=quote(key), known=", ".join(SETTINGS)))
    return table


def _grid(value: Any) -> dict[str, list]:
    grid = _settings_table(value, "grid")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(_("grid.{key} must be a non-empty list of values (got {value})").format(
                key=key, value=quote(values)))
    return {k: list(v) for k, v in grid.items()}


def _samples(value: Any, rand: Mapping[str, Any], method: str = "grid") -> int:
    """``random.samples``: required (>= 1) when there are random settings, 0 otherwise; TPE draws its own
    (its budget is ``tpe.trials``)."""
    if method == "tpe":
        if value is not None:
            raise ConfigError(_("random.samples does not apply to method = \"tpe\": set the budget with tpe.trials"))
        return 0
    if not rand and value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(_("random.samples must be a whole number >= 1 (got {value})").format(value=quote(value)))
    return value


def load_spec(path: str | Path) -> SweepSpec:
    """Read a spec file: TOML if it ends in .toml, else JSON."""
    path = Path(path)
    try:
        text = read_text_file(path, MAX_SPEC_BYTES)
    except TextFileError as exc:
        raise ConfigError(_("the sweep spec {path}: {reason}").format(path=path, reason=exc)) from None
    return parse_text(text, "toml" if path.suffix.lower() == ".toml" else "json")


def parse_text(text: str, fmt: str = "json") -> SweepSpec:
    """A spec from TOML or JSON text."""
    if len(text) > MAX_SPEC_BYTES:
        raise ConfigError(_("the sweep spec is too long ({n} characters; at most {most})").format(
            n=f"{len(text):,}", most=f"{MAX_SPEC_BYTES:,}"))
    too_deep = ConfigError(_("the sweep spec is nested too deeply (more than {most} levels of lists or tables; a "
                             "spec needs 4)").format(most=MAX_NESTING))
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(_("the sweep spec is not valid {format} ({reason})").format(format=fmt.upper(),
                                                                                     reason=exc)) from None
    except RecursionError:  # both parsers read nested lists and tables recursively
        raise too_deep from None
    if _nesting(data) > MAX_NESTING:
        raise too_deep
    return parse_spec(data)


def _nesting(value: Any) -> int:
    """How many lists and tables deep ``value`` goes (0 for a plain value), without recursion, stopping one
    level past ``MAX_NESTING``."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, depth = level.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        level.extend((child, depth + 1) for child in children)
    return deepest


def expand(spec: SweepSpec) -> list[Trial]:
    """Every trial of the spec, each config validated; the same spec always gives the same trials.

    A TPE spec has no trial list (its trials are chosen as results come in): see ``sweeps.tpe.check_space``.
    """
    if spec.is_tpe:
        raise ConfigError(_("a TPE sweep chooses its trials as it runs; it has no fixed list of trials"))
    try:
        base = RunConfig.from_dict(spec.base)
    except ConfigError as exc:
        raise ConfigError(_("base: {reason}").format(reason=exc)) from None
    rng = random.Random(spec.seed)
    points = [dict(zip(spec.grid, values)) for values in itertools.product(*spec.grid.values())]
    trials: list[Trial] = []
    for point in points:
        for _sample in range(spec.samples if spec.random else 1):
            params = {**point, **{k: _draw(rng, d) for k, d in spec.random.items()}}
            index = len(trials)
            try:
                config = base.replace(**params)
            except ConfigError as exc:
                shown = ", ".join(f"{k}={quote(v)}" for k, v in params.items())
                raise ConfigError(_("trial {index} ({settings}): {reason}").format(index=index, settings=shown,
                                                                                  reason=exc)) from None
            trials.append(Trial(index, config, params))
    return trials


def new_sweep_id() -> str:
    """A short unique id: it names the sweep's run group and its tag ``sweep:<id>``."""
    return f"sw-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def run_name(spec: SweepSpec, trial: Trial) -> str:
    return f"{spec.name} #{trial.index}: {trial.label()}"[:200]


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(_("{name} must be a table of settings (got {type})").format(name=name,
                                                                                     type=type(value).__name__))
    return value


def _check_distribution(key: str, dist: Any) -> None:
    """``random.KEY`` is ``{kind = [args]}`` with a known kind and arguments that kind can draw from."""
    if not isinstance(dist, Mapping) or len(dist) != 1 or next(iter(dist)) not in DISTRIBUTIONS:
        raise ConfigError(_("random.{key} must be one of {choices} (got {value})").format(
            key=key, choices="{" + ", ".join(f"{d} = [...]" for d in DISTRIBUTIONS) + "}", value=quote(dist)))
    kind, args = next(iter(dist.items()))
    if not isinstance(args, list) or not args:
        raise ConfigError(_("random.{key}.{kind} needs a list (got {value})").format(key=key, kind=kind,
                                                                                    value=quote(args)))
    if kind != "choice":
        _check_bounds(f"random.{key}.{kind}", kind, args)


def _check_bounds(where: str, kind: str, args: list) -> None:
    """[low, high] of a uniform, log_uniform or int_uniform distribution."""
    numbers = len(args) == 2 and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)
    if not numbers or not args[0] <= args[1]:
        raise ConfigError(_("{where} needs [low, high] numbers with low <= high (got {value})").format(
            where=where, value=quote(args)))
    if kind == "log_uniform" and args[0] <= 0:
        raise ConfigError(_("{where} needs low > 0 (got {value})").format(where=where, value=quote(args[0])))
    if kind == "int_uniform" and not all(float(a).is_integer() for a in args):
        raise ConfigError(_("{where} needs whole-number bounds (got {value})").format(where=where, value=quote(args)))


def _draw(rng: random.Random, dist: Mapping[str, list]) -> Any:
    kind, args = next(iter(dist.items()))
    if kind == "choice":
        return args[rng.randrange(len(args))]
    if kind == "uniform":
        return rng.uniform(args[0], args[1])
    if kind == "int_uniform":
        return rng.randint(int(args[0]), int(args[1]))
    return math.exp(rng.uniform(math.log(args[0]), math.log(args[1])))
