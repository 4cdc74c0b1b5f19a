"""RunStore: every run and every finished epoch, in one SQLite file, and the run's files beside it.

Modelled on MLflow's tracking store: create a run, log an epoch, set its status, get it, search runs.
Each call commits at once, so a process killed mid-run loses at most the epoch in progress; WAL mode and
a busy timeout let the dashboard and the command line write at the same time. All SQL is parameterized;
sort columns come from a fixed list (see query.py).

Connections are per thread: a SQLite connection must stay in the thread that uses it, so one RunStore
shared by threads (the dashboard's sessions, the run manager's workers) gives each thread its own, opened
on first use. A thread whose work is done closes its own connection with ``close()`` (or runs its work
inside ``with store.thread_connection():``); otherwise the connection is closed when the thread ends and
its thread-local holder is freed (the set of holders is weak for that reason). ``close_all()`` closes
every thread's connection, for shutdown and tests, when no other thread is using the store.

Runs outlive the process that queued or ran them. Each run records its owner, ``host:pid:token`` (the
token is the process's start time, so a new process that gets the same pid is not mistaken for the old
one); a run left *running* by a dead owner becomes "interrupted" (resumable), one left *queued* stays
queued until a dashboard adopts it (``adopt_orphaned_queued``). ``requeue_run`` queues an ended run again
(resume, continue) and ``trim_epochs`` forgets the epochs after a checkpoint's. Each of these is one write
transaction whose conditions are in its ``WHERE`` clause, so two processes (or two clicks) cannot both
take the same run. The run's summary columns (last epoch, best epoch: see best.py) are written in one
place, ``_write_summary``, by ``log_epoch`` and ``trim_epochs`` alike.

Files: a run's final weights (``weights/<id>.npz``) and its checkpoints (``checkpoints/<id>/``) live in the
store's own folder beside the database, ``<database name>.files/`` (files.py: two stores in one folder never
share a file; an older store's files are moved in when it is opened). They are moved into place with
``attach_artifact``, which does so only while the run exists, inside a write transaction, so a run deleted
while it trains never leaves a file behind.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from experiments.config import RunConfig
from experiments.i18n import ngettext
from experiments.store.best import RUN_SUMMARY_COLUMNS, SUMMARY_METRICS, run_summary
from experiments.store.errors import QueueFullError, RunNotFoundError, StoreError, disk_is_full, explain
from experiments.store.files import RunShape, adopt_old_files, checkpoint_folder, files_folder, weights_file
from experiments.store.query import order_clause, where_clause
from experiments.store.records import (
    EPOCH_METRICS,
    MAX_MESSAGE,
    MAX_NAME,
    RunRecord,
    clean_name,
    clean_notes,
    clean_shown_text,
    clean_student,
    clean_tags,
    clean_text,
    parse_status,
    record_from_row,
)
from experiments.store.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION
from nn.status import RunStatus

DEFAULT_DB = Path(__file__).resolve().parents[2] / "results" / "runs.sqlite"
ORPHAN_NOTE = "queued by a process that has ended: the dashboard queues it again when it starts"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------- the owning process
def process_token(pid: int) -> str | None:
    """An identity for a live process that survives pid reuse (its start time), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"


