"""Joining Ray: whether it is installed, whether the head at an address answers and takes our token, and what
every Ray worker gets (our code, the data's location, one BLAS thread).

Shared by the two things that train on Ray: sweeps (``experiments/sweeps/ray_engine.py``) and the class
server's runs (``experiments/runs/ray_executor.py``). Ray is imported only when one of them starts.

Token authentication (Ray 2.52+; local clusters use it by default from 2.59, ``ray start --head`` whenever a
token is on the machine): the head refuses every call that does not carry its token. Ray's driver presents a
token only when ``RAY_AUTH_MODE=token`` is set, and given an explicit address it never sets that by itself, so
joining a head with tokens on used to print 20 seconds of ``InvalidAuthToken`` warnings and a traceback.
``check_head`` asks the head first, with one gRPC call and a deadline (the same call Ray's driver makes
first): a head that answers is joined; one that wants a token gets this machine's (``RAY_AUTH_TOKEN``, else the
file ``RAY_AUTH_TOKEN_PATH``, else ``~/.ray/auth_token``, Ray's own order), with token mode turned on for this
process if it takes it; anything else is one line naming the address and the likely cause (``RayConnectionError``,
a ConfigError: the command line prints it and exits 2).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from experiments.config import ConfigError
from experiments.i18n import _
from experiments.runs import threads

INSTALL_HINT = "Ray is not installed: pip install -r requirements-ray.txt"
WORKER_THREADS_ENV = threads.pool_environment(workers=1, total=1)  # one core per Ray worker (one CPU each)
AUTH_MODE_ENV, TOKEN_ENV, TOKEN_PATH_ENV = "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"
DEFAULT_TOKEN_FILE = Path("~/.ray/auth_token")
GCS_FIRST_CALL = "/ray.rpc.NodeInfoGcsService/GetClusterId"  # Ray's gcs_service.proto
PROBE_SECONDS = 5.0  # how long the head may take to answer before it counts as unreachable
LOCAL_ADDRESSES = ("", "local")  # start a Ray instance in this process instead of joining one


class RayConnectionError(ConfigError):
    """Ray cannot be joined at the given address, with one line naming it and the likely cause."""


class HeadAnswer(StrEnum):
    """What the head said to one call."""

    OPEN = "open"                # answered: no token needed, or the one presented was right
    WANTS_TOKEN = "wants token"  # refused the call: missing or wrong token
    UNREACHABLE = "unreachable"  # no answer (nothing listening, a firewall, not a Ray head)


@dataclass(frozen=True)
class LocalToken:
    """The token this machine would present, and where it was found (for messages; never the token itself)."""

    value: str
    source: str


def import_ray() -> Any:
    """The ray module, or a ConfigError that says how to install it."""
    try:
        import ray
        from ray import tune  # noqa: F401  (ray[tune] extras present)
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def join(address: str | None, cpus: int | None = None) -> bool:
    """Join the Ray head at ``address`` (checked first, ``check_head``), or start a local Ray instance with
    ``cpus`` CPUs when the address is None, "" or "local"; True if this call initialised Ray (the caller shuts
    it down), False if Ray was already running in this process (then it is used as it is, once the head asked
    for has answered). RayConnectionError (one line) if it cannot."""
    local = (address or "").strip().lower() in LOCAL_ADDRESSES
    if not local and address != "auto" and not (address or "").startswith("ray://"):  # ray://: Ray Client's own
        check_head(address or "")  # first (Ray takes long to import), and also when Ray already runs here
    ray = import_ray()
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=None if local else address, num_cpus=cpus if local else None, include_dashboard=False,
                 log_to_driver=False, runtime_env=runtime_env())
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if local:
            raise RayConnectionError(_("could not join a local Ray instance: {reason}").format(
                reason=first_line(exc))) from None
        raise RayConnectionError(_("could not join the Ray head at {address}: {reason}").format(
            address=address, reason=first_line(exc))) from None
    return True


def runtime_env() -> dict[str, Any]:
    """Our packages and the data location for every Ray worker, with one BLAS thread per worker."""
    import nn
    from experiments import __file__ as experiments_init
    env = dict(WORKER_THREADS_ENV)
    if os.environ.get("MNIST_DIR"):
        env["MNIST_DIR"] = os.environ["MNIST_DIR"]
    return {"py_modules": [str(Path(nn.__file__).parent), str(Path(experiments_init).parent)], "env_vars": env}


# ---------------------------------------------------------------------- the check before joining
def check_head(address: str, timeout: float = PROBE_SECONDS) -> None:
    """Make sure the Ray head at ``address`` (HOST:PORT) will take this driver, within about 2 x ``timeout``.

    A head that wants a token gets this machine's, and token mode is turned on for this process if it is
    accepted. RayConnectionError, one line naming the address and the likely cause, otherwise.
    """
    _check_form(address)
    answer, detail = probe(address, None, timeout)
    if answer is HeadAnswer.OPEN:
        return
    if answer is HeadAnswer.UNREACHABLE:
        raise RayConnectionError(_("no Ray head answers at {address} ({detail}): is `ray start --head` running "
                                   "there, on that port, and is the port open from this machine?").format(
                                       address=address, detail=detail))
    token = local_token()
    if os.environ.get(AUTH_MODE_ENV, "").strip().lower() == "disabled":
        raise RayConnectionError(_("the Ray head at {address} requires its token, but {variable}=disabled here: "
                                   "unset it and give this machine the head's token (README: More machines)").format(
                                       address=address, variable=AUTH_MODE_ENV))
    if token is None:
        raise RayConnectionError(_("the Ray head at {address} requires its token and this machine has none: copy "
                                   "the head's ~/.ray/auth_token here or set {variable} (README: More "
                                   "machines)").format(address=address, variable=TOKEN_ENV))
    answer, detail = probe(address, token.value, timeout)
    if answer is HeadAnswer.WANTS_TOKEN:
        raise RayConnectionError(_("the Ray head at {address} refused this machine's token (from {source}): it is "
                                   "not the head's; `ray get-auth-token` on the head prints the right one").format(
                                       address=address, source=token.source))
    if answer is HeadAnswer.UNREACHABLE:
        raise RayConnectionError(_("the Ray head at {address} stopped answering ({detail})").format(address=address,
                                                                                                detail=detail))
    present_token()


def probe(address: str, token: str | None, timeout: float = PROBE_SECONDS) -> tuple[HeadAnswer, str]:
    """One call to the head's GCS (``GetClusterId``, what Ray's driver asks first), with ``token`` if given.

    Through gRPC alone, before Ray is imported (importing Ray Tune takes 20 s on a loaded 2-core machine): the
    request is an empty message, whose bytes are empty, and the answer's bytes are not read."""
    import grpc  # type: ignore[import-untyped]

    metadata = [("authorization", f"Bearer {token}")] if token else []
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(GCS_FIRST_CALL, request_serializer=None, response_deserializer=None)
        try:
            call(b"", timeout=timeout, metadata=metadata)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.UNAUTHENTICATED:
                return HeadAnswer.WANTS_TOKEN, ""
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return HeadAnswer.UNREACHABLE, f"no answer within {timeout:g} s"
            details = exc.details() if hasattr(exc, "details") else str(exc)
            return HeadAnswer.UNREACHABLE, first_line(details or str(code))
    return HeadAnswer.OPEN, ""


