"""Who may enter a class server and act on it: is it local, the teacher password, throttling, identities.

A server that listens on anything but this machine (``server.address`` other than localhost / 127.x / ::1,
including unset, which means every interface) is a class server: nothing renders before a sign-in, and it
refuses to serve pages when nobody could sign in to make the roster (no teacher password, no ``[auth]``).
Students sign in with their personal code from the roster (``experiments/store/roster.py``) or with
Streamlit's ``st.login`` where an identity provider is configured; the teacher with the teacher password
(``teacher_password`` in ``.streamlit/secrets.toml`` or ``MNIST_LAB_TEACHER_PASSWORD``), compared in constant
time (``hmac.compare_digest``). A shared class password (``password``) is no longer a way in: it named
nobody, so whoever held it could act as anyone. Wrong passwords and codes are
throttled per address and account, forgiven over time, under a global ceiling (``Throttle``). Who is acting
is an ``Identity``, made only by a sign-in (a roster code, the teacher password, or Streamlit's own
``st.login``), and ``require_change`` is the one check before any action that changes a run
(``experiments/run_actions.py``). No Streamlit here: the UI is ``ui/gate.py``.
"""
from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from experiments.i18n import N_, _

T = TypeVar("T")

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
    level: float = 0.0   # wrong tries, forgiven one per FORGIVE_S
    at: float = 0.0      # when the level was last updated
    until: float = 0.0   # no try is compared before this time


class Throttle:
    """Waiting time after wrong passwords or codes, per bucket, with a global ceiling (process-wide;
    thread-safe).

    Why buckets by address *and* account: a classroom behind one NAT (or a proxy, or loopback) shares one
    address, so a bucket per address lets one student's typo lock out every classmate. The caller names the
    bucket ``address|account`` (the roster entry a code names, or the teacher realm), so a wrong code for entry
    7 delays only tries at entry 7 from that address. Each wrong try doubles the wait (1 s, 2 s, ... up to
    ``max_wait_s``) and is forgiven after ``FORGIVE_S``, so an old typo never blocks anyone for good. The
    global ceiling bounds what many buckets together can try: beyond ``GLOBAL_BURST`` wrong tries in a burst,
    at most ``GLOBAL_RATE`` per second are compared server-wide; it only ever delays, it never locks out.
    """

    FORGIVE_S = 30.0
    GLOBAL_BURST = 120.0
    GLOBAL_RATE = 2.0
    MAX_BUCKETS = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_wait_s: float = MAX_WAIT_S):
        self._clock, self._max = clock, max_wait_s
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}
        self._global = _Failures()

    def _decayed(self, entry: _Failures, now: float, per_second: float) -> float:
        return max(0.0, entry.level - (now - entry.at) * per_second)

    def _global_wait(self, now: float) -> float:
        over = self._decayed(self._global, now, self.GLOBAL_RATE) - self.GLOBAL_BURST
        return max(0.0, over / self.GLOBAL_RATE)

    def wait_s(self, client: str) -> float:
        """Seconds before a try from this bucket is compared (0: go ahead)."""
        with self._lock:
            now = self._clock()
            entry = self._failures.get(client)
            own = max(0.0, entry.until - now) if entry else 0.0
            return max(own, self._global_wait(now))

    def failed(self, client: str) -> float:
        """Record a wrong try; returns the wait before the next try from this bucket."""
        with self._lock:
            now = self._clock()
            if client not in self._failures and len(self._failures) >= self.MAX_BUCKETS:
                self._forget_settled(now)
            entry = self._failures.setdefault(client, _Failures(at=now))
            entry.level, entry.at = self._decayed(entry, now, 1 / self.FORGIVE_S) + 1, now
            entry.until = now + min(self._max, 2.0 ** (math.ceil(entry.level) - 1))
            self._global.level, self._global.at = self._decayed(self._global, now, self.GLOBAL_RATE) + 1, now
            return max(entry.until - now, self._global_wait(now))

    def _forget_settled(self, now: float) -> None:
        """Drop buckets whose wrong tries are all forgiven (memory stays bounded under a flood)."""
        for key in [k for k, e in self._failures.items() if self._decayed(e, now, 1 / self.FORGIVE_S) == 0]:
            del self._failures[key]
        while len(self._failures) >= self.MAX_BUCKETS:  # all recent: drop the oldest
            del self._failures[next(iter(self._failures))]

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
    result, wait, _ = attempt_with(throttle, client, lambda: True if matches(given, expected) else None)
    return result, wait


