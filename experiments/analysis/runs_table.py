"""The runs table: one row per run, its settings and its metrics at its best (or last) epoch.

History and Compare show it (``ui/tables.py``) and the notebook API hands it out as ``Lab.runs()``
(``experiments/lab.py``), so a run reads the same in a page and in a notebook. pandas is imported only
when a table is built. The frame's column names are codes (the same in every language, like the CSV export's:
data a program reads); a page shows them under ``column_header``, in the reader's language.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from experiments.analysis.ranking import SummaryBy, summary_row
from experiments.i18n import N_, _
from experiments.runs.completion import status_word
from experiments.store import RunRecord
from experiments.store.records import source_word

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = ["id", "name", "status", "created", "epochs_done", "summarised_by", "epoch", "val_acc", "test_acc",
                 "train_acc", "val_loss", "test_loss", "hidden", "activation", "optimizer", "lr", "l2", "batch_size",
                 "seed", "dropout", "schedule", "early_stopping", "val_size", "reduction", "train_size", "tags",
                 "source", "student"]

# What a person reads above each column (the codes stay the frame's column names); a column not named here
# (lr, l2, seed...) reads as its code.
COLUMN_HEADERS = {
    "id": N_("id"), "name": N_("name"), "status": N_("status"), "created": N_("created"),
    "epochs_done": N_("epochs done"), "summarised_by": N_("at"), "epoch": N_("epoch"), "val_acc": N_("val acc"),
    "test_acc": N_("test acc"), "train_acc": N_("train acc"), "val_loss": N_("val loss"),
    "test_loss": N_("test loss"), "train_loss": N_("train loss"), "hidden": N_("hidden"),
    "activation": N_("activation"), "optimizer": N_("optimizer"), "batch_size": N_("batch"), "seed": N_("seed"),
    "dropout": N_("dropout"), "schedule": N_("schedule"), "early_stopping": N_("early stopping"),
    "val_size": N_("val size"), "reduction": N_("reduction"), "train_size": N_("train size"), "tags": N_("tags"),
    "source": N_("source"), "student": N_("student"), "seconds": N_("seconds"),
}


def column_header(column: str) -> str:
    """The header a person reads above ``column``, in the current language (the code when it has none)."""
    return _(COLUMN_HEADERS[column]) if column in COLUMN_HEADERS else column


def shown_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs frame as a page shows it: the "at" column, the statuses and the sources in words, in the reader's
    language (column names stay codes; ``runs_frame``, which the notebook API and the CSV export hand out, keeps
    them as stored: the statuses are the values of ``--status``, see the glossary)."""
    shown = frame.copy()
    if "status" in shown:
        shown["status"] = [status_word(v) for v in shown["status"]]
    if "source" in shown:
        shown["source"] = [source_word(v) if isinstance(v, str) else v for v in shown["source"]]
    if "summarised_by" in shown:
        shown["summarised_by"] = [SummaryBy(v).word if v in set(SummaryBy) else v for v in shown["summarised_by"]]
    return shown


def runs_frame(runs: Sequence[RunRecord], by: SummaryBy = SummaryBy.BEST) -> pd.DataFrame:
    """One row per run for the runs tables, its metrics at its best (or last) epoch."""
    import pandas as pd

    rows = [{**r.flat(), **summary_row(r, by), "tags": ", ".join(r.tags)} for r in runs]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else TABLE_COLUMNS)
    return frame[[c for c in TABLE_COLUMNS if c in frame.columns]]
