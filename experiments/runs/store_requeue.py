"""The run store's statements for runs that outlive a process: recovery, re-queueing, resuming.

A mixin of ``RunStore`` (kept apart so store.py stays one concept and under the length limit). Each method
is one write transaction whose conditions are in its ``WHERE`` clause, so two processes (or two clicks)
cannot both take the same run:

- ``recover_interrupted``: runs a dead process left *running* become "interrupted" (resumable); runs it left
  *queued* stay queued, to be taken up again by the next dashboard (``adopt_orphaned_queued``).
- ``requeue_run``: an ended run goes back to "queued" for this process (resume, continue), its config
  replaced when continuing for more epochs.
- ``trim_epochs``: forget stored epochs after a checkpoint's, which the resumed run trains again.
"""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from experiments.config import RunConfig
from experiments.runs.best import RUN_SUMMARY_COLUMNS, SUMMARY_METRICS, run_summary
from experiments.runs.owner import owner_is_dead
from nn.status import RunStatus

ORPHAN_NOTE = "queued by a process that has ended: the dashboard queues it again when it starts"


class RequeueStatements:
    """Mixed into RunStore, which provides the connection, the write transaction and this process's owner."""

    _owner: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

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
        """Delete the run's stored epochs after ``after_epoch`` and bring its summary (last and best epoch, as
        ``log_epoch`` writes it) back to the epochs kept; returns how many were deleted."""
        with self._writing() as conn:
            cur = conn.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, int(after_epoch)))
            run = conn.execute("SELECT config FROM runs WHERE id = ?", (run_id,)).fetchone()
            if not cur.rowcount or run is None:
                return cur.rowcount
            history = conn.execute(f"SELECT epoch, elapsed, {', '.join(SUMMARY_METRICS)} FROM epochs "
                                   f"WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
            last = dict(history[-1]) if history else {}
            conn.execute(f"UPDATE runs SET ({', '.join(RUN_SUMMARY_COLUMNS)}) = "
                         f"({', '.join('?' * len(RUN_SUMMARY_COLUMNS))}), "
                         f"best_test_acc = (SELECT max(test_acc) FROM epochs WHERE run_id = ?) WHERE id = ?",
                         (*run_summary(last, history, run["config"]), run_id, run_id))
            return cur.rowcount
