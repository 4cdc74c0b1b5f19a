"""Who may enter the class server (experiments/access.py): local addresses, passwords from secrets or the
environment with a constant-time check, wrong passwords throttled per client. (The doors themselves, drawn by
ui/gate.py: tests/ui/test_gate.py.)"""
from __future__ import annotations

import pytest

from experiments.access import Attempt, Realm, Throttle, attempt, configured_password, is_local, matches


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
