"""The runs table: one row per run, its settings and its metrics at its best (or last) epoch.

History and Compare show it (``ui/tables.py``) and the notebook API hands it out as ``Lab.runs()``
(``experiments/lab.py``), so a run reads the same in a page and in a notebook. pandas is imported only
when a table is built.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from experiments.analysis.ranking import SummaryBy, summary_row
from experiments.store import RunRecord

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = ["id", "name", "status", "created", "epochs_done", "summarised_by", "epoch", "val_acc", "test_acc",
                 "train_acc", "val_loss", "test_loss", "hidden", "activation", "optimizer", "lr", "l2", "batch_size",
                 "seed", "dropout", "schedule", "early_stopping", "val_size", "reduction", "train_size", "tags",
                 "source", "student"]


def runs_frame(runs: Sequence[RunRecord], by: SummaryBy = SummaryBy.BEST) -> pd.DataFrame:
    """One row per run for the runs tables, its metrics at its best (or last) epoch."""
    import pandas as pd

    rows = [{**r.flat(), **summary_row(r, by), "tags": ", ".join(r.tags)} for r in runs]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else TABLE_COLUMNS)
    return frame[[c for c in TABLE_COLUMNS if c in frame.columns]]
