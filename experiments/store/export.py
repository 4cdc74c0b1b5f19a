"""Runs out of the store for other programs: CSV for spreadsheets, JSON with every epoch, pandas frames.

In JSON a run's tags are a list and its settings a nested "config" (None when the stored settings cannot
be read, with "config_error" saying why); the CSV joins the tags into one cell, has one column per setting
(blank for an unreadable config, never defaults) and neutralizes spreadsheet formulas in user text.
``epochs_frame`` hands the epochs to the charts and the statistics as a DataFrame; pandas is imported only
when it is called, so the command line starts without it.

Nothing here is translated: the CSV's column names, the JSON's keys and the status values are data other
programs read, the same in every language (as the command line's ``--json``); the pages show their own
headers over the same codes (``experiments.analysis.runs_table.column_header``).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from experiments.store.records import EPOCH_METRICS, SETTINGS, RunRecord
from experiments.store.store import RunStore

if TYPE_CHECKING:
    import pandas as pd

EPOCH_COLUMNS = ["run_id", "epoch", *EPOCH_METRICS]


def _runs(store: RunStore, run_ids: Sequence[int] | None) -> list[RunRecord]:
    return store.search_runs(ids=run_ids, order_by="id", descending=False)


def csv_row(run: RunRecord) -> dict[str, Any]:
    """One run as a CSV row: ``RunRecord.flat()`` with the tags joined and formulas neutralized."""
    return {k: csv_safe(v) for k, v in {**run.flat(), "tags": ", ".join(run.tags)}.items()}


def export_csv(store: RunStore, run_ids: Sequence[int] | None = None, epochs: bool = False) -> str:
    """CSV text: one row per run (settings and final metrics), or per epoch if ``epochs``; all runs when
    ``run_ids`` is None."""
    runs = _runs(store, run_ids)
    out = io.StringIO()
    if epochs:
        names = {run.id: csv_safe(run.name) for run in runs}
        writer = csv.DictWriter(out, fieldnames=["run_id", "name", "epoch", *EPOCH_METRICS])
        writer.writeheader()
        for e in store.get_epochs_of(list(names)):
            writer.writerow({"run_id": e["run_id"], "name": names[e["run_id"]],
                             **{k: e[k] for k in ("epoch", *EPOCH_METRICS)}})
    else:
        rows = [csv_row(run) for run in runs]
        fieldnames = list(rows[0]) if rows else [*(f for f in RunRecord.__dataclass_fields__ if f != "config"),
                                                 *SETTINGS]
        writer = csv.DictWriter(out, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def export_json(store: RunStore, run_ids: Sequence[int] | None = None) -> str:
    """JSON text: every run (or those of ``run_ids``) with its settings and all its epochs."""
    runs = _runs(store, run_ids)
    epochs: dict[int, list[dict[str, Any]]] = {run.id: [] for run in runs}
    for e in store.get_epochs_of(list(epochs)):
        epochs[e["run_id"]].append(e)
    return json.dumps([{**run.to_json_dict(), "epochs": epochs[run.id]} for run in runs], indent=1)


def epochs_frame(store: RunStore, run_ids: Sequence[int]) -> pd.DataFrame:
    """One row per (run, epoch) with every metric, ordered by run and epoch."""
    import pandas as pd

    return pd.DataFrame(store.get_epochs_of(run_ids), columns=EPOCH_COLUMNS)


def csv_safe(value: Any) -> Any:
    """Neutralize spreadsheet formulas in user text (a leading =, +, - or @ becomes literal)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
