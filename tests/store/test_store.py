"""RunStore on a real SQLite file: round trip, search, edits, export, schema versions, damage."""
import csv
import io
import json
import sqlite3

import pytest

from experiments.config import RunConfig
from experiments.store import SCHEMA_VERSION, RunStore, StoreError
from experiments.store.export import epochs_frame, export_csv, export_json
from tests.conftest import run_in_threads


def epoch_logs(epoch, acc=0.5):
    return dict(epoch=epoch, train_loss=1.0 / epoch, train_acc=acc, test_loss=1.1 / epoch, test_acc=acc + 0.01,
                seconds=0.5, elapsed=0.5 * epoch, lr=0.001, majority_fraction=0.11, dead_fraction=0.0)


def test_round_trip(store, tmp_path):
    config = RunConfig(hidden=(64, 32), lr=0.1, seed=3)
    run_id = store.create_run(config, name="first", group_id="g1", source="cli")
    store.set_status(run_id, "running")
    for e in (1, 2, 3):
        store.log_epoch(run_id, epoch_logs(e, acc=0.5 + e / 10))
    store.set_status(run_id, "finished", "done")
    reopened = RunStore(tmp_path / "runs.sqlite")  # a fresh connection reads what was committed
    run = reopened.get_run(run_id)
    assert run.config == config and run.name == "first" and run.group_id == "g1" and run.source == "cli"
    assert run.status == "finished" and run.message == "done" and run.epochs_done == 3
    assert run.test_acc == pytest.approx(0.81) and run.best_test_acc == pytest.approx(0.81)
    assert [e["epoch"] for e in reopened.get_epochs(run_id)] == [1, 2, 3]
    assert reopened.get_epochs(run_id)[1]["train_loss"] == pytest.approx(0.5)
    assert store.path.with_name("runs.sqlite-wal").exists()  # WAL mode


def test_default_name_and_missing_run(store):
    run_id = store.create_run(RunConfig())
    assert store.get_run(run_id).name == f"run {run_id}"
    with pytest.raises(StoreError, match="no run 999"):
        store.get_run(999)


def test_search_filters_and_sorts(store):
    a = store.create_run(RunConfig(lr=0.1), name="alpha")
    b = store.create_run(RunConfig(lr=0.001), name="beta 100%")
    c = store.create_run(RunConfig(optimizer="sgd"), name="gamma")
    store.log_epoch(a, epoch_logs(1, 0.9))
    store.log_epoch(b, epoch_logs(1, 0.3))
    store.set_status(c, "diverged", "loss became nan")
    store.set_tags(b, "keep, report")
    assert [r.id for r in store.search_runs()] == [c, b, a]  # newest first
    assert [r.id for r in store.search_runs(status="diverged")] == [c]
    assert [r.id for r in store.search_runs(status=["queued"])] == [b, a]
    assert [r.id for r in store.search_runs(text="ALPHA")] == [a]
    assert [r.id for r in store.search_runs(text="100%")] == [b]  # % is literal, not a wildcard
    assert [r.id for r in store.search_runs(text="al_ha")] == []  # _ is literal too
    assert [r.id for r in store.search_runs(text="sgd")] == [c]  # settings are searched too
    assert [r.id for r in store.search_runs(tag="report")] == [b]
    assert [r.id for r in store.search_runs(order_by="test_acc", descending=True)][:2] == [a, b]
    assert [r.id for r in store.search_runs(ids=[a, c], order_by="id", descending=False)] == [a, c]
    with pytest.raises(StoreError, match="cannot sort by"):
        store.search_runs(order_by="name; DROP TABLE runs")


