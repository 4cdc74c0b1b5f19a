"""Which runs an insight is about, and the one number per run it ranks them by.

A selection is a sweep, a tag, a History-style search (``lr=0.01 adam``) or every finished run trained on
one dataset and split. Its runs must be comparable: at least ``MIN_RUNS`` finished runs, all on the same
data (data folder, training images and, once runs have one, validation split), with at least one setting
that varies. Anything else is refused with a one-line ``InsightError`` that says what to change; nothing
here writes to the store.

The metric is read from each run's stored epochs at one epoch: its best epoch (the one validation picks,
``experiments.store.best``: lowest validation loss unless early stopping monitors accuracy; the same epoch
Sweep, History and Compare read) or its last. A "best" accuracy is never the highest accuracy over epochs.
The default is the validation accuracy at the best epoch: choosing settings by test accuracy fits the test
set. Runs from before the validation split have no validation numbers and no best epoch; then the default
falls back to the test accuracy at the last epoch and ``Selection.notes`` says so in plain words.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from experiments.config import ConfigError, differing_fields
from experiments.i18n import _
from experiments.store import RunStore
from experiments.store.best import at_best_epoch
from experiments.store.records import RunRecord
from experiments.sweeps.spec import TAG_PREFIX
from nn.status import RunStatus

MIN_RUNS = 4
# Settings that say which data a run saw, not how it trained: they must agree across a selection.
DATA_FIELDS = ("data_dir", "train_size", "val_size")
NOT_SETTINGS = ("seed", *DATA_FIELDS)


class InsightError(ConfigError):
    """A selection or request the insights cannot serve; the message says what to change (one line)."""


class Metric(StrEnum):
    """The number per run that importance, slices and the verdict table use."""

    BEST_VAL_ACC = "best_val_acc"
    FINAL_VAL_ACC = "final_val_acc"
    BEST_TEST_ACC = "best_test_acc"
    FINAL_TEST_ACC = "final_test_acc"

    @property
    def column(self) -> str:
        """The epoch column it reads."""
        return "val_acc" if "val" in self.value else "test_acc"

    @property
    def best(self) -> bool:
        """The best epoch's value (True) or the last epoch's (False)."""
        return self.value.startswith("best")

    @property
    def label(self) -> str:
        """What the number is, with the epoch it is read at: "val. accuracy at the best epoch (lowest val.
        loss)" or "test accuracy at the last epoch"."""
        what = _("val. accuracy") if "val" in self.value else _("test accuracy")
        return at_best_epoch(what) if self.best else _("{what} at the last epoch").format(what=what)

    @property
    def is_test(self) -> bool:
        return self.column == "test_acc"

    @property
    def at_last_epoch(self) -> Metric:
        """The same accuracy at the last epoch: what a verdict tests (never the best epoch, which is chosen
        on the validation numbers it would test; see ``seeds.VERDICT_BY``)."""
        return Metric.FINAL_VAL_ACC if self.column == "val_acc" else Metric.FINAL_TEST_ACC


DEFAULT_METRIC = Metric.BEST_VAL_ACC
TEST_CAVEAT = ("test accuracy is the held-out final check: choosing settings by it fits the test set, so treat "
               "this ranking as optimistic")


class SourceKind(StrEnum):
    """How the runs are chosen."""

    SWEEP = "sweep"        # a sweep id (its group and tag ``sweep:<id>``)
    TAG = "tag"
    SEARCH = "search"      # History's search text
    DATASET = "dataset"    # every finished run on one dataset and split (value: a ``dataset_key``)


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    value: str = ""

    def describe(self) -> str:
        return {SourceKind.SWEEP: f"sweep {self.value}", SourceKind.TAG: f"tag {self.value!r}",
                SourceKind.SEARCH: f"search {self.value!r}",
                SourceKind.DATASET: f"finished runs on {self.value or 'one dataset'}"}[self.kind]


@dataclass
class Selection:
    """Comparable runs, one metric value each (same order), the settings that vary, and notes for the user."""

    runs: list[RunRecord]
    values: list[float]
    metric: Metric
    settings: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def configs(self) -> list[Any]:
        return [r.config for r in self.runs]


def dataset_key(run: RunRecord) -> str:
    """The data a run trained on, as one text: data folder, training images and validation split."""
    c = run.config
    if c is None:
        return ""
    parts = [f"data={c.data_dir or 'default MNIST'}", f"train_size={c.train_size or 'all'}"]
    parts += [f"{name}={getattr(c, name)}" for name in DATA_FIELDS[2:] if hasattr(c, name)]
    return ", ".join(parts)


def statuses(include_pruned: bool) -> list[RunStatus]:
    return [RunStatus.FINISHED, RunStatus.PRUNED] if include_pruned else [RunStatus.FINISHED]


def find_runs(store: RunStore, source: Source, include_pruned: bool = False) -> list[RunRecord]:
    """The source's runs with a readable config and a status counted (finished, and pruned if asked)."""
    wanted = statuses(include_pruned)
    if source.kind is SourceKind.SWEEP:
        sweep_id = source.value.removeprefix(TAG_PREFIX)
        runs = store.search_runs(status=wanted, tag=TAG_PREFIX + sweep_id, order_by="id", descending=False)
    elif source.kind is SourceKind.TAG:
        runs = store.search_runs(status=wanted, tag=source.value, order_by="id", descending=False)
    elif source.kind is SourceKind.SEARCH:
        runs = store.search_runs(status=wanted, text=source.value or None, order_by="id", descending=False)
    else:
        runs = [r for r in store.search_runs(status=wanted, order_by="id", descending=False)
                if dataset_key(r) == source.value]
    return [r for r in runs if r.config is not None]


