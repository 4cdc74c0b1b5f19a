"""experiments/visibility.py: who sees test numbers, and the store as a student reads it (exports included)."""
from __future__ import annotations

import json

from experiments.access import LOCAL_USER, Identity, Role
from experiments.config import RunConfig
from experiments.store.classroom import ClassSettings
from experiments.store.export import epochs_frame, export_csv, export_json
from experiments.visibility import StudentView, sees_test, store_for

STUDENT, TEACHER = Identity("Ann", Role.STUDENT), Identity("", Role.TEACHER)


def test_only_a_student_waits_for_the_reveal():
    hidden, revealed = ClassSettings(), ClassSettings(test_revealed=True)
    assert not sees_test(STUDENT, hidden) and sees_test(STUDENT, revealed)
    assert sees_test(TEACHER, hidden) and sees_test(LOCAL_USER, hidden)


def test_a_students_view_and_its_exports_hold_no_test_number_and_writes_go_through(store):
    run_id = store.create_run(RunConfig(), student="Ann")
    store.log_epoch(run_id, {"epoch": 1, "train_acc": 0.9, "val_acc": 0.8, "val_loss": 0.6, "test_acc": 0.4321,
                             "test_loss": 7.654})
    view = store_for(store, STUDENT, ClassSettings())
    assert isinstance(view, StudentView) and store_for(store, TEACHER, ClassSettings()) is store
    for shown in (export_csv(view), export_csv(view, epochs=True), export_json(view),
                  epochs_frame(view, [run_id]).to_csv(), repr(view.get_run(run_id)), repr(view.search_runs())):
        assert "0.4321" not in shown and "7.654" not in shown
    assert "0.4321" in export_csv(store) and json.loads(export_json(view))[0]["val_acc"] == 0.8
    view.rename(run_id, "renamed by Ann")  # the same file and connections: writes are not hidden
    assert store.get_run(run_id).name == "renamed by Ann"
    assert [r.id for r in view.search_runs(order_by="test_acc")] == [run_id]  # no order by what is hidden
