"""Students' predictions for exercises, stored before the exercise's runs are queued.

A prediction row holds the student, the exercise id, the answer (JSON, as ``experiments.exercises`` checks
it) and, once the runs are queued, their group id. A student may try an exercise again: each attempt is a
new row, and their progress is their latest attempt. Lives in the run store's file (table ``predictions``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from experiments.i18n import _
from experiments.store.errors import StoreError
from experiments.store.records import clean_student, clean_text
from experiments.store.store import RunStore

MAX_EXERCISE_ID = 80


@dataclass(frozen=True)
class Prediction:
    """One stored prediction: who, for which exercise, what they answered, and the runs that test it."""

    id: int
    student: str
    exercise: str
    created: str
    answer: dict[str, Any]
    group_id: str | None


def save_prediction(store: RunStore, student: str, exercise: str, answer: dict[str, Any]) -> int:
    """Store a prediction (before anything runs) and return its id."""
    who = clean_student(student)
    which = clean_text(exercise, MAX_EXERCISE_ID, "exercise id", strip=True)
    if not which:
        raise StoreError(_("an exercise id cannot be empty"))
    cur = store.execute(
        "INSERT INTO predictions (student, exercise, created, answer) VALUES (?, ?, ?, ?)",
        (who, which, datetime.now(UTC).isoformat(timespec="seconds"), json.dumps(answer, sort_keys=True)))
    return int(cur.lastrowid or 0)


def attach_group(store: RunStore, prediction_id: int, group_id: str) -> None:
    """Record the group of runs queued to test a prediction."""
    store.execute("UPDATE predictions SET group_id = ? WHERE id = ?", (group_id, int(prediction_id)))


def predictions(store: RunStore, exercise: str | None = None, student: str | None = None) -> list[Prediction]:
    """Stored predictions, oldest first, for one exercise and/or one student."""
    where, params = [], []
    if exercise is not None:
        where.append("exercise = ?")
        params.append(exercise)
    if student is not None:
        where.append("student = ?")
        params.append(student)
    sql = "SELECT * FROM predictions" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [_record(row) for row in store.execute(sql, params).fetchall()]


def latest(store: RunStore, exercise: str | None = None,
           student: str | None = None) -> dict[tuple[str, str], Prediction]:
    """The latest prediction per (student, exercise)."""
    return {(p.student, p.exercise): p for p in predictions(store, exercise, student)}


def _record(row: Any) -> Prediction:
    try:
        answer = json.loads(row["answer"])
    except ValueError:
        answer = {}
    return Prediction(int(row["id"]), row["student"], row["exercise"], row["created"],
                      answer if isinstance(answer, dict) else {}, row["group_id"])