def dataset_choices(store: RunStore) -> list[str]:
    """The datasets and splits of the finished runs, most runs first (for the "all finished runs" choice)."""
    counts: dict[str, int] = {}
    for run in store.search_runs(status=RunStatus.FINISHED):
        if run.config is not None:
            counts[dataset_key(run)] = counts.get(dataset_key(run), 0) + 1
    return sorted(counts, key=lambda k: -counts[k])


def metric_values(store: RunStore, runs: Sequence[RunRecord], metric: Metric) -> list[float | None]:
    """Each run's metric from its stored epochs, at its best epoch (the stored one that validation picked,
    see ``experiments.store.best``) or its last finished one (None when it has no such epoch or number)."""
    by_run: dict[int, dict[int, float | None]] = {}
    for e in store.get_epochs_of([r.id for r in runs]):
        value = e.get(metric.column)
        finite = float(value) if value is not None and math.isfinite(value) else None
        by_run.setdefault(int(e["run_id"]), {})[int(e["epoch"])] = finite
    out: list[float | None] = []
    for run in runs:
        epochs = by_run.get(run.id, {})
        epoch = run.best_epoch if metric.best else max(epochs, default=None)
        out.append(epochs.get(epoch) if epoch is not None else None)
    return out


def select(store: RunStore, source: Source, metric: Metric | None = None, include_pruned: bool = False) -> Selection:
    """The comparable runs of ``source`` with their ``metric`` (default: val. accuracy at the best epoch).

    InsightError (one line, what to change) for fewer than MIN_RUNS runs, mixed datasets or splits, a
    metric the runs lack, or no setting that varies.
    """
    runs = find_runs(store, source, include_pruned)
    _check_runs(source, runs, include_pruned)
    chosen, notes = _metric_for(store, runs, metric)
    values = metric_values(store, runs, chosen)
    kept = [(r, v) for r, v in zip(runs, values) if v is not None]
    if len(kept) < MIN_RUNS:
        raise InsightError(f"only {len(kept)} runs of {source.describe()} have a {chosen.label}; at least "
                           f"{MIN_RUNS} are needed: choose another metric or selection")
    if len(kept) < len(runs):
        notes.append(f"{len(runs) - len(kept)} run(s) without a {chosen.label} left out")
    configs = [r.config for r, _ in kept if r.config is not None]
    settings = [n for n in differing_fields(configs) if n not in NOT_SETTINGS]
    if not settings:
        raise InsightError(f"the runs of {source.describe()} differ only by seed: no setting varies, so there is "
                           f"nothing to rank; add runs that change a setting")
    return Selection([r for r, _ in kept], [float(v) for _, v in kept if v is not None], chosen, settings, notes)


def for_verdict(store: RunStore, selection: Selection) -> Selection:
    """The selection's runs read at their last epoch (``Metric.at_last_epoch``), for the verdict table: the
    ranking may choose on the best epoch, a test must not test the numbers that chose it. Runs without a
    number there are left out."""
    metric = selection.metric.at_last_epoch
    if metric is selection.metric:
        return selection
    kept = [(r, v) for r, v in zip(selection.runs, metric_values(store, selection.runs, metric)) if v is not None]
    return Selection([r for r, _ in kept], [float(v) for _, v in kept if v is not None], metric, selection.settings,
                     list(selection.notes))


def _check_runs(source: Source, runs: Sequence[RunRecord], include_pruned: bool) -> None:
    """Enough runs, all on one dataset and split."""
    counted = "finished or pruned" if include_pruned else "finished"
    if len(runs) < MIN_RUNS:
        raise InsightError(f"{source.describe()} has {len(runs)} {counted} run{'s' * (len(runs) != 1)}; at least "
                           f"{MIN_RUNS} are needed: widen the selection or train more runs")
    datasets = sorted({dataset_key(r) for r in runs})
    if len(datasets) > 1:
        more = " | ..." if len(datasets) > 2 else ""
        raise InsightError(f"{source.describe()} mixes {len(datasets)} datasets or splits ({datasets[0]} | "
                           f"{datasets[1]}{more}): narrow it to one, e.g. with a tag or a search such as "
                           f"train={runs[0].config.train_size if runs[0].config else 0}")


def _metric_for(store: RunStore, runs: Sequence[RunRecord], metric: Metric | None) -> tuple[Metric, list[str]]:
    """The metric to use and what to tell the user about it (the test fallback is always said)."""
    if metric is not None:
        if not any(v is not None for v in metric_values(store, runs, metric)):
            raise InsightError(f"no run of the selection has a {metric.label}"
                               + ("; runs from before the validation split have none: choose a test metric "
                                  "explicitly (as the held-out check)" if not metric.is_test else ""))
        return metric, [TEST_CAVEAT] if metric.is_test else []
    if any(v is not None for v in metric_values(store, runs, DEFAULT_METRIC)):
        return DEFAULT_METRIC, []
    return Metric.FINAL_TEST_ACC, [f"these runs have no validation numbers (trained before the validation split) "
                                   f"and so no best epoch: they are ranked by the {Metric.FINAL_TEST_ACC.label}; "
                                   f"{TEST_CAVEAT}"]


def setting_values(selection: Selection, name: str) -> list[Any]:
    """One setting's value per run of the selection (widths as text such as "128-64")."""
    from experiments.settings.labels import format_value
    values = [getattr(c, name) for c in selection.configs]
    return [format_value(name, v) if isinstance(v, tuple) else v for v in values]


def check_setting(selection: Selection, name: str) -> None:
    """InsightError unless ``name`` is a setting that varies in the selection."""
    if name not in selection.settings:
        varying = ", ".join(selection.settings)
        raise InsightError(f"{name} does not vary in this selection; choose one of: {varying}")
