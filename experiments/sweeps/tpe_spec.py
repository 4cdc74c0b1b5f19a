"""The ``[tpe]`` table of a sweep spec: the trial budget, the random start-up trials and the pruner.

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

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from experiments.config import MAX_TRIALS, ConfigError, quote

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
        raise ConfigError("method = \"tpe\" needs a [tpe] table with trials = N (the trial budget)")
    unknown = sorted(set(value) - set(TPE_KEYS), key=str)
    if unknown:
        raise ConfigError(f"unknown tpe key {quote(unknown[0])}; known: {', '.join(TPE_KEYS)}")
    trials = _whole(value.get("trials"), "tpe.trials", 1)
    startup = _whole(value.get("startup_trials", min(DEFAULT_STARTUP, trials)), "tpe.startup_trials", 0)
    if trials > MAX_TRIALS:
        raise ConfigError(f"tpe.trials is {trials}; at most {MAX_TRIALS} are allowed")
    if trials < startup:
        raise ConfigError(f"tpe.trials ({trials}) is below tpe.startup_trials ({startup}): TPE would never model "
                          f"the results; raise trials or lower startup_trials")
    word = str(value.get("pruner", Pruner.MEDIAN.value)).strip().lower()
    if word not in {p.value for p in Pruner}:
        raise ConfigError(f"tpe.pruner must be one of {', '.join(p.value for p in Pruner)} "
                          f"(got {quote(value.get('pruner'))})")
    return TpeSettings(trials, startup, Pruner(word))


def _whole(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be a whole number >= {low} (got {quote(value)})")
    return value
