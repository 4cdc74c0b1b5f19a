"""The runs table shared by Compare and History: sortable, with row selection that carries across pages.

Each run's metrics are read at its best epoch by validation (the default) or its last, as the user picks
with ``summary_by_control``; the "at" column says which, per run.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from experiments.analysis.ranking import SummaryBy, by_name
from experiments.analysis.runs_table import COLUMN_HEADERS, column_header, runs_frame, shown_frame
from experiments.i18n import _
from experiments.store import RunRecord
from ui import common

PERCENT = {"val_acc", "test_acc", "train_acc"}
MISSING = "–"  # shown in a cell without a value (Streamlit would write "None")


def summary_by_control(key: str) -> SummaryBy:
    """The "best or last epoch" switch above a runs table (best by default)."""
    choice = st.radio(_("Read each run at its"), list(SummaryBy), format_func=lambda b: by_name(SummaryBy(b)),
                      key=key, horizontal=True, persist_state=common.KEEP,
                      help=_("Best: the epoch with the best validation score (early stopping's monitor, else the "
                             "validation loss), where the run would be stopped. Last: its last finished epoch."))
    return SummaryBy(choice or SummaryBy.BEST)


def column_config() -> dict:
    """How the runs tables show each column: headers in the reader's language (``column_header``; the frame's
    column names stay codes), numbers formatted."""
    h = column_header
    config = {c: st.column_config.Column(h(c)) for c in COLUMN_HEADERS}
    config.update({c: st.column_config.NumberColumn(h(c), format="percent") for c in PERCENT})
    config.update({
        "id": st.column_config.NumberColumn(h("id"), format="%d", width="small"),
        "name": st.column_config.TextColumn(h("name")),
        "created": st.column_config.DatetimeColumn(h("created"), format="YYYY-MM-DD HH:mm"),
        "epochs_done": st.column_config.NumberColumn(h("epochs_done")),
        "train_loss": st.column_config.NumberColumn(h("train_loss"), format="%.4f"),
        "seconds": st.column_config.NumberColumn(h("seconds"), format="%.1f"),
        "batch_size": st.column_config.NumberColumn(h("batch_size")),
        "test_loss": st.column_config.NumberColumn(h("test_loss"), format="%.4f"),
        "val_loss": st.column_config.NumberColumn(h("val_loss"), format="%.4f"),
        "val_acc": st.column_config.NumberColumn(h("val_acc"), format="percent",
                                                 help=_("Validation accuracy: what runs are chosen by.")),
        "test_acc": st.column_config.NumberColumn(h("test_acc"), format="percent",
                                                  help=_("The held-out final check: read it, do not choose by it.")),
        "summarised_by": st.column_config.TextColumn(h("summarised_by"),
                                                     help=_("The epoch the numbers are read at: best or last.")),
        "lr": st.column_config.NumberColumn("lr", format="%g"),
        "l2": st.column_config.NumberColumn("L2", format="%g"),
    })
    return config


def pick_runs(runs: list[RunRecord], key: str, by: SummaryBy = SummaryBy.BEST) -> list[int]:
    """A sortable table of runs with row selection, preselecting the shared "compare_ids"; returns the picked ids
    among the listed runs."""
    frame = common.visible_columns(runs_frame(runs, by))
    if "created" in frame:
        frame["created"] = pd.to_datetime(frame["created"], utc=True, errors="coerce")
    ids = frame["id"].tolist()
    wanted = [i for i in st.session_state.get("compare_ids", []) if i in ids]
    # The selection is positional: a new key whenever the listed runs change (a new run, a filter) makes
    # Streamlit start again from the preselection by id instead of shifting it onto other runs.
    key = f"{key}-{abs(hash(tuple(ids))) % 10**8}"
    event = st.dataframe(shown_frame(frame), key=key, on_select="rerun", selection_mode="multi-row", hide_index=True,
                         column_config=column_config(), height=min(36 * (len(frame) + 1) + 3, 400), placeholder=MISSING,
                         selection_default={"selection": {"rows": [ids.index(i) for i in wanted]}})
    picked = [ids[i] for i in event.selection.rows if i < len(ids)]
    # Runs this table does not list (a filter in History, "Mine" in Compare) keep their ticks: a filter hides
    # them, it does not untick them.
    unlisted = [i for i in st.session_state.get("compare_ids", []) if i not in ids]
    st.session_state["compare_ids"] = unlisted + picked
    return picked


