"""Stored epochs as pandas DataFrames, for the charts and the statistics (pandas is imported only here)."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from experiments.runs.records import EPOCH_METRICS
from experiments.runs.store import RunStore

EPOCH_COLUMNS = ["run_id", "epoch", *EPOCH_METRICS]


def epochs_frame(store: RunStore, run_ids: Sequence[int]) -> pd.DataFrame:
    """One row per (run, epoch) with every metric, ordered by run and epoch."""
    return pd.DataFrame(store.get_epochs_of(run_ids), columns=EPOCH_COLUMNS)


def epochs_long(store: RunStore, run_ids: Sequence[int], metrics: Sequence[str] = EPOCH_METRICS) -> pd.DataFrame:
    """Long format (run_id, epoch, elapsed, metric, value) of many runs' epochs, for plotting."""
    return epochs_frame(store, run_ids).melt(id_vars=["run_id", "epoch", "elapsed"], value_vars=list(metrics),
                                             var_name="metric", value_name="value")
