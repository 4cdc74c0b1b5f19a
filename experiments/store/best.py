"""A run's best epoch: the epoch its validation metric picks, and the summary of a run by best or last epoch.

The best epoch is chosen on validation, never on test: an epoch (or a setting) picked by its test accuracy
has been fitted to the test set, and that accuracy overstates what the network does on new images. The
monitor is the run's early-stopping metric, else ``val_loss``; an epoch is the new best when it improves on
the best so far by more than early stopping's ``min_delta`` (the rule ``nn.EarlyStopping`` uses, so the
stored best epoch is the one whose weights early stopping restores). A run without validation has no best
epoch.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from experiments.i18n import N_, _
from nn.early_stopping import improves

SUMMARY_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
# The runs table's columns for the best epoch, and the epoch metric each is copied from.
BEST_COLUMNS = {"best_epoch": "epoch", "best_val_loss": "val_loss", "best_val_acc": "val_acc",
                "train_loss_at_best": "train_loss", "train_acc_at_best": "train_acc",
                "test_loss_at_best": "test_loss", "test_acc_at_best": "test_acc"}
# The runs table's summary columns that log_epoch sets after each epoch: the last epoch's, then the best's.
RUN_SUMMARY_COLUMNS = (*SUMMARY_METRICS, "seconds", "epochs_done", *BEST_COLUMNS)
DEFAULT_MONITOR = "val_loss"


def __getattr__(name: str) -> str:
    """``WHY_NOT_TEST``: a constant in words, read in the current language each time."""
    if name == "WHY_NOT_TEST":
        return _("Settings and epochs are chosen on validation; the test accuracy is the held-out final check, "
                 "and choosing by it would fit the test set and overstate it.")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# How the best epoch is chosen, in the words every page and command uses beside a "best" number (marked for
# the catalog: read them through ``_()``, or through the functions below, which do).
MONITOR_RULES = {"val_loss": N_("lowest val. loss"), "val_acc": N_("highest val. accuracy")}
MONITOR_CHOICE = {"val_loss": N_("chosen by validation loss"), "val_acc": N_("chosen by validation accuracy")}


def best_epoch_name(monitor: str = DEFAULT_MONITOR) -> str:
    """The best epoch named with its rule, e.g. "best epoch (lowest val. loss)": a "best" accuracy is the
    accuracy at this epoch, never the highest accuracy over epochs."""
    return _("best epoch ({rule})").format(rule=_(MONITOR_RULES.get(monitor, MONITOR_RULES[DEFAULT_MONITOR])))


def best_epoch_choice(monitor: str = DEFAULT_MONITOR) -> str:
    """How the best epoch was chosen, for a hover: "chosen by validation loss" (or accuracy)."""
    return _(MONITOR_CHOICE.get(monitor, MONITOR_CHOICE[DEFAULT_MONITOR]))


def at_best_epoch(what: str, monitor: str = DEFAULT_MONITOR) -> str:
    """A metric read at the best epoch, named with the rule: "val. accuracy at the best epoch (lowest val.
    loss)"."""
    return _("{what} at the {best_epoch}").format(what=what, best_epoch=best_epoch_name(monitor))


class SummaryBy(StrEnum):
    """Which epoch stands for a run in tables and verdicts."""

    BEST = "best"  # the best validation epoch (the default)
    LAST = "last"  # the last finished epoch

    @property
    def word(self) -> str:
        """The value in the current language ("best" / "mejor"), for a table's "at epoch" column."""
        return _(SUMMARY_BY_WORDS[self])


SUMMARY_BY_WORDS = {SummaryBy.BEST: N_("best"), SummaryBy.LAST: N_("last")}


@dataclass(frozen=True)
class EpochSummary:
    """A run's metrics at one epoch, and which epoch that is (``by``: LAST for a run without validation even
    when BEST was asked for, as it has no best epoch)."""

    epoch: int | None
    by: SummaryBy
    train_loss: float | None = None
    train_acc: float | None = None
    val_loss: float | None = None
    val_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None


def stored_monitor(config_json: str) -> tuple[str, float]:
    """The metric that picks a stored run's best epoch and the least improvement that counts, from its
    stored settings (early stopping's monitor and min_delta, else val_loss and 0)."""
    try:
        settings = json.loads(config_json)
    except (TypeError, ValueError):
        return DEFAULT_MONITOR, 0.0
    monitor = settings.get("early_stopping", "off") if isinstance(settings, dict) else "off"
    if monitor not in ("val_loss", "val_acc"):
        return DEFAULT_MONITOR, 0.0
    try:
        return monitor, max(0.0, float(settings.get("min_delta", 0.0)))
    except (TypeError, ValueError):
        return monitor, 0.0


def best_of(epochs: Sequence[Mapping[str, Any]], monitor: str = DEFAULT_MONITOR,
            min_delta: float = 0.0) -> Mapping[str, Any] | None:
    """The best of ``epochs`` (in epoch order) by ``monitor``; None if none logged it (no validation)."""
    best: Mapping[str, Any] | None = None
    for logs in epochs:
        value = logs[monitor]
        if value is None:
            continue
        if best is None or improves(monitor, value, best[monitor], min_delta):
            best = logs
    return best


def best_columns(best: Mapping[str, Any] | None) -> dict[str, Any]:
    """The runs table's best-epoch columns for ``best`` (all None when there is no best epoch)."""
    return {column: (best[metric] if best is not None else None) for column, metric in BEST_COLUMNS.items()}


def run_summary(logs: Mapping[str, Any], history: Sequence[Mapping[str, Any]], config_json: str) -> list[Any]:
    """The values of ``RUN_SUMMARY_COLUMNS`` after epoch ``logs``, given every stored epoch (``history``, in
    epoch order, with SUMMARY_METRICS) and the run's stored settings."""
    best = best_columns(best_of(history, *stored_monitor(config_json)))
    return [*(logs.get(k) for k in SUMMARY_METRICS), logs.get("elapsed"), len(history), *best.values()]
