"""Which setting mattered: Optuna's PED-ANOVA importance on trials rebuilt from stored runs, and its noise floor.

Why PED-ANOVA (``optuna.importance.PedAnovaImportanceEvaluator``): it is Optuna's default evaluator and needs
no model fit (fANOVA and mean-decrease-impurity need scikit-learn's random forest, which a 20-run history
cannot fit reliably). It asks how differently a setting is distributed among the top runs than among all
runs (a Pearson divergence between Parzen estimates), so it works on a few dozen runs, on categorical and
log-scale settings alike, and with seed replicates as repeated trials. The importances are kept
unnormalised: normalised shares always sum to 1, so "every setting is noise" would look like "each matters
a third".

The noise floor asks what the same computation gives when only the seed differs. From the seed replicates
in the selection (configs run with two or more seeds) each run's deviation from its config's mean is
taken, rescaled by sqrt(n / (n - 1)) for the degree of freedom the mean used; a null history keeps every
run's settings but gives it the overall mean plus a deviation drawn at random from that pool. Each setting's
floor is the importance it reaches in that null in all but 5% / k of ``shuffles`` null histories (k settings:
Bonferroni's share, so that "above the floor" stays rare by chance even though k settings are looked at;
per setting, because a two-valued setting and a five-valued one spread differently under noise). Without
replicates there is no floor, and the result says so.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.analysis.axes import Axis, AxisKind, axis_for
from experiments.analysis.selection import Selection, setting_values

FAMILY_ALPHA = 0.05
MAX_CATEGORIES = 8  # settings with at most this many distinct values are compared value by value
TOP_RUNS = 8  # about this many runs count as "top" (PED-ANOVA's target quantile), between 10% and 50%
SHUFFLES = 200
METHOD = "PED-ANOVA (Optuna), unnormalised; noise floor from seed replicates"


@dataclass(frozen=True)
class SettingImportance:
    setting: str
    importance: float
    above_floor: bool | None  # None: no floor to compare with


@dataclass(frozen=True)
class ImportanceResult:
    """Settings ranked by importance, the noise floor (None without replicates) and what it rests on."""

    ranking: list[SettingImportance]
    floors: dict[str, float] | None     # per setting; None without replicates
    replicated_configs: int      # configs with at least two seeds
    target_quantile: float
    note: str = ""

    @property
    def method(self) -> str:
        return METHOD


def target_quantile(n: int) -> float:
    """The share of runs PED-ANOVA treats as "top": about TOP_RUNS runs, between 10% and 50%.

    Enough top runs keep the importance from moving in coarse steps (with five, a two-valued setting has only
    three possible splits, and chance alone reaches the highest one too often to leave room above it).
    """
    return min(0.5, max(0.1, TOP_RUNS / max(n, 1)))


def importance(selection: Selection, shuffles: int = SHUFFLES, seed: int = 0) -> ImportanceResult:
    """PED-ANOVA importance of each varying setting for the selection's metric, beside the noise floor."""
    axes = [axis_for(name, setting_values(selection, name)) for name in selection.settings]
    values = np.asarray(selection.values, dtype=float)
    quantile = target_quantile(len(values))
    scores = ped_anova(axes, values, quantile)
    residuals, replicated = seed_residuals(selection)
    floors = None
    note = ""
    if residuals.size:
        floors = noise_floors(axes, values, residuals, quantile, shuffles, seed)
    else:
        note = ("no seed replicates in this selection (no configuration was run with two or more seeds), so "
                "there is no noise floor: queue replicates to see how much of this is seed noise")
    ranking = [SettingImportance(name, scores[name], None if floors is None else scores[name] > floors[name] + 1e-9)
               for name in sorted(scores, key=lambda k: -scores[k])]
    return ImportanceResult(ranking, floors, replicated, quantile, note)


def ped_anova(axes: Sequence[Axis], values: np.ndarray, quantile: float) -> dict[str, float]:
    """Unnormalised PED-ANOVA importance per setting (higher: the top runs concentrate on some values)."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

    distributions = {a.name: _distribution(a) for a in axes}
    trials = [optuna.trial.create_trial(params={a.name: _param(a, i) for a in axes}, distributions=distributions,
                                        value=float(v)) for i, v in enumerate(values)]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize")
    study.add_trials(trials)
    evaluator = PedAnovaImportanceEvaluator(target_quantile=quantile, region_quantile=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "few trials in a regime": expected with a handful of runs
        scores = get_param_importances(study, evaluator=evaluator, normalize=False)
    return {a.name: float(scores.get(a.name, 0.0)) for a in axes}


def seed_residuals(selection: Selection) -> tuple[np.ndarray, int]:
    """Deviations of runs from their config's mean, rescaled; and how many configs had two or more seeds."""
    from experiments.analysis.seeds import one_per_seed

    once = {id(r) for r in one_per_seed(selection.runs).kept}
    groups: dict[str, list[float]] = {}
    for run, value in zip(selection.runs, selection.values):
        if id(run) in once and run.config is not None:
            groups.setdefault(run.config.replace(seed=0).to_json(), []).append(value)
    residuals: list[float] = []
    replicated = 0
    for group in groups.values():
        if len(group) >= 2:
            replicated += 1
            mean, scale = float(np.mean(group)), math.sqrt(len(group) / (len(group) - 1))
            residuals += [(v - mean) * scale for v in group]
    return np.asarray(residuals, dtype=float), replicated


def noise_floors(axes: Sequence[Axis], values: np.ndarray, residuals: np.ndarray, quantile: float,
                 shuffles: int, seed: int) -> dict[str, float]:
    """Each setting's importance in null histories where only seed noise varies, at 1 - FAMILY_ALPHA / k."""
    rng = np.random.default_rng(seed)
    center = float(values.mean())
    nulls: dict[str, list[float]] = {a.name: [] for a in axes}
    for _ in range(shuffles):
        null = center + rng.choice(residuals, size=len(values), replace=True)
        for name, score in ped_anova(axes, null, quantile).items():
            nulls[name].append(score)
    level = 1 - FAMILY_ALPHA / max(len(axes), 1)
    return {name: float(np.quantile(scores, level, method="higher")) for name, scores in nulls.items()}


def _as_categories(axis: Axis) -> bool:
    """A setting with few distinct values (a grid's) is compared value by value; many values (random or TPE
    draws) go on its numeric axis. On a 50-step grid, two numeric values far apart give peaky Parzen
    estimates whose chance divergences dwarf a categorical setting's, and the ranking would follow the
    encoding rather than the data."""
    return axis.kind is AxisKind.CATEGORICAL or len(set(axis.positions)) <= MAX_CATEGORIES


def _distribution(axis: Axis):
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if _as_categories(axis):
        return CategoricalDistribution(sorted(set(axis.positions), key=_order(axis)))
    low, high = min(axis.positions), max(axis.positions)
    return FloatDistribution(low, high, log=axis.kind is AxisKind.LOG)


def _order(axis: Axis):
    return axis.categories.index if axis.kind is AxisKind.CATEGORICAL else float


def _param(axis: Axis, i: int) -> object:
    return axis.positions[i] if _as_categories(axis) else float(axis.positions[i])