def attempt_with(throttle: Throttle, client: str, check: Callable[[], T | None]) -> tuple[Attempt, float, T | None]:
    """Run ``check`` (a constant-time comparison returning what it opened, or None) through the throttle:
    not at all while the bucket waits; returns the result, the seconds to wait and what ``check`` returned."""
    wait = throttle.wait_s(client)
    if wait > 0:
        return Attempt.WAIT, wait, None
    opened = check()
    if opened is not None:
        throttle.succeeded(client)
        return Attempt.OK, 0.0, opened
    return Attempt.WRONG, throttle.failed(client), None


def oidc_configured(secrets: Mapping[str, Any]) -> bool:
    """Whether ``[auth]`` in the secrets is complete enough for Streamlit's ``st.login`` (OpenID Connect):
    ``redirect_uri`` and ``cookie_secret``, and a client (``client_id``, ``client_secret``,
    ``server_metadata_url``) in ``[auth]`` itself or in one provider's table such as ``[auth.google]``."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping) or not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return False
    client = ("client_id", "client_secret", "server_metadata_url")
    tables = [auth, *(v for v in auth.values() if isinstance(v, Mapping))]
    return any(all(t.get(k) for k in client) for t in tables)


def oidc_providers(secrets: Mapping[str, Any]) -> list[str | None]:
    """The providers ``st.login`` can be called with: each named table of ``[auth]`` with a client, or None
    for the client in ``[auth]`` itself."""
    if not oidc_configured(secrets):
        return []
    auth = secrets["auth"]
    client = ("client_id", "client_secret", "server_metadata_url")
    named: list[str | None] = [k for k, v in auth.items() if isinstance(v, Mapping) and all(v.get(c) for c in client)]
    return named or [None]


def oidc_identity(user: Mapping[str, Any], teacher_emails: Any) -> Identity | None:
    """The identity of a user signed in through ``st.login``: named by their e-mail address (roster names may
    not contain '@', so the two never meet), the teacher when the address is in ``teacher_emails``."""
    email = str(user.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 60 or not email.isprintable():  # it becomes the runs' student name
        return None
    teachers = {str(e).strip().lower() for e in teacher_emails} if isinstance(teacher_emails, (list, tuple)) else set()
    return Identity("", Role.TEACHER) if email in teachers else Identity(email, Role.STUDENT)


def bucket(address: object, account: str) -> str:
    """The throttle bucket of a try: the client's address and the account tried (see ``Throttle``)."""
    return f"{address if isinstance(address, str) else 'unknown'}|{account}"


class NotAllowed(Exception):
    """An action on a run refused because the identity may not change it (the message is one line)."""


# What a refusal says may not be done to a run, by the verb ``require_change`` is given (marked for the catalog:
# a language puts its pronoun where it goes, "stop it", "detenerla").
ACTIONS = {"stop": N_("stop it"), "pause": N_("pause it"), "unpause": N_("unpause it"),
           "resume": N_("resume it"), "continue": N_("continue it"), "edit": N_("edit it"),
           "rename": N_("rename it"), "tag": N_("tag it"), "annotate": N_("annotate it"),
           "delete": N_("delete it"), "export": N_("export it")}


def require_change(identity: Identity, run_id: int, run_student: str, verb: str) -> None:
    """Refuse, in one line, ``verb`` on a run that ``identity`` may not change (see ``Identity.may_change``)."""
    if identity.may_change(run_student):
        return
    action = _(ACTIONS[verb]) if verb in ACTIONS else f"{verb} it"
    if not run_student:
        raise NotAllowed(_("run {id} belongs to the teacher: only they or the teacher may {action}").format(
            id=run_id, action=action))
    raise NotAllowed(_("run {id} belongs to {owner}: only they or the teacher may {action}").format(
        id=run_id, owner=run_student, action=action))
