"""The run store: every run, its epochs and the tables kept beside them, in one SQLite file.

Cut by concept. ``store.py`` is ``RunStore`` itself with everything that is only its machinery: the
per-thread connections, the write transaction, opening and migrating the file, the owning process's
identity and the statements for runs that outlive a process (recovery, adoption, re-queueing, trimming
epochs), and the one place that writes a run's summary columns. ``schema.py`` holds the tables and the
migrations that bring an older file up to date; ``errors.py`` the store's exceptions and SQLite's result
codes worded for the user (imported by every module here, so kept apart from ``store.py``); ``records.py``
what the store hands out (``RunRecord``) and accepts (user text cleaned, statuses parsed); ``query.py`` the
search filters, always parameterized; ``best.py`` a run's best epoch by validation and the best-or-last
summaries that the analysis reads too. The tables kept beside the runs have one module each, on top of
``RunStore.execute``/``transaction``: ``dynamics.py`` (within-epoch points, per-layer dynamics) and
``predictions.py`` (students' predictions for exercises), ``classroom.py`` (the teacher's class settings)
and ``roster.py`` (the students admitted, their sign-in codes kept hashed). ``export.py`` takes runs out
for other programs: CSV, JSON and pandas frames.

The names most callers need are re-exported here: ``from experiments.store import RunStore, StoreError``.
"""
from experiments.store.errors import QueueFullError, RunNotFoundError, StoreError
from experiments.store.records import (
    EPOCH_METRICS,
    MAX_NAME,
    MAX_NOTES,
    MAX_TAG,
    MAX_TAGS,
    STATUSES,
    RunRecord,
)
from experiments.store.schema import SCHEMA_VERSION
from experiments.store.store import DEFAULT_DB, RunStore

__all__ = ["DEFAULT_DB", "EPOCH_METRICS", "MAX_NAME", "MAX_NOTES", "MAX_TAG", "MAX_TAGS", "SCHEMA_VERSION",
           "STATUSES", "QueueFullError", "RunNotFoundError", "RunRecord", "RunStore", "StoreError"]
