"""How runs are ranked and judged: on validation, by each run's best epoch unless the user asks for the last.

Everything that picks a winner (Compare's verdict and default metric, History's order, a sweep's best
trial) goes through here, so all of them choose on the validation set. The test accuracy stays beside it as
the held-out final check (``WHY_NOT_TEST`` says why it is not used to choose). Runs without a validation set
(every run stored before it existed, and the report's protocol) cannot be ranked on it: they are set apart,
never mixed into a ranking of runs that have one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from experiments.i18n import N_, _, ngettext
from experiments.store import best
from experiments.store.best import SummaryBy, at_best_epoch, best_epoch_name
from experiments.store.records import RunRecord

__all__ = ["RANK_METRIC", "MetricsTable", "Split", "SummaryBy", "by_name", "metrics_table", "rank",
           "sort_column", "split_by_validation", "summary_row", "summary_text"]

RANK_METRIC = "val_acc"        # what ranks runs that have a validation set
FALLBACK_METRIC = "test_acc"   # what runs without one can only be compared on, apart from the others
LAST_EPOCH = N_("last epoch")


def by_name(by: SummaryBy) -> str:
    """The epoch a run's numbers are read at, in words of the current language ("best epoch (lowest val. loss)")."""
    return best_epoch_name() if by is SummaryBy.BEST else _(LAST_EPOCH)


def __getattr__(name: str) -> Any:
    """``BY_NAMES`` (each ``SummaryBy`` in words), ``RANK_NAME`` (what History's default order and a sweep's
    "best trial" rank by, named with the epoch it is read at) and ``WHY_NOT_TEST``: read in the current
    language each time, never frozen in the language of the first import."""
    if name == "BY_NAMES":
        return {by: by_name(by) for by in SummaryBy}
    if name == "RANK_NAME":
        return at_best_epoch(_("val. accuracy"))
    if name == "WHY_NOT_TEST":
        return str(best.WHY_NOT_TEST)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


T = TypeVar("T")


@dataclass(frozen=True)
class Split:
    """Items of runs with a validation set, and those of runs without (judged apart, if at all)."""

    validated: list[Any]
    unvalidated: list[Any]

    def note(self, what: str = "runs") -> str:
        """One line naming the runs (``what="groups"``: the seed groups) set apart for having no validation set
        ("" if none)."""
        if not self.validated or not self.unvalidated:
            return ""
        count = len(self.unvalidated)
        if what == "groups":
            return ngettext("{count} group without a validation set (stored before it existed, or val_size 0) is "
                            "judged apart, on test accuracy, never against runs with one.",
                            "{count} groups without a validation set (stored before it existed, or val_size 0) are "
                            "judged apart, on test accuracy, never against runs with one.", count).format(count=count)
        return ngettext("{count} run without a validation set (stored before it existed, or val_size 0) is judged "
                        "apart, on test accuracy, never against runs with one.",
                        "{count} runs without a validation set (stored before it existed, or val_size 0) are judged "
                        "apart, on test accuracy, never against runs with one.", count).format(count=count)


def _head(item: Any) -> RunRecord:
    """The run an item stands for: a run, or the first run of a seed group."""
    return item if isinstance(item, RunRecord) else item[0]


def split_by_validation(items: Sequence[T]) -> Split:
    """Runs (or seed groups, by their first run) split by whether they hold out a validation set."""
    return Split([i for i in items if _head(i).has_validation], [i for i in items if not _head(i).has_validation])


def metric_for(validated: bool) -> str:
    """The accuracy that judges runs with (val) or without (test) a validation set."""
    return RANK_METRIC if validated else FALLBACK_METRIC


def value(run: RunRecord, metric: str = RANK_METRIC, by: SummaryBy = SummaryBy.BEST) -> float | None:
    """``metric`` of the run at its best (or last) epoch."""
    result: float | None = getattr(run.summary(by), metric)
    return result


def rank(runs: Sequence[RunRecord], by: SummaryBy = SummaryBy.BEST) -> list[RunRecord]:
    """Runs best first: those with a validation set by validation accuracy, then those without by test
    accuracy (apart, after them), then runs with no number yet."""
    def key(run: RunRecord) -> tuple[int, float]:
        score = value(run, metric_for(run.has_validation), by)
        group = 0 if run.has_validation and score is not None else 1 if score is not None else 2
        return group, -(score if score is not None else 0.0)
    return sorted(runs, key=key)


def sort_column(by: SummaryBy = SummaryBy.BEST) -> str:
    """The store's column that orders runs by validation accuracy at the best (or last) epoch."""
    return "best_val_acc" if by is SummaryBy.BEST else "val_acc"


SUMMARY_COLUMNS = ("epoch", "val_acc", "test_acc", "train_acc", "val_loss", "test_loss", "train_loss")


def summary_row(run: RunRecord, by: SummaryBy = SummaryBy.BEST) -> dict[str, Any]:
    """The run's metrics at its best (or last) epoch, with the epoch and which kind it is ("best"/"last")."""
    s = run.summary(by)
    return {"epoch": s.epoch, "summarised_by": s.by.value, **{m: getattr(s, m) for m in SUMMARY_COLUMNS[1:]}}


def summary_text(by: SummaryBy) -> str:
    """One line saying which epoch the numbers are read at."""
    if by is SummaryBy.BEST:
        return _("Numbers at each run's {best_epoch}: early stopping's metric instead when it monitors accuracy; a "
                 "run without a validation set: its last epoch, marked '{last}'.").format(
            best_epoch=best_epoch_name(), last=SummaryBy.LAST.word)
    return _("Numbers at each run's last finished epoch.")


@dataclass
class MetricsTable:
    """Rows for the metrics table (each run's settings and its numbers at the chosen epoch) and the settings
    shown in it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)


def metrics_table(runs: Sequence[RunRecord], differing: Sequence[str], all_settings: Sequence[str] | None = None,
                  by: SummaryBy = SummaryBy.BEST) -> MetricsTable:
    """Each run's metrics at its best (or last) epoch beside its settings: only the ``differing`` ones unless
    ``all_settings``."""
    settings = list(all_settings) if all_settings is not None else list(differing)
    rows = []
    for run in runs:
        flat = run.flat()
        row = {"id": run.id, "name": run.name, "status": run.status.value, **{s: flat.get(s) for s in settings}}
        rows.append({**row, **summary_row(run, by), "epochs_done": run.epochs_done, "seconds": run.seconds})
    return MetricsTable(rows, settings)
