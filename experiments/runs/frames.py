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


