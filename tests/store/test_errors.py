"""SQLite errors are worded from their result code (sqlite_errorname), never from their English text."""
import sqlite3

import pytest

from experiments.config import RunConfig
from experiments.store import StoreError
from experiments.store.errors import SqliteProblem, classify, explain


def sqlite_error(name: str, text: str, kind: type = sqlite3.OperationalError) -> sqlite3.Error:
    """An exception as the sqlite3 module raises it: the result code's name in ``sqlite_errorname``."""
    exc = kind(text)
    exc.sqlite_errorname = name
    return exc


@pytest.mark.parametrize("name,text,problem,wording", [
    ("SQLITE_FULL", "database or disk is full", SqliteProblem.FULL, "is full"),
    ("SQLITE_IOERR", "disk I/O error", SqliteProblem.IO, "I/O error"),
    ("SQLITE_IOERR_WRITE", "disk I/O error", SqliteProblem.IO, "I/O error"),
    ("SQLITE_IOERR_SHORT_READ", "disk I/O error", SqliteProblem.IO, "I/O error"),
    ("SQLITE_READONLY", "attempt to write a readonly database", SqliteProblem.PERMISSION, "permissions"),
    ("SQLITE_READONLY_DIRECTORY", "attempt to write a readonly database", SqliteProblem.PERMISSION, "permissions"),
    ("SQLITE_CANTOPEN", "unable to open database file", SqliteProblem.PERMISSION, "permissions"),
    ("SQLITE_PERM", "access permission denied", SqliteProblem.PERMISSION, "permissions"),
    ("SQLITE_CORRUPT", "database disk image is malformed", SqliteProblem.DAMAGED, "damaged"),
    ("SQLITE_NOTADB", "file is not a database", SqliteProblem.DAMAGED, "damaged"),
    ("SQLITE_BUSY", "database is locked", SqliteProblem.BUSY, "locked by another program"),
    ("SQLITE_LOCKED_SHAREDCACHE", "database table is locked", SqliteProblem.BUSY, "locked by another program"),
    ("SQLITE_CONSTRAINT_FOREIGNKEY", "FOREIGN KEY constraint failed", SqliteProblem.OTHER, "run store"),
])
def test_each_result_code_gets_its_own_message(tmp_path, name, text, problem, wording):
    exc = sqlite_error(name, text)
    assert classify(exc) is problem
    message = str(explain(exc, tmp_path / "runs.sqlite"))
    assert wording in message and "\n" not in message


def test_a_disk_io_error_is_not_reported_as_a_full_disk(tmp_path):
    io_error = str(explain(sqlite_error("SQLITE_IOERR_WRITE", "disk I/O error"), tmp_path / "runs.sqlite"))
    full = str(explain(sqlite_error("SQLITE_FULL", "database or disk is full"), tmp_path / "runs.sqlite"))
    assert "full" not in io_error and "free some space" not in io_error
    assert "I/O error" in io_error and "free some space" in full


def test_text_alone_decides_nothing(tmp_path):
    # words that used to steer the message ("disk", "full", "readonly") without a result code: a plain report
    for text in ("disk full readonly unable to open", "not a database"):
        message = str(explain(sqlite3.OperationalError(text), tmp_path / "x.sqlite"))
        assert message.startswith("run store ") and text in message


def test_a_real_full_disk_is_classified_by_its_code(store, full_disk):
    run_id = store.create_run(RunConfig())
    conn = store._conn()
    full_disk.fill(conn)
    with pytest.raises(sqlite3.OperationalError) as raw:  # what the store gets from sqlite3
        for epoch in range(1, 5000):
            conn.execute("INSERT INTO epochs (run_id, epoch, train_loss) VALUES (?, ?, ?)", (run_id, epoch, 1.0))
    assert raw.value.sqlite_errorname == "SQLITE_FULL"
    with pytest.raises(StoreError, match="is full"):
        store.set_notes(run_id, "n" * 9000)


def test_a_real_read_only_store_is_a_permission_problem(store):
    store._conn().execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="cannot write the run store .*permissions"):
        store.create_run(RunConfig())
