"""The class's settings, kept in the run store's file: what students may see and how much one run may ask.

The teacher sets them on the Teacher page of a class server; every page, the CLI and the runner read them
through ``class_settings(store)``. One row per setting in the table ``class_settings`` (key, JSON value), so
a setting added later needs no migration: a missing row reads as its default.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from experiments.i18n import _
from experiments.store.errors import StoreError
from experiments.store.store import RunStore


@dataclass(frozen=True)
class ClassSettings:
    """What the teacher decided for the class. The defaults are a laptop's: everything visible, no budget.

    - ``others_visible``: students may look at (never change) classmates' runs ("Everyone" on History, Compare).
    - ``test_revealed``: students see test-set numbers; until then they are hidden on every page and export.
    - ``max_parameters``: the largest network a student's run may have (weights and biases), None for no cap.
    - ``max_steps``: the most training steps (epochs x batches per epoch) one student run may take, None for no cap.
    """

    others_visible: bool = True
    test_revealed: bool = False
    max_parameters: int | None = None
    max_steps: int | None = None


_FIELDS = {f.name: f for f in dataclasses.fields(ClassSettings)}


def class_settings(store: RunStore) -> ClassSettings:
    """The class's settings as stored (defaults for any not set)."""
    rows = store.execute("SELECT key, value FROM class_settings").fetchall()
    values = {row["key"]: json.loads(row["value"]) for row in rows if row["key"] in _FIELDS}
    return ClassSettings(**values)


def save_class_settings(store: RunStore, settings: ClassSettings) -> None:
    """Store every setting in one transaction (the teacher's Save)."""
    for name in ("max_parameters", "max_steps"):
        value = getattr(settings, name)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise StoreError(_("{setting} must be a whole number of at least 1, or no cap").format(
                setting=name.replace("_", " ")))
    store.transaction(("INSERT INTO class_settings (key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (name, json.dumps(getattr(settings, name)))) for name in _FIELDS)
