"""Reading a small text file a user named (an exercise, a sweep spec) without trusting what the path is.

A path from a user or a folder they control may be anything: a symlink to ``/dev/zero`` or ``/dev/urandom``
(endless), a FIFO (blocks forever), a folder, or a multi-gigabyte file. ``Path.read_text`` would read it to
the end, or until the memory runs out and the server is killed. ``read_text_file`` refuses, in one line,
anything that is not a regular file, or is larger than the caller's limit, and reads at most the limit
plus one byte (a file may grow, or say size 0 as ``/proc`` files do, after it was checked).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from experiments.i18n import _, whole


class TextFileError(ValueError):
    """A file that is not read: not a regular file, too large, unreadable or not UTF-8; one line."""


def read_text_file(path: str | os.PathLike[str], max_bytes: int) -> str:
    """The UTF-8 text of ``path`` if it is a regular file (after symlinks) of at most ``max_bytes`` bytes;
    TextFileError otherwise, without reading more than ``max_bytes + 1`` bytes."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not hang; fstat then says what was opened
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise TextFileError(_("cannot read it ({reason})").format(reason=exc.strerror)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TextFileError(_("not a regular file (a device, a pipe or a folder): not read"))
        raise TextFileError(_("too large ({size} bytes; at most {limit}): not read").format(
            size=whole(info.st_size), limit=whole(max_bytes)))
    with os.fdopen(fd, "rb") as f:
        try:
            raw = f.read(max_bytes + 1)
        except OSError as exc:
            raise TextFileError(_("cannot read it ({reason})").format(reason=exc.strerror)) from None
    if len(raw) > max_bytes:
        raise TextFileError(_("larger than {limit} bytes: not read").format(limit=whole(max_bytes)))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextFileError(_("not UTF-8 text ({reason} at byte {offset})").format(reason=exc.reason,
                                                                               offset=exc.start)) from None
