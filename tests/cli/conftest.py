"""Fixtures of the command line's tests: ``python -m experiments`` as a real subprocess, and Ctrl-C pressed
once a run has stored an epoch. (tests/conftest.py's fixtures apply here too: each test's RESULTS_DB, the
MNIST folder.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from experiments.store import RunStore
from tests.conftest import ROOT, wait_until

CliRun = Callable[..., subprocess.CompletedProcess]
CliInterrupt = Callable[[Path, Sequence[str], str], subprocess.CompletedProcess]


def _run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m experiments ARGS`` from the project's root, ``env`` added to this process's; its exit code,
    stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "experiments", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def _interrupt_after_first_epoch(db: Path, args: Sequence[str], mnist_dir: str) -> subprocess.CompletedProcess:
    """Start ``python -m experiments --db DB ARGS``, press Ctrl-C once the store holds an epoch, return what it
    did."""
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "--db", str(db), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "MNIST_DIR": mnist_dir, "OMP_NUM_THREADS": "1"})
    try:
        wait_until(lambda: db.exists() and any(r.epochs_done for r in RunStore(db).search_runs()), 120,
                   "the command's first stored epoch", every=0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def run_cli() -> CliRun:
    """``run_cli(*args, env=None, timeout=600)``: the command line as a subprocess (see ``_run_cli``)."""
    return _run_cli


@pytest.fixture
def interrupt_after_first_epoch() -> CliInterrupt:
    """``interrupt_after_first_epoch(db, args, mnist_dir)``: Ctrl-C after the first stored epoch."""
    return _interrupt_after_first_epoch
