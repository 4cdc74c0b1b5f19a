"""Who may enter the class server (experiments/access.py): local addresses, passwords from secrets or the
environment with a constant-time check, wrong passwords throttled per client. (The doors themselves, drawn by
ui/gate.py: tests/ui/test_gate.py.)"""
from __future__ import annotations

import pytest

from experiments.access import (
    Attempt,
    Identity,
    Realm,
    Role,
    Throttle,
    attempt,
    attempt_with,
    bucket,
    configured_password,
    is_local,
    matches,
    oidc_configured,
    oidc_identity,
    oidc_providers,
)


@pytest.mark.parametrize("address, local", [("localhost", True), ("127.0.0.1", True), ("::1", True),
                                            ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                            ("", False), (None, False), ("192.168.1.20", False),
                                            ("example.org", False)])
def test_which_addresses_are_local(address, local):
    assert is_local(address) is local


def test_passwords_come_from_secrets_then_the_environment():
    env = {"MNIST_LAB_CLASS_PASSWORD": "from-env", "MNIST_LAB_TEACHER_PASSWORD": "t"}
    assert configured_password(Realm.CLASS, {"password": "from-secrets"}, env) == "from-secrets"
    assert configured_password(Realm.CLASS, {}, env) == "from-env"
    assert configured_password(Realm.TEACHER, {}, env) == "t"
    assert configured_password(Realm.CLASS, {}, {}) == ""
    assert matches("s3cret", "s3cret") and not matches("s3cre", "s3cret") and not matches("", "")


def test_wrong_passwords_are_throttled_per_client():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0], max_wait_s=8)
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 1.0)
    assert attempt(throttle, "a", "right", "right")[0] is Attempt.WAIT  # not even compared while waiting
    assert attempt(throttle, "b", "right", "right")[0] is Attempt.OK    # another client is not affected
    now[0] = 1.5
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 2.0)
    now[0] = 4.0
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 4.0)
    now[0] = 100.0
    for _ in range(5):
        result, wait = attempt(throttle, "a", "wrong", "right")
        now[0] += wait
    assert wait == 8
    assert attempt(throttle, "a", "right", "right")[0] is Attempt.OK
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 1.0)  # success resets


def test_a_wrong_code_from_a_shared_address_does_not_lock_out_a_classmate():
    """Issue 24: one bucket per address meant one wrong password behind a NAT locked out the whole class."""
    throttle = Throttle(clock=lambda: 0.0)  # time stands still
    shared = "10.0.0.1"
    assert attempt(throttle, bucket(shared, "code:7"), "typo", "right")[0] is Attempt.WRONG
    assert attempt(throttle, bucket(shared, "code:7"), "right", "right")[0] is Attempt.WAIT
    assert attempt(throttle, bucket(shared, "code:8"), "right", "right")[0] is Attempt.OK
    assert attempt(throttle, bucket(shared, "teacher"), "right", "right")[0] is Attempt.OK


def test_wrong_tries_are_forgiven_over_time():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0], max_wait_s=60)
    waits = [throttle.failed("a") for _ in range(6)]  # six wrong tries at once (e.g. two tabs, one address)
    assert waits == [1, 2, 4, 8, 16, 32]
    now[0] += 2 * Throttle.FORGIVE_S  # two forgiven: the next wrong try is the fifth
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 16.0)
    now[0] += 10 * Throttle.FORGIVE_S  # long after: every wrong try forgiven, a new typo waits 1 s again
    assert attempt(throttle, "a", "wrong", "right") == (Attempt.WRONG, 1.0)


def test_a_global_ceiling_delays_a_flood_over_many_buckets_and_then_lets_go():
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    for k in range(int(Throttle.GLOBAL_BURST) + 10):  # a flood of wrong codes, each at another entry
        attempt(throttle, bucket("10.0.0.9", f"code:{k}"), "wrong", "right")
    result, wait = attempt(throttle, bucket("10.0.0.2", "code:fresh"), "right", "right")
    assert result is Attempt.WAIT and 0 < wait <= 10
    now[0] += wait
    assert attempt(throttle, bucket("10.0.0.2", "code:fresh"), "right", "right")[0] is Attempt.OK


def test_the_throttle_keeps_a_bounded_number_of_buckets(monkeypatch):
    monkeypatch.setattr(Throttle, "MAX_BUCKETS", 50)
    throttle = Throttle(clock=lambda: 0.0)
    for k in range(500):
        throttle.failed(bucket("10.0.0.3", f"code:{k}"))
    assert len(throttle._failures) <= 50


def test_attempt_with_returns_what_the_check_opened_and_is_not_called_while_waiting():
    throttle = Throttle(clock=lambda: 0.0)
    calls = []
    assert attempt_with(throttle, "a", lambda: calls.append(1)) == (Attempt.WRONG, 1.0, None)
    assert attempt_with(throttle, "a", lambda: calls.append(2) or "opened")[0] is Attempt.WAIT
    assert calls == [1]
    assert attempt_with(throttle, "b", lambda: "opened") == (Attempt.OK, 0.0, "opened")


def test_only_a_complete_auth_section_offers_the_school_sign_in():
    client = {"client_id": "id", "client_secret": "s", "server_metadata_url": "https://idp/.well-known"}
    base = {"redirect_uri": "http://lab:8501/oauth2callback", "cookie_secret": "c"}
    assert not oidc_configured({}) and oidc_providers({}) == []
    assert not oidc_configured({"auth": base})                        # no client
    assert not oidc_configured({"auth": {**client, "cookie_secret": "c"}})  # no redirect
    assert oidc_providers({"auth": {**base, **client}}) == [None]
    assert oidc_providers({"auth": {**base, "google": client, "note": {"x": 1}}}) == ["google"]


def test_a_school_account_is_a_student_by_its_address_or_the_teacher_when_listed():
    assert oidc_identity({"email": "Ann@School.org"}, []) == Identity("ann@school.org", Role.STUDENT)
    assert oidc_identity({"email": "t@school.org"}, ["T@school.org"]).role is Role.TEACHER
    assert oidc_identity({"name": "no address"}, []) is None
    assert oidc_identity({"email": "a@b.org\u202e"}, []) is None
    assert oidc_identity({"email": "x" * 60 + "@b"}, []) is None
