"""The WHERE clause of ``RunStore.search_runs``, from the user's filters, always as parameterized SQL.

Search text takes the command line's own notation for settings: ``lr=0.1``, ``batch=64``,
``optimizer=adam``, ``hidden=128,64`` (or ``hidden=128-64``, as legends write it); several may be given,
separated by spaces or commas. Each such term matches runs whose stored setting has that value (compared as
numbers, so ``lr=10`` finds a stored 10.0 and ``lr=1e-3`` finds 0.001). Any other text is matched as a
case-insensitive substring of the name, notes, message, tags or settings.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from experiments.config import ConfigError, parse_setting, schema
from experiments.i18n import _
from experiments.store.errors import StoreError
from experiments.store.records import MAX_NOTES, clean_text, parse_status

SORTABLE = {"id": "id", "name": "name COLLATE NOCASE", "created": "created", "status": "status",
            "epochs_done": "epochs_done", "test_acc": "test_acc", "train_acc": "train_acc",
            "test_loss": "test_loss", "train_loss": "train_loss", "best_test_acc": "best_test_acc",
            "seconds": "seconds", "val_acc": "val_acc", "val_loss": "val_loss", "best_epoch": "best_epoch",
            "best_val_acc": "best_val_acc", "best_val_loss": "best_val_loss", "train_acc_at_best": "train_acc_at_best",
            "test_acc_at_best": "test_acc_at_best", "test_loss_at_best": "test_loss_at_best"}
# every way a setting is written: its field name, its legend name (batch, opt, act, L2, grad) and its CLI flag
SETTING_KEYS = {key.lower(): entry.name for entry in schema()
                for key in (entry.name, entry.setting.short, entry.setting.cli_flag(entry.name).lstrip("-"))}
_TERM = re.compile(r"(?<![\w.-])([A-Za-z_][\w-]*)\s*=\s*(\S+?)(?=[\s;]|,\s*[A-Za-z_][\w-]*\s*=|,?\s*$)")


@dataclass(frozen=True)
class SettingFilter:
    """One ``key=value`` search term: the RunConfig field and the value as RunConfig would store it."""

    name: str
    value: Any

    def sql(self) -> tuple[str, list[Any]]:
        """The condition and its parameters (lists are compared as minified JSON text)."""
        # CASE: json_extract would fail on a config that is not valid JSON; such a run simply does not match
        setting = "json_extract(CASE WHEN json_valid(config) THEN config END, ?)"
        if isinstance(self.value, list):
            return setting + " = json(?)", ["$." + self.name, json.dumps(self.value)]
        return setting + " = ?", ["$." + self.name, self.value]


def setting_filter(key: str, raw: str) -> SettingFilter | None:
    """The filter for ``key=raw`` if ``key`` names a setting (None otherwise); refused if the value is not
    one that setting can hold."""
    name = SETTING_KEYS.get(key.lower())
    if name is None:
        return None
    text = raw.strip().rstrip(",")
    if name == "hidden":
        text = text.replace("-", ",")  # as legends write widths: 128-64
    try:
        value = parse_setting(name, text)
    except ConfigError as exc:
        raise StoreError(_("cannot search for {filter}: {reason}").format(filter=f"{key}={raw}", reason=exc)) from None
    return SettingFilter(name, list(value) if isinstance(value, tuple) else value)


def split_search(text: str) -> tuple[list[SettingFilter], str]:
    """The ``key=value`` setting terms of ``text`` and the rest of it (stripped; "" if nothing is left)."""
    filters: list[SettingFilter] = []
    rest: list[str] = []
    position = 0
    for match in _TERM.finditer(text):
        found = setting_filter(match.group(1), match.group(2))
        if found is None:
            continue
        filters.append(found)
        rest.append(text[position:match.start()])
        position = match.end()
    rest.append(text[position:])
    return filters, " ".join("".join(rest).replace(",", " ").replace(";", " ").split()) if filters else text


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def text_clauses(text: str) -> tuple[list[str], list[Any]]:
    """Conditions for the search text: one per setting term, one substring match for the rest."""
    text = clean_text(text, MAX_NOTES, "search text")  # e.g. undecodable bytes from a command line
    filters, rest = split_search(text)
    where: list[str] = []
    params: list[Any] = []
    for f in filters:
        sql, values = f.sql()
        where.append(sql)
        params += values
    if rest.strip():
        where.append("(name LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\' OR message LIKE ? ESCAPE '\\' "
                     "OR config LIKE ? ESCAPE '\\' OR tags LIKE ? ESCAPE '\\')")
        params += [_like(rest)] * 5
    return where, params


def where_clause(status: str | Sequence[str] | None = None, text: str | None = None, tag: str | None = None,
                 group_id: str | None = None, ids: Sequence[int] | None = None,
                 student: str | None = None) -> tuple[str, list[Any]]:
    """`` WHERE ...`` (or "") and its parameters for the filters of ``RunStore.search_runs``."""
    where: list[str] = []
    params: list[Any] = []
    if status:
        statuses = [parse_status(s).value for s in ([status] if isinstance(status, str) else status)]
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params += statuses
    if text:
        more, values = text_clauses(text)
        where += more
        params += values
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = ?)")
        params.append(clean_text(tag, MAX_NOTES, "tag"))
    if group_id:
        where.append("group_id = ?")
        params.append(group_id)
    if student is not None:
        where.append("student = ?")
        params.append(student)
    if ids is not None:
        where.append(f"id IN ({', '.join('?' * len(ids))})" if ids else "0")
        params += [int(i) for i in ids]
    return (" WHERE " + " AND ".join(where) if where else ""), params


def order_clause(order_by: str, descending: bool) -> str:
    """`` ORDER BY ...`` from the fixed list of sortable columns (ties broken by id, the same way); runs without
    the value (no validation, no epoch yet) come last either way."""
    if order_by not in SORTABLE:
        raise StoreError(f"cannot sort by {order_by!r}; choose one of {', '.join(SORTABLE)}")
    return (f" ORDER BY {SORTABLE[order_by]} IS NULL, {SORTABLE[order_by]} {'DESC' if descending else 'ASC'}, "
            f"id {'DESC' if descending else 'ASC'}")

