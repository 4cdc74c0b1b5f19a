"""Who may enter a class server: is it local, which passwords are set, is a password right, and throttling.

A server that listens on anything but this machine (``server.address`` other than localhost / 127.x / ::1,
including unset, which means every interface) is a class server: it asks for the class password before any
page renders and refuses to serve pages when none is configured. Passwords come from Streamlit secrets
(``.streamlit/secrets.toml``: ``password`` and ``teacher_password``) or the environment
(``MNIST_LAB_CLASS_PASSWORD``, ``MNIST_LAB_TEACHER_PASSWORD``), and are compared in constant time
(``hmac.compare_digest``, as Streamlit's "Authentication without SSO" pattern does). Wrong passwords are
throttled per client: after each failure that client waits twice as long as before (1 s, 2 s, ... up to
``MAX_WAIT_S``) before the next try is even compared. No Streamlit here: the UI is ``ui/gate.py``.
"""
from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_WAIT_S = 60.0


class Role(StrEnum):
    """Who is acting: a signed-in student, the teacher, or the one user of a laptop (a local server, the CLI)."""

    STUDENT = "student"
    TEACHER = "teacher"
    LOCAL = "local"


@dataclass(frozen=True)
class Identity:
    """Who is acting on the lab: the name runs are stored under (``runs.student``; "" for a laptop's user)
    and the role. Built only from a sign-in, never from a URL parameter."""

    name: str
    role: Role

    def may_change(self, run_student: str) -> bool:
        """Whether this identity may stop, pause, continue, resume, rename, tag, note, delete or export a run
        stored under ``run_student``: its owner, the teacher, or a laptop's user (who owns every run)."""
        return self.role in (Role.TEACHER, Role.LOCAL) or (bool(self.name) and self.name == run_student)


LOCAL_USER = Identity("", Role.LOCAL)


class Realm(StrEnum):
    """Which password: the class's (every page) or the teacher's (the teacher view)."""

    CLASS = "class"
    TEACHER = "teacher"


SECRET_KEYS = {Realm.CLASS: "password", Realm.TEACHER: "teacher_password"}
ENV_VARS = {Realm.CLASS: "MNIST_LAB_CLASS_PASSWORD", Realm.TEACHER: "MNIST_LAB_TEACHER_PASSWORD"}


def is_local(address: str | None) -> bool:
    """Whether the server listens on this machine only (unset or "" means every interface: not local)."""
    text = (address or "").strip().strip("[]")
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def configured_password(realm: Realm, secrets: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The realm's password from the secrets, else the environment; "" if neither sets one."""
    value = secrets.get(SECRET_KEYS[realm]) or env.get(ENV_VARS[realm]) or ""
    return str(value)


def matches(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected password never matches."""
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0


class Throttle:
    """Per-client waiting time after wrong passwords (process-wide; thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_wait_s: float = MAX_WAIT_S):
        self._clock, self._max = clock, max_wait_s
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}

    def wait_s(self, client: str) -> float:
        """Seconds this client must still wait before a password is compared (0: go ahead)."""
        with self._lock:
            entry = self._failures.get(client)
            return max(0.0, entry.until - self._clock()) if entry else 0.0

    def failed(self, client: str) -> float:
        """Record a wrong password; returns the wait before the next try."""
        with self._lock:
            entry = self._failures.setdefault(client, _Failures())
            entry.count += 1
            wait = min(self._max, 2.0 ** (entry.count - 1))
            entry.until = self._clock() + wait
            return wait

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class Attempt(StrEnum):
    """The result of one password attempt."""

    OK = "ok"
    WRONG = "wrong"
    WAIT = "wait"     # throttled: not compared


def attempt(throttle: Throttle, client: str, given: str, expected: str) -> tuple[Attempt, float]:
    """Check a password for a client through the throttle; returns the result and the seconds to wait."""
    wait = throttle.wait_s(client)
    if wait > 0:
        return Attempt.WAIT, wait
    if matches(given, expected):
        throttle.succeeded(client)
        return Attempt.OK, 0.0
    return Attempt.WRONG, throttle.failed(client)
