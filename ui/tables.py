"""The runs table shared by Compare and History: sortable, with row selection that carries across pages."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from experiments.runs.store import RunRecord

TABLE_COLUMNS = ["id", "name", "status", "created", "epochs_done", "test_acc", "best_test_acc", "train_acc",
                 "test_loss", "hidden", "activation", "optimizer", "lr", "l2", "batch_size", "seed",
                 "reduction", "train_size", "tags", "source"]
PERCENT = {"test_acc", "best_test_acc", "train_acc"}
MISSING = "–"  # shown in a cell without a value (Streamlit would write "None")


def runs_frame(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run for the pick-and-sort tables (History uses it too)."""
    rows = [{**r.flat(), "tags": ", ".join(r.tags)} for r in runs]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else TABLE_COLUMNS)
    return frame[[c for c in TABLE_COLUMNS if c in frame.columns]]


def column_config() -> dict:
    config = {c: st.column_config.NumberColumn(c.replace("_", " "), format="percent") for c in PERCENT}
    config.update({
        "id": st.column_config.NumberColumn("id", format="%d", width="small"),
        "name": st.column_config.TextColumn("name"),
        "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
        "epochs_done": st.column_config.NumberColumn("epochs done"),
        "train_loss": st.column_config.NumberColumn("train loss", format="%.4f"),
        "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
        "batch_size": st.column_config.NumberColumn("batch"),
        "test_loss": st.column_config.NumberColumn("test loss", format="%.4f"),
        "lr": st.column_config.NumberColumn("lr", format="%g"),
        "l2": st.column_config.NumberColumn("L2", format="%g"),
    })
    return config


def pick_runs(runs: list[RunRecord], key: str) -> list[int]:
    """A sortable table of runs with row selection, preselecting the shared "compare_ids"; returns the picked ids."""
    frame = runs_frame(runs)
    if "created" in frame:
        frame["created"] = pd.to_datetime(frame["created"], utc=True, errors="coerce")
    ids = frame["id"].tolist()
    wanted = [i for i in st.session_state.get("compare_ids", []) if i in ids]
    # The selection is positional: a new key whenever the listed runs change (a new run, a filter) makes
    # Streamlit start again from the preselection by id instead of shifting it onto other runs.
    key = f"{key}-{abs(hash(tuple(ids))) % 10**8}"
    event = st.dataframe(frame, key=key, on_select="rerun", selection_mode="multi-row", hide_index=True,
                         column_config=column_config(), height=min(36 * (len(frame) + 1) + 3, 400), placeholder=MISSING,
                         selection_default={"selection": {"rows": [ids.index(i) for i in wanted]}})
    picked = [ids[i] for i in event.selection.rows if i < len(ids)]
    st.session_state["compare_ids"] = picked
    return picked


