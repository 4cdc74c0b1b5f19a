"""A real Ray head for the tests, started as a user starts one: ``ray start --head`` with Ray's default
authentication, on loopback, a free port and a temporary folder of its own.

Ray 2.60's ``ray start --head`` turns token authentication on when the machine has a token (``RAY_AUTH_MODE``
unset): the head gets its own fresh token in a file in its folder (``RAY_AUTH_TOKEN_PATH``), never the user's
``~/.ray/auth_token``, so it runs with tokens as on a class server and cannot be joined by another session's
token, nor they by its. It runs with ``--block`` in a process group of its own; stopping it terminates that
process (which stops the node's processes) and, after a deadline, kills what is left of the group: only what
this helper started, never ``ray stop`` (which stops every Ray process on the machine, other sessions' too).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 120.0   # the head must answer within this
STOP_SECONDS = 60.0     # then its processes must be gone (Ray drains for up to 30 s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RayHead:
    """A running head: its address, the file holding its token, its folder and its process."""

    address: str
    token_file: Path
    folder: Path
    process: subprocess.Popen

    def log(self) -> str:
        return (self.folder / "head.log").read_text(errors="replace")


def start_head(cpus: int = 2) -> RayHead:
    """Start the head and wait (with a deadline) until it answers; RuntimeError with its log if it does not."""
    from experiments.runs.ray_cluster import HeadAnswer, probe

    folder = Path(tempfile.mkdtemp(prefix="rayh-", dir="/tmp"))  # short: Ray's socket paths must stay short
    token_file = folder / "auth_token"
    token_file.write_text(secrets.token_hex(32))
    token_file.chmod(0o600)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env.update(RAY_AUTH_TOKEN_PATH=str(token_file), RAY_USAGE_STATS_ENABLED="0")
    command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
               "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(cpus),
               "--temp-dir", str(folder / "ray"), "--include-dashboard", "false",
               "--dashboard-port", str(free_port()), "--dashboard-agent-listen-port", str(free_port()),
               "--ray-client-server-port", str(free_port()), "--disable-usage-stats"]
    with open(folder / "head.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    head = RayHead(f"127.0.0.1:{port}", token_file, folder, process)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stop_head(head)
            raise RuntimeError(f"ray start --head exited with {process.returncode}:\n{head.log()[-3000:]}")
        answer, _ = probe(head.address, None, timeout=2.0)
        if answer is not HeadAnswer.UNREACHABLE and "Ray runtime started" in head.log():
            return head
        time.sleep(0.5)
    log_text = head.log()
    stop_head(head)
    raise RuntimeError(f"the Ray head did not answer within {START_SECONDS:g} s:\n{log_text[-3000:]}")


def stop_head(head: RayHead) -> None:
    """Stop the head's processes (SIGTERM to ``ray start``, then SIGKILL to its group after a deadline), and
    remove its folder."""
    group = head.process.pid  # its own session: the group id is its pid
    if head.process.poll() is None:
        head.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and _group_alive(head):
        time.sleep(0.5)
    if _group_alive(head):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        head.process.wait(timeout=10)
    shutil.rmtree(head.folder, ignore_errors=True)


def _group_alive(head: RayHead) -> bool:
    """``ray start`` still running, or any process of its group alive (not a zombie)."""
    return head.process.poll() is None or _live_members(head.process.pid)


def _live_members(group: int) -> bool:
    """Whether a process of ``group`` other than a zombie is alive (read from /proc: Linux)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def forget_token() -> None:
    """Have this process's Ray forget the head's token and token mode once a test has left the head (call after
    the environment is restored): Ray caches both, and a local Ray started later in the session (the sweep
    tests) would present the head's token to its own processes, which read ~/.ray/auth_token."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()