def local_token(env: dict[str, str] | None = None) -> LocalToken | None:
    """The token Ray would present from this machine, in Ray's order: ``RAY_AUTH_TOKEN``, the file named by
    ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``; None if there is none (or the file cannot be read)."""
    env = dict(os.environ) if env is None else env
    if env.get(TOKEN_ENV, "").strip():
        return LocalToken(env[TOKEN_ENV].strip(), TOKEN_ENV)
    path = Path(env[TOKEN_PATH_ENV]) if env.get(TOKEN_PATH_ENV) else DEFAULT_TOKEN_FILE.expanduser()
    try:
        value = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return LocalToken(value, str(path)) if value else None


def present_token() -> None:
    """Have this process's Ray present its token (``RAY_AUTH_MODE=token``), as Ray does itself when it finds a
    local cluster; Ray reads its configuration and token once and caches them, so both are read again."""
    os.environ[AUTH_MODE_ENV] = "token"
    try:
        from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]
        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()  # the token found now, not one an earlier Ray read
    except (ImportError, AttributeError):  # another Ray version: the variable alone, read when Ray starts
        pass


def _check_form(address: str) -> None:
    host, _sep, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayConnectionError(_("a Ray head's address is HOST:PORT, e.g. 10.0.0.5:6379 (got {address})").format(
            address=repr(address)))


def first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
