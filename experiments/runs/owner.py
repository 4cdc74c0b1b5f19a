"""Which process owns a run: an identity that survives pid reuse, so a dead owner's runs can be recovered.

A run left queued or running by a process that has died would otherwise look active forever. The owner is
``host:pid:token``, the token being the process's start time (from /proc), so a new process that happens to
get the same pid is not mistaken for the old one.
"""
from __future__ import annotations

import os
import socket


def process_token(pid: int) -> str | None:
    """An identity for a live process that survives pid reuse (its start time), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"


def current_owner() -> str:
    """This process's owner string, ``host:pid:token``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_token(pid)}"


def owner_is_dead(owner: str) -> bool:
    """True if ``owner`` names a process on this machine that has ended (another machine's: False)."""
    try:
        host, pid, token = owner.rsplit(":", 2)
    except ValueError:
        return True
    if host != socket.gethostname():
        return False  # another machine's process: we cannot tell, so leave its runs alone
    return process_token(int(pid)) != token