def current_owner() -> str:
    """This process's owner string, ``host:pid:token``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_token(pid)}"


def owner_is_dead(owner: str) -> bool:
    """True if ``owner`` names a process on this machine that has ended (another machine's: False)."""
    try:
        host, pid, token = owner.rsplit(":", 2)
    except ValueError:
        return True
    if host != socket.gethostname():
        return False  # another machine's process: we cannot tell, so leave its runs alone
    return process_token(int(pid)) != token


# ---------------------------------------------------------------------------------------- one connection per thread
class _FullDiskConnection(sqlite3.Connection):
    """A read-only connection opened because the disk is full (see ``RunStore._open``): it reads the database
    file as it is (SQLite's ``immutable``: no WAL index to create, no locks), so lists, exports and pages
    still work. Kept only ``FULL_DISK_RECHECK`` seconds, then the store tries a normal connection again."""

    opened: float = 0.0


FULL_DISK_RECHECK = 2.0  # seconds a full-disk read-only connection is used before the disk is tried again


class _Held:
    """One thread's connection; referenced strongly only by that thread's local storage."""

    __slots__ = ("conn", "closed", "__weakref__")

    def __init__(self, conn: sqlite3.Connection):
        self.conn, self.closed = conn, False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.close()


class _ThreadConnections:
    """Per-thread connections made by ``opener`` (which must pass ``check_same_thread=False``, so that
    ``close_all`` may close a connection from another thread; each is still used by one thread only)."""

    def __init__(self, opener: Callable[[], sqlite3.Connection]):
        self._opener = opener
        self._local = threading.local()
        self._all: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()

    def mine(self) -> sqlite3.Connection:
        """The calling thread's connection, opened on first use and again after it was closed."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.closed:
            held = self._local.held = _Held(self._opener())
            with self._lock:
                self._all.add(held)
        return held.conn

    def close_mine(self) -> None:
        """Close the calling thread's connection, if it has one."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            held.close()
            self._local.held = None

    def close_all(self) -> None:
        """Close every thread's connection (when no other thread is using them: shutdown, tests)."""
        with self._lock:
            everyone = list(self._all)
        for held in everyone:
            held.close()
        self._local.held = None

    def open_count(self) -> int:
        """How many threads hold an open connection."""
        with self._lock:
            return sum(1 for held in self._all if not held.closed)


# ---------------------------------------------------------------------------------------- the store
class RunStore:
    """The run store on one SQLite file (``RESULTS_DB`` or ``results/runs.sqlite`` by default)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path or os.environ.get("RESULTS_DB") or DEFAULT_DB).expanduser()
        self._connections = _ThreadConnections(self._open)
        self._owner = current_owner()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the results folder {self.path.parent} ({exc.strerror}): "
                             f"choose another place with RESULTS_DB") from None
        self._migrate()
        try:  # housekeeping writes: on a full disk they wait for the next opening, and reads still work
            self.recover_interrupted()
            self._adopt_old_files()
        except StoreError:
            if not disk_is_full(self.path.parent):
                raise

    # ------------------------------------------------------------------ connections
    def _open(self) -> sqlite3.Connection:
        """A connection to the store, its first read tried at once. On a full disk a WAL database cannot be
        opened for reading when its index (``-shm``) must be created or grown: then, if no change waits in
        the WAL file, the file is read as it is on a read-only connection (``_FullDiskConnection``)."""
        conn = None
        try:  # check_same_thread=False only so close_all() may close it; it is used by one thread alone
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.row_factory = sqlite3.Row
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            fallback = self._open_read_only_on_full_disk()
            if fallback is None:
                raise self._explain(exc) from None
            return fallback
        return conn

    def _open_read_only_on_full_disk(self) -> sqlite3.Connection | None:
        """The full-disk read-only connection, or None when the disk is not full, the file does not exist or
        its WAL holds changes not yet in the file (reading the file alone would miss them)."""
        wal = self.path.with_name(self.path.name + "-wal")
        if not disk_is_full(self.path.parent) or not self.path.is_file() or (wal.is_file() and wal.stat().st_size):
            return None
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None,
                                   check_same_thread=False, factory=_FullDiskConnection)
            conn.row_factory = sqlite3.Row
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error:
            return None
        conn.opened = time.monotonic()
        return conn

    def _conn(self) -> sqlite3.Connection:
        """The calling thread's connection, opened on first use (and again after ``close``); a full-disk
        read-only one is replaced after ``FULL_DISK_RECHECK`` seconds, so freed space is noticed."""
        conn = self._connections.mine()
        if isinstance(conn, _FullDiskConnection) and time.monotonic() - conn.opened > FULL_DISK_RECHECK:
            self._connections.close_mine()
            conn = self._connections.mine()
        return conn

    def close(self) -> None:
        """Close the calling thread's connection (call it when the thread's work with the store ends).
        The store stays usable: the next call opens a new connection."""
        self._connections.close_mine()

    def close_all(self) -> None:
        """Close every thread's connection: at shutdown or in tests, when no thread is using the store."""
        self._connections.close_all()

    def open_connections(self) -> int:
        """How many threads hold an open connection to this store (for tests and diagnostics)."""
        return self._connections.open_count()

    @contextlib.contextmanager
    def thread_connection(self) -> Iterator[RunStore]:
        """``with store.thread_connection(): ...`` closes this thread's connection when the block ends,
        e.g. around one worker thread's run."""
        try:
            yield self
        finally:
            self.close()

    # ------------------------------------------------------------------ SQL and schema
    def _explain(self, exc: sqlite3.Error) -> StoreError:
        return explain(exc, self.path)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One statement with its parameters (never formatted into ``sql``) on this thread's connection, a
        database error raised as a ``StoreError`` that says what happened. Public for the package's modules
        that keep their own tables (``dynamics``, ``predictions``)."""
        try:
            return self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise self._explain(exc) from None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: taken at once (BEGIN IMMEDIATE), committed whole or rolled back."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._explain(exc) from None
            raise

    def transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Several parameterized statements in one write transaction, all applied or none (public, like
        ``execute``, for the package's modules that keep their own tables)."""
        with self._writing() as conn:
            for sql, params in statements:
                conn.execute(sql, params)

    def _migrate(self) -> None:
        # version and table count read in one statement, so one snapshot: another process may be
        # creating this very file at the same moment
        version, tables = self.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), "
            "(SELECT count(*) FROM sqlite_master WHERE type = 'table')").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version of this app (schema {version}; this "
                             f"one reads up to {SCHEMA_VERSION}): update the app, or choose another file with "
                             f"RESULTS_DB. The file was not changed.")
        if version == 0 and tables:  # checked before WAL mode is set, which would rewrite a foreign file's header
            raise StoreError(f"{self.path} is an SQLite file but not a run store: choose another file with RESULTS_DB")
        with contextlib.suppress(StoreError):  # e.g. a read-only folder: reads work, writes will say why they fail
            self.execute("PRAGMA journal_mode = WAL")
        if version == 0:
            self._upgrade(0, SCHEMA, SCHEMA_VERSION)
            return
        for v in range(version, SCHEMA_VERSION):
            self._upgrade(v, MIGRATIONS[v], v + 1)

    def _upgrade(self, from_version: int, script: str, to_version: int) -> None:
        """Run one schema step in a write transaction, unless another process got there first (two
        processes opening a new file at once must not both create the tables)."""
        with self._writing() as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] == from_version:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(to_version)}")

    # ------------------------------------------------------------------ writing
    def create_run(self, config: RunConfig, name: str | None = None, group_id: str | None = None,
                   source: str = "", status: RunStatus | str = RunStatus.QUEUED, *,
                   tags: Iterable[str] | str = (), max_queued: int | None = None, student: str = "") -> int:
        """Store a new run (queued by default) with its name and tags in one transaction; return its id.

        ``max_queued``: refuse (QueueFullError, nothing stored) when this process already has that many
        queued runs of this ``student`` (a class of 30 shares one server: each has their own cap); counted and
        inserted in the same write transaction, so concurrent callers cannot pass the cap together.
        ``student``: the classroom name the run belongs to (checked by clean_student).
        """
        word = parse_status(status).value
        name = clean_shown_text(name, MAX_NAME, "run name", strip=True) if name else ""
        tag_list = json.dumps(clean_tags(tags))
        student = clean_student(student) if student else ""
        with self._writing() as conn:
            if max_queued is not None:
                waiting = conn.execute("SELECT count(*) FROM runs WHERE owner = ? AND status = ? AND student = ?",
                                       (self._owner, RunStatus.QUEUED.value, student)).fetchone()[0]
                if waiting >= max_queued:
                    raise QueueFullError((ngettext("{n} run of yours is already waiting: stop it or wait for it "
                                                   "to finish", "{n} runs of yours are already waiting: stop some "
                                                   "or wait for them to finish", max_queued) if student else
                                          ngettext("{n} run is already waiting: stop it or wait for it to finish",
                                                   "{n} runs are already waiting: stop some or wait for them to "
                                                   "finish", max_queued)).format(n=max_queued))
            cur = conn.execute(
                "INSERT INTO runs (name, created, config, status, tags, group_id, source, owner, student) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, _now(), config.to_json(), word, tag_list, group_id, source, self._owner, student))
            run_id = int(cur.lastrowid or 0)
            if not name:
                conn.execute("UPDATE runs SET name = ? WHERE id = ?", (f"run {run_id}", run_id))
        return run_id

    def log_epoch(self, run_id: int, logs: dict[str, Any]) -> None:
        """Store one finished epoch and, in the same transaction, the run's summary: the last epoch's metrics
        and its best epoch so far (see best.py). RunNotFoundError if the run is gone (e.g. deleted while it
        trained)."""
        values = [logs.get(k) for k in EPOCH_METRICS]
        with self._writing() as conn:
            run = conn.execute("SELECT config FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None:
                raise RunNotFoundError(f"run store {self.path}: there is no run {run_id} (deleted?); "
                                       f"epoch {logs.get('epoch')} was not stored")
            conn.execute(f"INSERT OR REPLACE INTO epochs (run_id, epoch, {', '.join(EPOCH_METRICS)}) "
                         f"VALUES (?, ?, {', '.join('?' * len(EPOCH_METRICS))})", (run_id, int(logs["epoch"]), *values))
            self._write_summary(conn, run_id, run["config"], logs)

    @staticmethod
    def _write_summary(conn: sqlite3.Connection, run_id: int, config_json: str,
                       last: Mapping[str, Any] | None) -> None:
        """Set the run's summary columns from its stored epochs, inside the caller's write transaction: the
        metrics of ``last`` (the epoch just logged; None: the last one stored), the count of epochs, the best
        epoch by validation (best.py) and the highest test accuracy of any epoch."""
        history = conn.execute(f"SELECT epoch, elapsed, {', '.join(SUMMARY_METRICS)} FROM epochs "
                               f"WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
        if last is None:
            last = dict(history[-1]) if history else {}
        conn.execute(f"UPDATE runs SET ({', '.join(RUN_SUMMARY_COLUMNS)}) = "
                     f"({', '.join('?' * len(RUN_SUMMARY_COLUMNS))}), "
                     f"best_test_acc = (SELECT max(test_acc) FROM epochs WHERE run_id = ?) WHERE id = ?",
                     (*run_summary(last, history, config_json), run_id, run_id))

    def set_status(self, run_id: int, status: RunStatus | str, message: str = "") -> bool:
        """Set a run's status and message; False if there is no such run (e.g. deleted meanwhile)."""
        word = parse_status(status).value
        cur = self.execute("UPDATE runs SET status = ?, message = ?, owner = ? WHERE id = ?",
                            (word, clean_text(message, MAX_MESSAGE, "message"), self._owner, run_id))
        return cur.rowcount > 0

    def rename(self, run_id: int, name: str) -> None:
        self.execute("UPDATE runs SET name = ? WHERE id = ?", (clean_name(name), run_id))

    def set_notes(self, run_id: int, notes: str) -> None:
        self.execute("UPDATE runs SET notes = ? WHERE id = ?", (clean_notes(notes), run_id))

    def set_tags(self, run_id: int, tags: Iterable[str] | str) -> None:
        """Replace a run's tags; text is split at commas; duplicates and blanks are dropped."""
        self.execute("UPDATE runs SET tags = ? WHERE id = ?", (json.dumps(clean_tags(tags)), run_id))

    def edit_run(self, run_id: int, name: str, tags: Iterable[str] | str, notes: str) -> None:
        """Name, tags and notes at once: all are checked first, so a refused value changes nothing."""
        values = (clean_name(name), json.dumps(clean_tags(tags)), clean_notes(notes))
        self.get_run(run_id)  # "there is no run N" rather than a silent no-op
        self.transaction([("UPDATE runs SET name = ?, tags = ?, notes = ? WHERE id = ?", (*values, run_id))])

    def delete_run(self, run_id: int) -> None:
        """Delete a run and its epochs (one transaction), then its weights and checkpoints.

        Files go after the rows: from then on ``attach_artifact`` refuses this run, so no file can
        arrive after the removal below.
        """
        self.transaction([("DELETE FROM epochs WHERE run_id = ?", (run_id,)),
                           ("DELETE FROM runs WHERE id = ?", (run_id,))])
        try:
            _remove(self.weights_path(run_id))
            _remove(self.checkpoint_dir(run_id))
        except OSError as exc:
            raise StoreError(f"run {run_id} was deleted, but its files could not be removed "
                             f"({exc.strerror}: {exc.filename})") from None

    # ------------------------------------------------------------------ runs that outlive a process
    def _dead_owned(self, conn: sqlite3.Connection | None, status: RunStatus) -> list[sqlite3.Row]:
        """Rows (id, owner, epochs_done) of runs with ``status`` whose owner is a process that has ended."""
        sql, params = "SELECT id, owner, epochs_done FROM runs WHERE status = ? ORDER BY id", (status.value,)
        rows = (conn.execute(sql, params) if conn is not None else self.execute(sql, params)).fetchall()
        return [r for r in rows if r["owner"] != self._owner and owner_is_dead(r["owner"])]

    def recover_interrupted(self) -> list[int]:
        """Mark runs left running by a process that has died as "interrupted" (epochs and checkpoint kept,
        so they can be resumed); return their ids. Queued ones of dead processes stay queued, noted so."""
        recovered = []
        for row in self._dead_owned(None, RunStatus.RUNNING):
            cur = self.execute(
                "UPDATE runs SET status = ?, message = ? WHERE id = ? AND status = ? AND owner = ?",
                (RunStatus.INTERRUPTED.value, f"the process running it ended after {row['epochs_done']} epoch(s); "
                 f"the finished epochs are kept and it can be resumed", row["id"], RunStatus.RUNNING.value,
                 row["owner"]))
            if cur.rowcount:
                recovered.append(int(row["id"]))
        for row in self._dead_owned(None, RunStatus.QUEUED):
            self.execute("UPDATE runs SET message = ? WHERE id = ? AND status = ? AND owner = ? AND message = ''",
                         (ORPHAN_NOTE, row["id"], RunStatus.QUEUED.value, row["owner"]))
        return recovered

    def orphaned_interrupted(self) -> list[int]:
        """Runs left "interrupted" whose process has ended (it died while they trained), in id order: the
        dashboard resumes them when it starts (``RunManager.resume_interrupted``)."""
        return [int(row["id"]) for row in self._dead_owned(None, RunStatus.INTERRUPTED)]

    def adopt_orphaned_queued(self) -> list[int]:
        """Take over every queued run whose process has ended (re-owned by this one, its note cleared) and
        return their ids in the order they were queued. One transaction: two processes starting at once
        never both take a run."""
        with self._writing() as conn:
            adopted = []
            for row in self._dead_owned(conn, RunStatus.QUEUED):
                cur = conn.execute("UPDATE runs SET owner = ?, message = '' WHERE id = ? AND status = ? AND owner = ?",
                                   (self._owner, row["id"], RunStatus.QUEUED.value, row["owner"]))
                if cur.rowcount:
                    adopted.append(int(row["id"]))
        return adopted

    def requeue_run(self, run_id: int, expected: RunStatus, config: RunConfig | None = None) -> bool:
        """Queue an ended run again for this process, if its status is still ``expected`` (else False and
        nothing changes); with ``config``, its stored settings become that (continue: more epochs)."""
        sql = "UPDATE runs SET status = ?, message = '', owner = ?"
        params: list[Any] = [RunStatus.QUEUED.value, self._owner]
        if config is not None:
            sql += ", config = ?"
            params.append(config.to_json())
        with self._writing() as conn:
            cur = conn.execute(sql + " WHERE id = ? AND status = ?", (*params, run_id, RunStatus(expected).value))
            return cur.rowcount > 0

    def trim_epochs(self, run_id: int, after_epoch: int) -> int:
        """Delete the run's stored epochs after ``after_epoch`` (a checkpoint's, which the resumed run trains
        again) and bring its summary back to the epochs kept; returns how many were deleted."""
        with self._writing() as conn:
            cur = conn.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, int(after_epoch)))
            run = conn.execute("SELECT config FROM runs WHERE id = ?", (run_id,)).fetchone()
            if cur.rowcount and run is not None:
                self._write_summary(conn, run_id, run["config"], None)
            return cur.rowcount

    # ------------------------------------------------------------------ the run's files
    @property
    def files_dir(self) -> Path:
        """The folder of this store's own files (``results/runs.sqlite.files/``; see files.py)."""
        return files_folder(self.path)

    def weights_path(self, run_id: int) -> Path:
        """Where the run's final weights are kept (``results/runs.sqlite.files/weights/<id>.npz``)."""
        return weights_file(self.path, run_id)

    def checkpoint_dir(self, run_id: int) -> Path:
        """The folder of the run's checkpoints (``results/runs.sqlite.files/checkpoints/<id>/``); delete_run
        removes it."""
        return checkpoint_folder(self.path, run_id)

    def _adopt_old_files(self) -> None:
        """Move this store's files from the layout before each store had its own folder (files.py)."""
        if not (self.path.parent / "weights").is_dir() and not (self.path.parent / "checkpoints").is_dir():
            return
        adopt_old_files(self.path, [RunShape(run.id, run.config.sizes()) for run in self.search_runs()
                                    if run.config is not None])

    def temp_path_for(self, final_path: str | os.PathLike[str]) -> Path:
        """A fresh hidden path beside ``final_path`` (same folder, created; same suffix, as ``np.savez``
        wants), to write an artifact to before ``attach_artifact`` moves it into place."""
        final = Path(final_path)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:12]}.tmp{final.suffix}")

    def attach_artifact(self, run_id: int, tmp_path: str | os.PathLike[str],
                        final_path: str | os.PathLike[str]) -> bool:
        """Move a finished file (or folder) from ``tmp_path`` to ``final_path`` if the run still exists.

        The check and the rename happen inside one write transaction, and ``delete_run`` deletes the rows
        in its own before removing files, so the two cannot interleave: either the artifact is in place
        before the deletion starts (and is removed by it), or the run is gone, ``tmp_path`` is removed
        and this returns False. ``final_path`` is replaced if it is a file.
        """
        tmp, final = Path(tmp_path), Path(final_path)
        try:
            with self._writing() as conn:
                exists = conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None
                if exists:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, final)
        except OSError as exc:
            _discard(tmp)
            raise StoreError(f"cannot move {tmp} to {final} ({exc.strerror})") from None
        except BaseException:
            _discard(tmp)
            raise
        if not exists:
            _discard(tmp)
        return exists

    # ------------------------------------------------------------------ reading
    def get_run(self, run_id: int) -> RunRecord:
        row = self.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"there is no run {run_id}")
        return record_from_row(row)

    def get_epochs(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.execute("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
        return [dict(r) for r in rows]

    def get_epochs_of(self, run_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Every epoch of the given runs, ordered by run id and epoch (one query, for frames and exports)."""
        ids = [int(i) for i in run_ids]
        if not ids:
            return []
        rows = self.execute(f"SELECT * FROM epochs WHERE run_id IN ({', '.join('?' * len(ids))}) "
                             f"ORDER BY run_id, epoch", ids).fetchall()
        return [dict(r) for r in rows]

    def search_runs(self, status: str | Sequence[str] | None = None, text: str | None = None,
                    tag: str | None = None, group_id: str | None = None, order_by: str = "created",
                    descending: bool = True, limit: int | None = None,
                    ids: Sequence[int] | None = None, student: str | None = None) -> list[RunRecord]:
        """Runs matching every given filter, newest first unless ``order_by``/``descending`` say otherwise.

        ``text`` matches settings written as ``key=value`` (``lr=0.1``, ``batch=64``, ``optimizer=adam``)
        and any other words as a case-insensitive substring of the name, notes, message, tags or settings.
        ``student``: only that student's runs (classroom "mine").
        """
        where, params = where_clause(status=status, text=text, tag=tag, group_id=group_id, ids=ids,
                                           student=student)
        sql = "SELECT * FROM runs" + where + order_clause(order_by, descending)
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [record_from_row(r) for r in self.execute(sql, params).fetchall()]

    def count_runs(self) -> int:
        return int(self.execute("SELECT count(*) FROM runs").fetchone()[0])


def _remove(path: Path) -> None:
    """Remove a file or a folder tree; nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _discard(path: Path) -> None:
    """Remove a temporary artifact that will not be attached; a failure leaves only a hidden temp file."""
    with contextlib.suppress(OSError):
        _remove(path)
