"""Seed groups for the Compare page: which runs differ only by seed, their mean and band, and the verdict.

The statistics belong to experiments.stats (spread per epoch, Welch's t-test verdict); this module only
groups the picked runs and hands their numbers over.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from experiments.analysis import stats
from experiments.config import short_label


@dataclass(frozen=True)
class Band:
    """Mean of a seed group per epoch, with mean ± one standard deviation as the band."""

    x: list[float]
    mean: list[float]
    low: list[float]
    high: list[float]


def group_by_config(runs: Sequence[Any]) -> list[list[Any]]:
    """Runs grouped by every setting except the seed, in first-seen order."""
    groups: dict[str, list[Any]] = {}
    for run in runs:
        groups.setdefault(run.config.replace(seed=0).to_json(), []).append(run)
    return list(groups.values())


def band(epoch_lists: Sequence[Sequence[Mapping[str, Any]]], metric: str, x_axis: str = "epoch") -> Band:
    """Per-epoch spread of ``metric`` over the group's runs (``x_axis`` "elapsed" uses the mean seconds)."""
    frame = pd.DataFrame([{**e, "run_id": i} for i, epochs in enumerate(epoch_lists) for e in epochs],
                         columns=["run_id", "epoch", metric, "elapsed"])
    ids = list(range(len(epoch_lists)))
    rows = stats.seed_bands(frame, {"group": ids}, metric)
    x = rows["epoch"].tolist()
    if x_axis == "elapsed":
        seconds = stats.seed_bands(frame, {"group": ids}, "elapsed").set_index("epoch")["mean"]
        x = [float(seconds.get(e, float("nan"))) for e in x]
    mean, std = rows["mean"].tolist(), rows["std"].tolist()
    return Band(x, mean, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)])


def verdicts(groups: Sequence[Sequence[Any]], names: Sequence[str]) -> list[str]:
    """One line per seed group against the best one: "a real difference" or "within seed noise" (Welch).

    Only groups with at least two seeds are judged; on the final test accuracies of their runs.
    """
    judged = [g for g in groups if len([r for r in g if r.test_acc is not None]) >= 2]
    if len(judged) < 2:
        return []
    label = {id(g): short_label(g[0].config, names) for g in judged}
    finals = {id(g): [r.test_acc for r in g if r.test_acc is not None] for g in judged}
    best = max(judged, key=lambda g: stats.spread(finals[id(g)]).mean)
    return [stats.verdict(finals[id(best)], finals[id(g)], label[id(best)], label[id(g)]).text
            for g in judged if g is not best]
