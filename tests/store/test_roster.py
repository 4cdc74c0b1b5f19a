"""The roster in a real store file: codes issued once and kept only hashed, a code opens its own entry and no
other, reissue and revoke void the old code and every remembered sign-in, tokens cannot be forged, and an
older store file gains the roster tables."""
from __future__ import annotations

import sqlite3

import pytest

from experiments.store import RunStore, StoreError, roster
from experiments.store.schema import MIGRATIONS
from tests.conftest import undo_migrations_from


def test_a_code_opens_its_own_entry_and_is_stored_only_hashed(store):
    ann, bob = roster.add_student(store, "Ann"), roster.add_student(store, "Bob")
    assert roster.check_code(store, ann.code).name == "Ann"
    assert roster.check_code(store, bob.code).name == "Bob"
    raw = store.path.read_bytes()
    assert ann.code.split("-", 1)[1].encode() not in raw and bob.code.split("-", 1)[1].encode() not in raw
    # Ann's id with Bob's secret, a typo, garbage and an unknown id open nothing
    forged = f"{ann.entry.id}-{bob.code.split('-', 1)[1]}"
    for wrong in (forged, ann.code[:-1] + ("a" if ann.code[-1] != "a" else "b"), "", "x" * 5000, "999-abc",
                  "-1-abc", "1e3-abc"):
        assert roster.check_code(store, wrong) is None, wrong


def test_a_code_read_from_paper_is_forgiven_its_case_spaces_and_dashes(store):
    issued = roster.add_student(store, "Ann")
    head, secret = issued.code.split("-", 1)
    spaced = f" {head}-{secret[:4].upper()} {secret[4:8]}-{secret[8:]} "
    assert roster.check_code(store, spaced).name == "Ann"


def test_names_are_unique_and_refused_as_every_student_name_is(store):
    roster.add_student(store, "Ann")
    for bad, words in [("Ann", "already on the roster"), ("", "cannot be empty"), ("a\nb", "one line"),
                       ("ann@school.org", "cannot contain '@'")]:
        with pytest.raises(StoreError, match=words):
            roster.add_student(store, bad)
    assert [e.name for e in roster.entries(store)] == ["Ann"]


def test_reissue_and_revoke_void_the_old_code_and_remembered_sign_ins(store):
    first = roster.add_student(store, "Ann")
    token = roster.remember_token(store, first.entry.id)
    assert roster.check_token(store, token).name == "Ann"
    second = roster.reissue(store, first.entry.id)
    assert roster.check_code(store, first.code) is None and roster.check_token(store, token) is None
    assert roster.check_code(store, second.code).name == "Ann"
    token = roster.remember_token(store, first.entry.id)
    roster.revoke(store, first.entry.id)
    assert roster.check_code(store, second.code) is None and roster.check_token(store, token) is None
    assert roster.entries(store)[0].revoked
    with pytest.raises(StoreError, match="no roster entry 42"):
        roster.revoke(store, 42)


def test_a_remember_token_cannot_be_forged_or_moved_and_expires(store):
    ann, bob = roster.add_student(store, "Ann"), roster.add_student(store, "Bob")
    token = roster.remember_token(store, ann.entry.id, now=1_000_000)
    entry, issued, mac = token.split(".")
    assert roster.check_token(store, token, now=1_000_100).name == "Ann"
    assert roster.check_token(store, f"{bob.entry.id}.{issued}.{mac}", now=1_000_100) is None  # moved to Bob
    assert roster.check_token(store, f"{entry}.{int(issued) + 1}.{mac}", now=1_000_100) is None  # issued later
    assert roster.check_token(store, token, now=1_000_000 + roster.REMEMBER_S + 1) is None  # expired
    for junk in ("", "a.b.c", "1.2", "1.2.3.4", "x" * 500):
        assert roster.check_token(store, junk) is None
    # the key lives in this store's file: another store does not accept the token
    other = RunStore(store.path.with_name("other.sqlite"))
    roster.add_student(other, "Ann")
    assert roster.check_token(other, token, now=1_000_100) is None


def test_a_teacher_token_is_bound_to_the_teacher_password(store):
    token = roster.remember_token(store, roster.TEACHER_ENTRY, "staff only")
    assert roster.check_token(store, token, "staff only").id == roster.TEACHER_ENTRY
    assert roster.check_token(store, token, "changed") is None and roster.check_token(store, token, "") is None
    with pytest.raises(StoreError):
        roster.remember_token(store, roster.TEACHER_ENTRY, "")


def test_an_older_store_gains_the_roster(tmp_path):
    path = tmp_path / "old.sqlite"
    RunStore(path).close_all()
    step = next(v for v, sql in MIGRATIONS.items() if "CREATE TABLE roster" in sql)
    with sqlite3.connect(path) as conn:
        undo_migrations_from(conn, step)
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'roster'").fetchone()
    store = RunStore(path)
    assert roster.check_code(store, roster.add_student(store, "Ann").code).name == "Ann"
