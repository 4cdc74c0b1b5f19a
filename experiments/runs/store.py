"""RunStore: every run and every finished epoch, in one SQLite file.

Modelled on MLflow's tracking store: create a run, log an epoch, set its status, get it, search runs.
Each call commits at once, so a process killed mid-run loses at most the epoch in progress; WAL mode and
a busy timeout let the dashboard and the command line write at the same time. Connections are per
thread (an sqlite3 connection stays in the thread that opened it), so one RunStore may be shared by
threads. All SQL is parameterized; sort columns come from a fixed list.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from experiments.config import ConfigError, RunConfig
from nn.status import RunStatus

SCHEMA_VERSION = 2
STATUSES = tuple(RunStatus)
# full_train_*: one pass over the whole training set after the epoch (only on the epochs a run asked for;
# train_acc is the running accuracy over the epoch's batches while the weights were still changing).
EPOCH_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "seconds", "elapsed", "lr",
                 "majority_fraction", "dead_fraction", "full_train_loss", "full_train_acc")
SORTABLE = {"id": "id", "name": "name COLLATE NOCASE", "created": "created", "status": "status",
            "epochs_done": "epochs_done", "test_acc": "test_acc", "train_acc": "train_acc",
            "test_loss": "test_loss", "train_loss": "train_loss", "best_test_acc": "best_test_acc",
            "seconds": "seconds"}
MAX_NAME = 200
MAX_NOTES = 10_000
MAX_TAGS = 20
MAX_TAG = 40
DEFAULT_DB = Path(__file__).resolve().parents[2] / "results" / "runs.sqlite"

SCHEMA = """
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    created       TEXT NOT NULL,
    config        TEXT NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '[]',
    group_id      TEXT,
    source        TEXT NOT NULL DEFAULT '',
    owner         TEXT NOT NULL DEFAULT '',
    epochs_done   INTEGER NOT NULL DEFAULT 0,
    train_loss    REAL, train_acc REAL, test_loss REAL, test_acc REAL,
    best_test_acc REAL,
    seconds       REAL
);
CREATE INDEX runs_group ON runs(group_id);
CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch  INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, seconds REAL, elapsed REAL,
    lr REAL, majority_fraction REAL, dead_fraction REAL, full_train_loss REAL, full_train_acc REAL,
    PRIMARY KEY (run_id, epoch)
);
"""
MIGRATIONS: dict[int, str] = {  # from version N to N+1: SQL to run; add an entry with each schema change
    1: "ALTER TABLE epochs ADD COLUMN full_train_loss REAL; ALTER TABLE epochs ADD COLUMN full_train_acc REAL",
}


class StoreError(Exception):
    """A problem with the run store, worded for the user."""


@dataclass
class RunRecord:
    """One stored run: its settings, state and summary metrics (those of its last finished epoch)."""

    id: int
    name: str
    created: str
    config: RunConfig
    status: str
    message: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    group_id: str | None = None
    source: str = ""
    epochs_done: int = 0
    train_loss: float | None = None
    train_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    best_test_acc: float | None = None
    seconds: float | None = None

    def flat(self) -> dict[str, Any]:
        """A flat dict for tables and CSV: run fields plus one column per setting."""
        d = asdict(self)
        d.pop("config")
        d["tags"] = ", ".join(self.tags)
        settings = self.config.to_dict()
        settings["hidden"] = ",".join(map(str, self.config.hidden))
        return {**d, **settings}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _process_token(pid: int) -> str | None:
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


def _owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_token(pid)}"


def _owner_is_dead(owner: str) -> bool:
    try:
        host, pid, token = owner.rsplit(":", 2)
    except ValueError:
        return True
    if host != socket.gethostname():
        return False  # another machine's process: we cannot tell, so leave its runs alone
    return _process_token(int(pid)) != token


class RunStore:
    """The run store on one SQLite file (``RESULTS_DB`` or ``results/runs.sqlite`` by default)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path or os.environ.get("RESULTS_DB") or DEFAULT_DB).expanduser()
        self._local = threading.local()
        self._owner = _owner()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the results folder {self.path.parent} ({exc.strerror}): "
                             f"choose another place with RESULTS_DB") from None
        self._migrate()
        self.recover_interrupted()

    # ------------------------------------------------------------------ connection and schema
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA busy_timeout = 30000")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.row_factory = sqlite3.Row
            except sqlite3.Error as exc:
                raise self._explain(exc) from None
            self._local.conn = conn
        return conn

    def _explain(self, exc: Exception) -> StoreError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            return StoreError(f"{self.path} is damaged or is not a run store: move it aside (its runs cannot "
                              f"be read) or choose another file with RESULTS_DB")
        if "readonly" in text or "unable to open" in text:
            return StoreError(f"cannot write the run store {self.path} ({text}): check the folder's "
                              f"permissions or choose another file with RESULTS_DB")
        if "disk" in text or "full" in text:
            return StoreError(f"the disk holding {self.path} is full ({text}): free some space; "
                              f"the runs already stored are intact")
        return StoreError(f"run store {self.path}: {text}")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
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

    def _transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        with self._writing() as conn:
            for sql, params in statements:
                conn.execute(sql, params)

    def _migrate(self) -> None:
        # version and table count read in one statement, so one snapshot: another process may be
        # creating this very file at the same moment
        version, tables = self._execute(
            "SELECT (SELECT user_version FROM pragma_user_version), "
            "(SELECT count(*) FROM sqlite_master WHERE type = 'table')").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version of this app (schema {version}; this "
                             f"one reads up to {SCHEMA_VERSION}): update the app, or choose another file with "
                             f"RESULTS_DB. The file was not changed.")
        if version == 0:  # checked before WAL mode is set, which would rewrite a foreign file's header
            if tables:
                raise StoreError(f"{self.path} is an SQLite file but not a run store: choose another file with RESULTS_DB")
        try:
            self._execute("PRAGMA journal_mode = WAL")
        except StoreError:
            pass  # e.g. a read-only folder: reads still work, writes will say why they fail
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

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ writing
    def create_run(self, config: RunConfig, name: str | None = None, group_id: str | None = None,
                   source: str = "", status: str = "queued", max_queued: int | None = None) -> int:
        """Store a new run (queued by default) and return its id (TEMPORARY: replaced by the store branch)."""
        _check_status(status)
        name = _clean_text(name, MAX_NAME, "run name") if name else None
        with self._writing() as conn:
            if max_queued is not None:
                waiting = conn.execute("SELECT count(*) FROM runs WHERE status = 'queued' AND owner = ?",
                                       (self._owner,)).fetchone()[0]
                if waiting >= max_queued:
                    raise StoreError(f"{max_queued} runs are already waiting: stop some or wait for them to finish")
            cur = conn.execute(
                "INSERT INTO runs (name, created, config, status, group_id, source, owner) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name or "", _now(), config.to_json(), status, group_id, source, self._owner))
            run_id = int(cur.lastrowid or 0)
            if not name:
                conn.execute("UPDATE runs SET name = ? WHERE id = ?", (f"run {run_id}", run_id))
        return run_id

    def attach_artifact(self, run_id: int, tmp_path: Path, final_path: Path) -> bool:
        """Move a written file into place only while the run exists (TEMPORARY: replaced by the store branch)."""
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                return False
            os.replace(tmp_path, final_path)
        return True

    def log_epoch(self, run_id: int, logs: dict[str, Any]) -> None:
        """Store one finished epoch (committed at once) and update the run's summary metrics."""
        values = [logs.get(k) for k in EPOCH_METRICS]
        self._transaction([
            (f"INSERT OR REPLACE INTO epochs (run_id, epoch, {', '.join(EPOCH_METRICS)}) "
             f"VALUES (?, ?, {', '.join('?' * len(EPOCH_METRICS))})", (run_id, int(logs["epoch"]), *values)),
            ("UPDATE runs SET epochs_done = (SELECT count(*) FROM epochs WHERE run_id = ?), "
             "train_loss = ?, train_acc = ?, test_loss = ?, test_acc = ?, seconds = ?, "
             "best_test_acc = (SELECT max(test_acc) FROM epochs WHERE run_id = ?) WHERE id = ?",
             (run_id, logs.get("train_loss"), logs.get("train_acc"), logs.get("test_loss"), logs.get("test_acc"),
              logs.get("elapsed"), run_id, run_id)),
        ])

    def set_status(self, run_id: int, status: str, message: str = "") -> None:
        _check_status(status)
        self._execute("UPDATE runs SET status = ?, message = ?, owner = ? WHERE id = ?",
                      (status, _clean_text(message, 2000, "message"), self._owner, run_id))

    def rename(self, run_id: int, name: str) -> None:
        self._execute("UPDATE runs SET name = ? WHERE id = ?", (_clean_name(name), run_id))

    def set_notes(self, run_id: int, notes: str) -> None:
        self._execute("UPDATE runs SET notes = ? WHERE id = ?", (_clean_text(notes, MAX_NOTES, "notes"), run_id))

    def set_tags(self, run_id: int, tags: Iterable[str] | str) -> None:
        """Replace a run's tags; text is split at commas; duplicates and blanks are dropped."""
        self._execute("UPDATE runs SET tags = ? WHERE id = ?", (json.dumps(_clean_tags(tags)), run_id))

    def edit_run(self, run_id: int, name: str, tags: Iterable[str] | str, notes: str) -> None:
        """Name, tags and notes at once: all are checked first, so a refused value changes nothing."""
        values = (_clean_name(name), json.dumps(_clean_tags(tags)), _clean_text(notes, MAX_NOTES, "notes"))
        self.get_run(run_id)  # "there is no run N" rather than a silent no-op
        self._transaction([("UPDATE runs SET name = ?, tags = ?, notes = ? WHERE id = ?", (*values, run_id))])

    def delete_run(self, run_id: int) -> None:
        """Delete a run, its epochs and its saved weights."""
        self._transaction([("DELETE FROM epochs WHERE run_id = ?", (run_id,)),
                           ("DELETE FROM runs WHERE id = ?", (run_id,))])
        self.weights_path(run_id).unlink(missing_ok=True)

    def recover_interrupted(self) -> list[int]:
        """Mark runs left queued or running by a process that has died as "interrupted" (epochs kept)."""
        rows = self._execute("SELECT id, owner, epochs_done FROM runs WHERE status IN ('queued', 'running')").fetchall()
        dead = [(r["id"], r["epochs_done"]) for r in rows if r["owner"] != self._owner and _owner_is_dead(r["owner"])]
        for run_id, done in dead:
            self._execute("UPDATE runs SET status = 'interrupted', message = ? WHERE id = ? AND status IN ('queued', 'running')",
                          (f"the process running it ended after {done} epoch(s); the finished epochs are kept", run_id))
        return [run_id for run_id, _ in dead]

    # ------------------------------------------------------------------ reading
    def get_run(self, run_id: int) -> RunRecord:
        row = self._execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"there is no run {run_id}")
        return _record(row)

    def get_epochs(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._execute("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
        return [dict(r) for r in rows]

    def search_runs(self, status: str | Sequence[str] | None = None, text: str | None = None,
                    tag: str | None = None, group_id: str | None = None, order_by: str = "created",
                    descending: bool = True, limit: int | None = None, ids: Sequence[int] | None = None) -> list[RunRecord]:
        """Runs matching every given filter, newest first unless ``order_by``/``descending`` say otherwise.

        ``text`` matches the name, notes, message or settings (case-insensitive substring).
        """
        where, params = [], []
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            for s in statuses:
                _check_status(s)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        if text:
            text = _clean_text(text, MAX_NOTES, "search text")  # e.g. undecodable bytes from a command line
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(name LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\' OR message LIKE ? ESCAPE '\\' "
                         "OR config LIKE ? ESCAPE '\\' OR tags LIKE ? ESCAPE '\\')")
            params += [like] * 5
        if tag:
            tag = _clean_text(tag, MAX_NOTES, "tag")
            where.append("EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = ?)")
            params.append(tag)
        if group_id:
            where.append("group_id = ?")
            params.append(group_id)
        if ids is not None:
            where.append(f"id IN ({', '.join('?' * len(ids))})" if ids else "0")
            params += [int(i) for i in ids]
        if order_by not in SORTABLE:
            raise StoreError(f"cannot sort by {order_by!r}; choose one of {', '.join(SORTABLE)}")
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {SORTABLE[order_by]} {'DESC' if descending else 'ASC'}, id {'DESC' if descending else 'ASC'}"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_record(r) for r in self._execute(sql, params).fetchall()]

    def epochs_frame(self, run_ids: Sequence[int]):
        """One row per (run, epoch) with every metric, for plotting: a pandas DataFrame."""
        import pandas as pd

        ids = [int(i) for i in run_ids]
        if not ids:
            return pd.DataFrame(columns=["run_id", "epoch", *EPOCH_METRICS])
        rows = self._execute(f"SELECT * FROM epochs WHERE run_id IN ({', '.join('?' * len(ids))}) "
                             f"ORDER BY run_id, epoch", ids).fetchall()
        return pd.DataFrame([dict(r) for r in rows], columns=["run_id", "epoch", *EPOCH_METRICS])

    def epochs_long(self, run_ids: Sequence[int], metrics: Sequence[str] = EPOCH_METRICS):
        """Long format (run_id, epoch, elapsed, metric, value) of many runs' epochs, for plotting."""
        wide = self.epochs_frame(run_ids)
        return wide.melt(id_vars=["run_id", "epoch", "elapsed"], value_vars=list(metrics),
                         var_name="metric", value_name="value")

    def count_runs(self) -> int:
        return int(self._execute("SELECT count(*) FROM runs").fetchone()[0])

    def weights_path(self, run_id: int) -> Path:
        """Where the run's final weights are kept (``results/weights/<id>.npz``)."""
        return self.path.parent / "weights" / f"{int(run_id)}.npz"

    # ------------------------------------------------------------------ export
    def export_csv(self, run_ids: Sequence[int] | None = None, epochs: bool = False) -> str:
        """CSV text: one row per run (settings and final metrics), or per epoch if ``epochs``."""
        runs = self.search_runs(ids=run_ids, order_by="id", descending=False) if run_ids is not None \
            else self.search_runs(order_by="id", descending=False)
        out = io.StringIO()
        if epochs:
            writer = csv.DictWriter(out, fieldnames=["run_id", "name", "epoch", *EPOCH_METRICS])
            writer.writeheader()
            for run in runs:
                for e in self.get_epochs(run.id):
                    writer.writerow({"run_id": run.id, "name": _csv_safe(run.name),
                                     **{k: e[k] for k in ("epoch", *EPOCH_METRICS)}})
        else:
            rows = [{k: _csv_safe(v) for k, v in run.flat().items()} for run in runs]
            fieldnames = list(rows[0]) if rows else list(RunRecord.__dataclass_fields__)
            writer = csv.DictWriter(out, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue()

    def export_json(self, run_ids: Sequence[int] | None = None) -> str:
        """JSON text: every run with its settings and all its epochs."""
        runs = self.search_runs(ids=run_ids, order_by="id", descending=False) if run_ids is not None \
            else self.search_runs(order_by="id", descending=False)
        return json.dumps([{**asdict(r), "config": r.config.to_dict(), "epochs": self.get_epochs(r.id)}
                           for r in runs], indent=1)


def _record(row: sqlite3.Row) -> RunRecord:
    d = dict(row)
    d.pop("owner", None)
    try:
        d["config"] = RunConfig.from_json(d["config"])
    except ConfigError:
        d["config"] = RunConfig()  # a config from a future version; the run stays listable
    d["tags"] = json.loads(d["tags"] or "[]")
    return RunRecord(**d)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise StoreError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")


def _clean_text(value: Any, limit: int, what: str) -> str:
    """User text as stored: valid Unicode, no NUL characters, at most ``limit`` characters."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).replace("\x00", "")
    try:  # undecodable bytes of a command line (surrogateescape) become U+FFFD, as bytes do above
        text = text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    except UnicodeEncodeError:  # other lone surrogates
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    if len(text) > limit:
        raise StoreError(f"the {what} is too long ({len(text)} characters; at most {limit})")
    return text


def _clean_name(name: Any) -> str:
    name = _clean_text(name, MAX_NAME, "run name").strip()
    if not name:
        raise StoreError("a run name cannot be empty")
    return name


def _clean_tags(tags: Iterable[str] | str) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    clean = list(dict.fromkeys(t for t in (_clean_text(t, MAX_TAG, "tag").strip() for t in tags) if t))
    if len(clean) > MAX_TAGS:
        raise StoreError(f"at most {MAX_TAGS} tags per run (got {len(clean)})")
    return clean


def _csv_safe(value: Any) -> Any:
    """Neutralize spreadsheet formulas in user text (a leading =, +, - or @ becomes literal)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
