"""The run store's exceptions, and SQLite's errors worded for the user.

SQLite says what went wrong in a result code (Python 3.11+ exposes its name as ``sqlite_errorname``, e.g.
``SQLITE_FULL`` or the extended ``SQLITE_IOERR_WRITE``). The message is chosen from that code, never from
the English text: "disk I/O error" contains "disk" but is not a full disk, and telling a user to free space
when their drive is failing sends them the wrong way.

A full disk does not always say so in its code: SQLite reports a full disk met while growing the WAL index
(``-shm``) or its lock files as an I/O error (``SQLITE_IOERR_SHMSIZE``), and writes on the read-only
connection a store falls back to on a full disk (store.py) as ``SQLITE_READONLY``. So an I/O or permission
problem on a disk with (almost) no free space left (``disk_is_full``) is worded as the full disk it is.
"""
from __future__ import annotations

import shutil
from enum import Enum
from pathlib import Path

from experiments.i18n import _

FULL_BELOW = 1 << 20  # bytes free under which a disk counts as full: SQLite needs a few pages (and a 32 KiB index)


class StoreError(Exception):
    """A problem with the run store, worded for the user."""


class QueueFullError(StoreError):
    """``create_run(max_queued=N)`` found N runs of this process already waiting: nothing was stored."""


class RunNotFoundError(StoreError):
    """The run does not exist (never did, or was deleted, e.g. while it trained)."""


class SqliteProblem(Enum):
    """What a SQLite result code means for the user; each kind has its own advice."""

    FULL = "full"
    IO = "io"
    PERMISSION = "permission"
    DAMAGED = "damaged"
    BUSY = "busy"
    OTHER = "other"


_PRIMARY_CODES = {  # SQLite's primary result codes; the extended ones (SQLITE_IOERR_WRITE, ...) share a prefix
    "SQLITE_FULL": SqliteProblem.FULL,
    "SQLITE_IOERR": SqliteProblem.IO,
    "SQLITE_READONLY": SqliteProblem.PERMISSION,
    "SQLITE_CANTOPEN": SqliteProblem.PERMISSION,
    "SQLITE_PERM": SqliteProblem.PERMISSION,
    "SQLITE_AUTH": SqliteProblem.PERMISSION,
    "SQLITE_CORRUPT": SqliteProblem.DAMAGED,
    "SQLITE_NOTADB": SqliteProblem.DAMAGED,
    "SQLITE_BUSY": SqliteProblem.BUSY,
    "SQLITE_LOCKED": SqliteProblem.BUSY,
}


def classify(exc: BaseException) -> SqliteProblem:
    """The kind of problem from the exception's SQLite result code name (OTHER when it has none)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_SHORT_READ -> SQLITE_IOERR
    return _PRIMARY_CODES.get(primary, SqliteProblem.OTHER)


def disk_is_full(folder: Path) -> bool:
    """Whether the disk holding ``folder`` has less than ``FULL_BELOW`` bytes free for this user (False
    when that cannot be told, e.g. the folder is gone)."""
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW
    except OSError:
        return False


def full_disk_error(path: Path, text: str = "") -> StoreError:
    """The one wording of a full disk under the store at ``path``."""
    why = f" ({text})" if text else ""
    return StoreError(_("the disk is full: the run store {path} cannot grow{why}; free some space. The runs "
                        "already stored are intact and can still be read").format(path=path, why=why))


def explain(exc: Exception, path: Path) -> StoreError:
    """A one-line StoreError for a SQLite error on the store at ``path``, with what the user can do."""
    text = " ".join(str(exc).split())
    problem = classify(exc)
    if problem in (SqliteProblem.IO, SqliteProblem.PERMISSION) and disk_is_full(path.parent):
        problem = SqliteProblem.FULL
    if problem is SqliteProblem.FULL:
        return full_disk_error(path, text)
    if problem is SqliteProblem.IO:
        return StoreError(_("an I/O error reading or writing the run store {path} ({reason}): the disk or its "
                            "connection may be failing; the last change was not saved").format(path=path, reason=text))
    if problem is SqliteProblem.PERMISSION:
        return StoreError(_("cannot write the run store {path} ({reason}): check the folder's permissions or "
                            "choose another file with RESULTS_DB").format(path=path, reason=text))
    if problem is SqliteProblem.DAMAGED:
        return StoreError(_("{path} is damaged or is not a run store: move it aside (its runs cannot be read) "
                            "or choose another file with RESULTS_DB").format(path=path))
    if problem is SqliteProblem.BUSY:
        return StoreError(_("the run store {path} stayed locked by another program for too long ({reason}): "
                            "try again; nothing was changed").format(path=path, reason=text))
    return StoreError(_("run store {path}: {reason}").format(path=path, reason=text))
