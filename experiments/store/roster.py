"""The class's roster: the students the teacher admitted, each with a personal sign-in code, in the store's file.

Why codes the teacher issues: a student's identity must be something nobody else can type in. A name can be
typed by anyone; a random code handed to one student (on paper, or as a personal link that carries it) can
not. The teacher adds a name on the Teacher page and gets that student's code once; the store keeps only a
salted scrypt hash of it (a stolen database file gives no code), compared in constant time
(``hmac.compare_digest``). Reissuing a code replaces the hash (the old code and every session signed in with
it stop working); revoking keeps the name (their runs stay theirs) but no code opens it.

A code reads ``<entry id>-<secret>`` (e.g. ``7-k3mq...``): the id says which one hash to compare, so a
sign-in costs one scrypt, not one per student; the secret is 80 random bits in lower-case base32 (no
characters that look alike), which no throttled guessing reaches. An id that does not exist still costs a
scrypt of the same size, so the time of a refusal does not tell whether the id exists.

The roster also signs what remembers a sign-in across reloads and new tabs (``ui/gate.py`` keeps it as a
cookie): ``remember_token`` is an HMAC, under a random key kept in this file, of the entry id, its current
salt and the time it was issued, so reissuing or revoking the code voids it, and it expires.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from experiments.i18n import _
from experiments.store.errors import StoreError
from experiments.store.records import clean_student
from experiments.store.store import RunStore

SECRET_BYTES = 10             # 80 bits: 16 base32 characters
SALT_BYTES = 16
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}  # about 16 MB, ~50 ms
REMEMBER_S = 14 * 24 * 3600   # a remembered sign-in lasts a fortnight (a course's block of sessions)
TEACHER_ENTRY = 0             # the entry id in a teacher's remember token (the teacher is not on the roster)
MAX_CODE = 64


@dataclass(frozen=True)
class RosterEntry:
    """One admitted student: the roster id (the prefix of their code), the name their runs carry, when the
    entry was made, and whether the teacher revoked it."""

    id: int
    name: str
    created: str
    revoked: bool


@dataclass(frozen=True)
class IssuedCode:
    """A code just made: shown to the teacher once, never stored in clear."""

    entry: RosterEntry
    code: str


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **SCRYPT)


def _new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").lower()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _entry(row: Mapping[str, Any]) -> RosterEntry:
    return RosterEntry(int(row["id"]), str(row["name"]), str(row["created"]), row["revoked"] is not None)


def entries(store: RunStore) -> list[RosterEntry]:
    """Every roster entry, in the order they were added."""
    return [_entry(r) for r in store.execute("SELECT id, name, created, revoked FROM roster ORDER BY id")]


def add_student(store: RunStore, name: str) -> IssuedCode:
    """Admit a student: their name (cleaned as every student name is; unique on the roster) and a new code."""
    clean = clean_student(name)
    if "@" in clean:  # e-mail addresses name the students signed in through st.login
        raise StoreError(_("a roster name cannot contain '@' (e-mail addresses are for school accounts)"))
    secret, salt = _new_secret(), secrets.token_bytes(SALT_BYTES)
    try:
        cursor = store.execute("INSERT INTO roster (name, salt, digest, created) VALUES (?, ?, ?, ?)",
                               (clean, salt, _hash(secret, salt), _now()))
    except StoreError as exc:
        if "UNIQUE" in str(exc) or "unique" in str(exc):
            raise StoreError(_("{name} is already on the roster: reissue their code instead").format(
                name=repr(clean))) from None
        raise
    entry_id = int(cursor.lastrowid or 0)
    return IssuedCode(RosterEntry(entry_id, clean, _now(), False), f"{entry_id}-{secret}")


def reissue(store: RunStore, entry_id: int) -> IssuedCode:
    """A new code for an entry (also un-revokes it); the old code and every session remembered with it end."""
    entry = _get(store, entry_id)
    secret, salt = _new_secret(), secrets.token_bytes(SALT_BYTES)
    store.execute("UPDATE roster SET salt = ?, digest = ?, revoked = NULL WHERE id = ?",
                  (salt, _hash(secret, salt), entry_id))
    return IssuedCode(RosterEntry(entry.id, entry.name, entry.created, False), f"{entry_id}-{secret}")


def revoke(store: RunStore, entry_id: int) -> None:
    """No code opens this entry any more; remembered sessions end at their next page load. The runs stay."""
    _get(store, entry_id)
    store.execute("UPDATE roster SET revoked = ? WHERE id = ?", (_now(), entry_id))


def _get(store: RunStore, entry_id: int) -> RosterEntry:
    row = store.execute("SELECT id, name, created, revoked FROM roster WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        raise StoreError(_("there is no roster entry {id}").format(id=entry_id))
    return _entry(row)


def parse_code(text: str) -> tuple[int, str] | None:
    """(entry id, secret) of a typed or linked code; spaces and dashes inside the secret and the case are
    forgiven (a code read aloud or copied from paper). None for text that cannot be a code."""
    if not isinstance(text, str) or len(text) > MAX_CODE:
        return None
    head, sep, tail = text.strip().lower().partition("-")
    secret = tail.replace("-", "").replace(" ", "")
    if not sep or not (head.isascii() and head.isdigit()) or len(head) > 9 or not secret.isascii():
        return None
    return int(head), secret


_DUMMY_SALT = secrets.token_bytes(SALT_BYTES)


def check_code(store: RunStore, text: str) -> RosterEntry | None:
    """The roster entry a code opens, or None (wrong, revoked or not a code). One scrypt either way, and the
    digests compared in constant time."""
    parsed = parse_code(text)
    entry_id, secret = parsed if parsed else (-1, text if isinstance(text, str) else "")
    row = store.execute("SELECT id, name, created, revoked, salt, digest FROM roster WHERE id = ?",
                        (entry_id,)).fetchone()
    salt = bytes(row["salt"]) if row is not None else _DUMMY_SALT
    given = _hash(secret[:MAX_CODE], salt)
    expected = bytes(row["digest"]) if row is not None else bytes(len(given))
    right = hmac.compare_digest(given, expected)
    if row is None or not right or row["revoked"] is not None:
        return None
    return _entry(row)


def entry_of_code(text: str) -> int | None:
    """The entry id a code names (what a wrong code's throttle is counted by), None if it is not a code."""
    parsed = parse_code(text)
    return parsed[0] if parsed else None


# ---------------------------------------------------------------------------------- remembered sign-ins
def _signing_key(store: RunStore) -> bytes:
    """The random key remembered sign-ins are signed with, made on first use and kept in the store's file
    (so a restarted server still knows its students; a new store file forgets them all)."""
    store.execute("INSERT OR IGNORE INTO signin_key (id, key) VALUES (1, ?)", (secrets.token_bytes(32),))
    return bytes(store.execute("SELECT key FROM signin_key WHERE id = 1").fetchone()["key"])


def _mac(key: bytes, entry_id: int, binding: bytes, issued: int) -> str:
    message = f"{entry_id}.{binding.hex()}.{issued}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _binding(store: RunStore, entry_id: int, teacher_password: str) -> bytes | None:
    """What a token is bound to: the entry's current salt (a reissue or revoke voids it), or for the teacher
    a hash of the teacher password (changing it voids every teacher token). None: nothing to bind to."""
    if entry_id == TEACHER_ENTRY:
        return hashlib.sha256(teacher_password.encode("utf-8")).digest() if teacher_password else None
    row = store.execute("SELECT salt, revoked FROM roster WHERE id = ?", (entry_id,)).fetchone()
    return bytes(row["salt"]) if row is not None and row["revoked"] is None else None


def remember_token(store: RunStore, entry_id: int, teacher_password: str = "", now: float | None = None) -> str:
    """A token that signs this entry (or the teacher: ``TEACHER_ENTRY``) in again until it expires."""
    binding = _binding(store, entry_id, teacher_password)
    if binding is None:
        raise StoreError(_("nothing to remember: the entry is revoked or no teacher password is set"))
    issued = int(time.time() if now is None else now)
    return f"{entry_id}.{issued}.{_mac(_signing_key(store), entry_id, binding, issued)}"


def check_token(store: RunStore, token: str, teacher_password: str = "",
                now: float | None = None) -> RosterEntry | None:
    """The entry a remember token still signs in (a teacher token: an entry with id ``TEACHER_ENTRY``),
    or None: forged, expired, revoked, reissued, or a changed teacher password."""
    parts = token.split(".") if isinstance(token, str) and len(token) < 200 else []
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        return None
    entry_id, issued = int(parts[0]), int(parts[1])
    if not 0 <= (time.time() if now is None else now) - issued <= REMEMBER_S:
        return None
    binding = _binding(store, entry_id, teacher_password)
    if binding is None or not hmac.compare_digest(_mac(_signing_key(store), entry_id, binding, issued), parts[2]):
        return None
    if entry_id == TEACHER_ENTRY:
        return RosterEntry(TEACHER_ENTRY, "", "", False)
    return _get(store, entry_id)
