"""Who sees the test-set numbers: the one rule, and the store as a student sees it until the teacher reveals them.

On a class server the test set is the final check, looked at once; a class that sees it on every page
chooses by it. So a student (not the teacher, not a laptop's user) sees no test loss or accuracy anywhere
until the teacher reveals them (``ClassSettings.test_revealed``, the Teacher page's toggle): ``sees_test``
decides, and ``StudentView`` is the run store with every test number taken out of what it hands over
(records, epochs, and so every table, figure, verdict and export built from them). The pages call
``ui.common.store()``, which is this view for a session that may not see them, so no page can forget it.
Test numbers are removed (None, and no test series), never replaced by other numbers.

Inspect measures a network on the test images: ``sees_test`` tells it to say that the measurement is hidden
instead.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from experiments.access import Identity, Role
from experiments.i18n import N_
from experiments.store import RunRecord, RunStore
from experiments.store.classroom import ClassSettings

TEST_METRICS = ("test_loss", "test_acc")  # what an epoch logs on the test set
TEST_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(RunRecord) if "test_" in f.name)
HIDDEN_NOTE = N_("test numbers are hidden until your teacher reveals them")  # shown through _()


def sees_test(identity: Identity, settings: ClassSettings) -> bool:
    """Whether ``identity`` may see test-set numbers: the teacher and a laptop's user always, a student once
    the teacher has revealed them."""
    return identity.role in (Role.TEACHER, Role.LOCAL) or settings.test_revealed


def is_test_key(key: str) -> bool:
    """Whether a metric, column or setting name is a test-set number (``test_acc``, ``best_test_acc``,
    ``test acc``, ``test_loss_at_best``...)."""
    return "test_" in key or key.startswith("test ") or " test " in key


def without_test_record(run: RunRecord) -> RunRecord:
    """The run with every test number set to None."""
    hidden: dict[str, Any] = dict.fromkeys(TEST_RECORD_FIELDS)
    return dataclasses.replace(run, **hidden)


def without_test(row: Mapping[str, Any]) -> dict[str, Any]:
    """An epoch, a table row or a progress snapshot's metrics without its test numbers (the keys dropped)."""
    return {k: v for k, v in row.items() if not is_test_key(str(k))}


def without_test_metrics(metrics: Iterable[str]) -> list[str]:
    """Metric names a student may pick: those not on the test set."""
    return [m for m in metrics if not is_test_key(m)]


class StudentView(RunStore):
    """The run store as a student sees it before the test numbers are revealed: the same file and the same
    per-thread connections (every write goes through unchanged), with each record and epoch it reads
    handed over without test numbers. (Epochs keep their test keys, set to None, so frames keep their
    columns and code that reads them finds nothing to show.)"""

    def __init__(self, store: RunStore):  # not super().__init__: that would open and migrate the file again
        self.__dict__.update(store.__dict__)

    def get_run(self, run_id: int) -> RunRecord:
        return without_test_record(super().get_run(run_id))

    def search_runs(self, *args: Any, **kwargs: Any) -> list[RunRecord]:
        if is_test_key(str(kwargs.get("order_by", ""))):  # an order by test numbers would tell them apart
            kwargs["order_by"] = "created"
        return [without_test_record(run) for run in super().search_runs(*args, **kwargs)]

    def get_epochs(self, run_id: int) -> list[dict[str, Any]]:
        return [_blank_test(e) for e in super().get_epochs(run_id)]

    def get_epochs_of(self, run_ids: Sequence[int]) -> list[dict[str, Any]]:
        return [_blank_test(e) for e in super().get_epochs_of(run_ids)]


def _blank_test(epoch: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if k in TEST_METRICS else v) for k, v in epoch.items()}


def store_for(store: RunStore, identity: Identity, settings: ClassSettings) -> RunStore:
    """The store as ``identity`` may read it: itself, or a ``StudentView`` while the test numbers are hidden."""
    return store if sees_test(identity, settings) else StudentView(store)
