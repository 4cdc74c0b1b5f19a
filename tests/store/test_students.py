"""The classroom in the store: a student's name on runs and predictions (refused in one line when bad), and
the migration that added the student column and the predictions table."""
from __future__ import annotations

import sqlite3

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore, StoreError, predictions
from experiments.store.schema import MIGRATIONS


@pytest.mark.parametrize("name, problem", [("x" * 10_000, "too long (10000 characters; at most 60)"),
                                           ("   ", "cannot be empty"), ("a\nb", "one line")])
def test_a_bad_student_name_is_refused_in_one_line(tmp_path, name, problem):
    store = RunStore(tmp_path / "s.sqlite")
    with pytest.raises(StoreError) as caught:
        store.create_run(RunConfig(), student=name)
    assert problem in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(StoreError):
        predictions.save_prediction(store, name, "01", {"value": "a"})
    assert store.count_runs() == 0 and predictions.predictions(store) == []


def test_runs_and_predictions_carry_the_student(tmp_path):
    store = RunStore(tmp_path / "s.sqlite")
    mine = store.create_run(RunConfig(), student="<b>Ann</b>")
    store.create_run(RunConfig(), student="Bob")
    store.create_run(RunConfig())
    assert [r.id for r in store.search_runs(student="<b>Ann</b>")] == [mine]
    assert len(store.search_runs()) == 3
    first = predictions.save_prediction(store, "<b>Ann</b>", "01_lr", {"kind": "winner", "value": "lr 0.1"})
    second = predictions.save_prediction(store, "<b>Ann</b>", "01_lr", {"kind": "winner", "value": "lr 0.001"})
    predictions.attach_group(store, second, "ex-1")
    latest = predictions.latest(store, student="<b>Ann</b>")
    assert latest[("<b>Ann</b>", "01_lr")].id == second and latest[("<b>Ann</b>", "01_lr")].group_id == "ex-1"
    assert [p.id for p in predictions.predictions(store, exercise="01_lr")] == [first, second]


def columns(conn, table: str) -> list[tuple]:
    return sorted(tuple(row[1:]) for row in conn.execute(f"PRAGMA table_info({table})"))


def test_the_classroom_migration_brings_an_older_file_to_the_fresh_schema(tmp_path):
    step = next(v for v, sql in MIGRATIONS.items() if "CREATE TABLE predictions" in sql)
    RunStore(tmp_path / "fresh.sqlite").close_all()
    old = RunStore(tmp_path / "old.sqlite")
    kept = old.create_run(RunConfig(), name="before the migration")
    old.close_all()
    conn = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    conn.executescript("DROP INDEX predictions_student; DROP TABLE predictions; ALTER TABLE runs DROP COLUMN student")
    for statement in filter(str.strip, MIGRATIONS[step].split(";")):
        conn.execute(statement)
    fresh = sqlite3.connect(tmp_path / "fresh.sqlite")
    for table in ("runs", "predictions"):
        assert columns(conn, table) == columns(fresh, table)
    assert conn.execute("SELECT name, student FROM runs WHERE id = ?", (kept,)).fetchone() == \
        ("before the migration", "")
    conn.close()
    fresh.close()
