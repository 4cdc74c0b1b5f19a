"""Which setting mattered: permutation importance of a random forest fitted to the stored runs, beside a
noise floor computed the same way from seed noise alone.

Why scikit-learn's permutation importance (``sklearn.inspection.permutation_importance`` on a
``RandomForestRegressor``) rather than Optuna's PED-ANOVA or fANOVA: both of those are scale-free (PED-ANOVA
only asks which runs are in the top quantile, fANOVA reports shares of variance), so their value under seed
noise alone does not depend on how large the seed noise is, and a floor built from the seed replicates
could not say "lr moves the accuracy by far more than the seeds do". Permutation importance is in the
metric's own units: how much worse (mean squared error, in accuracy points squared) the forest predicts the
metric when one setting's values are shuffled among the runs. A setting that moves the accuracy by d
points scores about d squared; a setting that does nothing scores what the forest's memorised noise gives.

The noise floor asks what the same computation gives when only the seed differs. From the seed replicates
in the selection (configs run with two or more seeds) each run's deviation from its config's mean is
taken, rescaled by sqrt(n / (n - 1)) for the degree of freedom the mean used; a null history keeps every
run's settings but gives it the overall mean plus a deviation drawn at random from that pool. Each setting's
floor is the importance it reaches in all but 5% / k of ``shuffles`` null histories (k settings:
Bonferroni's share, so that "above the floor" stays rare by chance even though k settings are looked at).
Without replicates there is no floor, and the result says so. Settings enter the forest on the axes of
``experiments.analysis.axes``: log10 for lr and L2, ordered codes for categories.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.analysis.axes import Axis, AxisKind, axis_for
from experiments.analysis.selection import Selection, setting_values
from experiments.i18n import N_, _

FAMILY_ALPHA = 0.05
SHUFFLES = 60
TREES = 30
REPEATS = 5
# Marked for the catalog and worded where read (``ImportanceResult.method`` / ``note``): a result cached by the
# dashboard is shown to sessions of either language.
METHOD = N_("permutation importance of a random forest (scikit-learn): the increase in squared error, in "
            "accuracy points squared, when the setting is shuffled")
NO_FLOOR = N_("no seed replicates in this selection (no configuration was run with two or more seeds), so there is "
              "no noise floor: queue replicates to see how much of this is seed noise")


@dataclass(frozen=True)
class SettingImportance:
    setting: str
    importance: float
    above_floor: bool | None  # None: no floor to compare with


@dataclass(frozen=True)
class ImportanceResult:
    """Settings ranked by importance, the noise floors (None without replicates) and what they rest on."""

    ranking: list[SettingImportance]
    floors: dict[str, float] | None     # per setting; None without replicates
    replicated_configs: int      # configs with at least two seeds
    shuffles: int

    @property
    def method(self) -> str:
        """How the importance is computed, in the current language."""
        return _(METHOD)

    @property
    def note(self) -> str:
        """Why there is no noise floor (empty when there is one), in the current language."""
        return "" if self.floors is not None else _(NO_FLOOR)


def importance(selection: Selection, shuffles: int = SHUFFLES, seed: int = 0) -> ImportanceResult:
    """Permutation importance of each varying setting for the selection's metric, beside the noise floor."""
    axes = [axis_for(name, setting_values(selection, name)) for name in selection.settings]
    features = feature_matrix(axes)
    values = np.asarray(selection.values, dtype=float) * 100  # accuracy points
    scores = permutation_scores(axes, features, values, seed)
    residuals, replicated = seed_residuals(selection)
    floors = noise_floors(axes, features, values, residuals * 100, shuffles, seed) if residuals.size else None
    ranking = [SettingImportance(name, scores[name], None if floors is None else scores[name] > floors[name])
               for name in sorted(scores, key=lambda k: -scores[k])]
    return ImportanceResult(ranking, floors, replicated, shuffles)


def feature_matrix(axes: Sequence[Axis]) -> np.ndarray:
    """One column per setting: log10 positions on log axes, positions on linear ones, codes for categories."""
    columns = []
    for axis in axes:
        if axis.kind is AxisKind.CATEGORICAL:
            columns.append([float(axis.categories.index(p)) for p in axis.positions])
        elif axis.kind is AxisKind.LOG:
            columns.append([math.log10(p) for p in axis.positions])
        else:
            columns.append([float(p) for p in axis.positions])
    return np.asarray(columns, dtype=float).T


def permutation_scores(axes: Sequence[Axis], features: np.ndarray, values: np.ndarray, seed: int) -> dict[str, float]:
    """Mean increase in squared error (points squared) when each setting is shuffled, for a forest fitted to
    ``values``; the same seeds every call, so real and null histories are judged alike."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    forest = RandomForestRegressor(n_estimators=TREES, random_state=seed).fit(features, values)
    result = permutation_importance(forest, features, values, scoring="neg_mean_squared_error",
                                    n_repeats=REPEATS, random_state=seed)
    return {a.name: float(m) for a, m in zip(axes, result.importances_mean)}


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


def noise_floors(axes: Sequence[Axis], features: np.ndarray, values: np.ndarray, residuals: np.ndarray,
                 shuffles: int, seed: int) -> dict[str, float]:
    """Each setting's importance in null histories where only seed noise varies, at 1 - FAMILY_ALPHA / k."""
    rng = np.random.default_rng(seed)
    center = float(values.mean())
    nulls: dict[str, list[float]] = {a.name: [] for a in axes}
    for _shuffle in range(shuffles):
        null = center + rng.choice(residuals, size=len(values), replace=True)
        for name, score in permutation_scores(axes, features, null, seed).items():
            nulls[name].append(score)
    level = 1 - FAMILY_ALPHA / max(len(axes), 1)
    return {name: float(np.quantile(scores, level, method="higher")) for name, scores in nulls.items()}