def test_edits_keep_user_text_verbatim_and_safe(store):
    run_id = store.create_run(RunConfig())
    hostile = "<script>alert(1)</script> '; DROP TABLE runs; -- **bold** [x](javascript:1)"
    store.rename(run_id, hostile)
    store.set_notes(run_id, "notes \x00 with NUL " + hostile)
    store.set_tags(run_id, ["a", " a ", "", "b"])
    run = store.get_run(run_id)
    assert run.name == hostile and "\x00" not in run.notes and run.tags == ["a", "b"]
    assert store.count_runs() == 1
    with pytest.raises(StoreError, match="too long"):
        store.rename(run_id, "x" * 10_000)
    with pytest.raises(StoreError, match="empty"):
        store.rename(run_id, "   ")
    assert store.get_run(run_id).name == hostile  # a refused edit changes nothing


def test_delete_removes_epochs_and_weights(store):
    run_id = store.create_run(RunConfig())
    store.log_epoch(run_id, epoch_logs(1))
    store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
    store.weights_path(run_id).write_bytes(b"w")
    keep = store.create_run(RunConfig())
    store.delete_run(run_id)
    assert store.search_runs() and [r.id for r in store.search_runs()] == [keep]
    assert store.get_epochs(run_id) == [] and not store.weights_path(run_id).exists()


def test_export_csv_and_json(store):
    run_id = store.create_run(RunConfig(hidden=(32, 16)), name="=cmd|' /C calc'!A0")
    store.log_epoch(run_id, epoch_logs(1))
    store.log_epoch(run_id, epoch_logs(2))
    rows = list(csv.DictReader(io.StringIO(export_csv(store))))
    assert rows[0]["hidden"] == "32,16" and rows[0]["name"].startswith("'=")  # no spreadsheet formula
    per_epoch = list(csv.DictReader(io.StringIO(export_csv(store, [run_id], epochs=True))))
    assert [r["epoch"] for r in per_epoch] == ["1", "2"]
    exported = json.loads(export_json(store))
    assert exported[0]["config"]["hidden"] == [32, 16] and len(exported[0]["epochs"]) == 2


def test_epochs_frame_has_one_row_per_run_and_epoch(store):
    ids = [store.create_run(RunConfig(lr=lr)) for lr in (0.1, 0.01)]
    for run_id in ids:
        for e in (1, 2):
            store.log_epoch(run_id, epoch_logs(e))
    frame = epochs_frame(store, ids)
    assert len(frame) == 2 * 2 and sorted(set(frame["run_id"])) == sorted(ids)
    assert epochs_frame(store, []).empty


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "future.sqlite"
    RunStore(path).create_run(RunConfig())
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer version"):
        RunStore(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b""], ids=["garbage", "empty"])
def test_damaged_or_foreign_file(tmp_path, content):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(content)
    if not content:
        assert RunStore(path).count_runs() == 0  # an empty file is simply a new store
        return
    with pytest.raises(StoreError, match="damaged or is not a run store"):
        RunStore(path)
    assert path.read_bytes() == content


def test_a_foreign_sqlite_file_is_not_taken_over(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not a run store"):
        RunStore(path)


def test_unwritable_location_gives_a_clear_message(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the results folder should be")
    with pytest.raises(StoreError, match="cannot create the results folder"):
        RunStore(blocker / "runs.sqlite")


def test_a_full_disk_refuses_the_write_and_keeps_what_is_stored(store, full_disk):
    run_id = store.create_run(RunConfig())
    store.log_epoch(run_id, epoch_logs(1))
    conn = store._conn()
    full_disk.fill(conn)
    with pytest.raises(StoreError, match="full"):
        for epoch in range(2, 5000):
            store.log_epoch(run_id, epoch_logs(epoch))
    full_disk.free(conn)
    stored = store.get_epochs(run_id)
    assert stored[0]["epoch"] == 1 and [e["epoch"] for e in stored] == list(range(1, len(stored) + 1))
    assert store.get_run(run_id).epochs_done == len(stored)  # summary and epochs agree: no torn write


def test_many_openers_of_a_new_file_at_once_create_it_once(tmp_path):
    path = tmp_path / "fresh.sqlite"
    errors = run_in_threads(lambda: RunStore(path).create_run(RunConfig()), 8)
    assert errors == [] and RunStore(path).count_runs() == 8
