"""A seed is a run: the same settings and seed log the same numbers, bit for bit, on one product thread or two,
on a quiet machine or one whose every core is busy, and a run SIGKILLed at one load and resumed at another
equals the run trained straight through (nn/compute.py, experiments/runs/threads.py).

The runs go through the command line, as a user starts them, on real MNIST (8,000 training images: the
first layer's products are large enough to be cut into blocks and shared by the threads). Nothing pins the
thread count here except where a test sets it on purpose.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.runs import threads
from experiments.store import RunStore
from experiments.store.records import EPOCH_METRICS
from nn import compute
from nn.status import RunStatus
from tests.conftest import ROOT

pytestmark = pytest.mark.mnist
ARGS = ("--epochs", "4", "--train-size", "8000", "--val-size", "2000", "--seed", "11")
TIMING = ("seconds", "elapsed")


def environment(product_threads: int | None) -> dict[str, str]:
    """This process's environment with MLP_BLAS_THREADS set to ``product_threads``, or removed (the rule)."""
    env = dict(os.environ)
    env.pop(threads.ENV, None)
    if product_threads is not None:
        env[threads.ENV] = str(product_threads)
    return env


def run(db: Path, product_threads: int | None, *args: str) -> list[dict]:
    """``python -m experiments run --json`` to its end; the logged numbers of every epoch (times left out)."""
    done = subprocess.run([sys.executable, "-m", "experiments", "--db", str(db), *args, "--json"], cwd=ROOT,
                          env=environment(product_threads), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return [numbers(json.loads(line)) for line in done.stdout.splitlines()]


def numbers(logs: dict) -> dict:
    """Every logged number of an epoch, as its exact bits (repr of a float is exact), times left out."""
    return {k: repr(logs.get(k)) for k in ("epoch", *EPOCH_METRICS) if k not in TIMING}


def test_the_products_are_cut_into_blocks_at_these_sizes():
    """Else the tests below would compare one-call products and prove nothing about threads."""
    assert compute.plan(64, 784, 128) is not None and compute.plan(784, 64, 128) is not None


def test_one_thread_and_two_log_the_same_numbers(tmp_path, mnist_dir):
    one = run(tmp_path / "one.sqlite", 1, "run", *ARGS)
    two = run(tmp_path / "two.sqlite", 2, "run", *ARGS)
    assert len(one) == 4 and one == two


def test_a_busy_machine_logs_the_numbers_of_a_quiet_one(tmp_path, mnist_dir, competing_load):
    quiet = run(tmp_path / "quiet.sqlite", None, "run", *ARGS)
    assert competing_load.start() >= 1
    busy = run(tmp_path / "busy.sqlite", None, "run", *ARGS)
    assert len(quiet) == 4 and quiet == busy


def test_sigkilled_under_load_and_resumed_on_a_quiet_machine_equals_the_straight_run(tmp_path, mnist_dir,
                                                                                      competing_load):
    db = tmp_path / "runs.sqlite"
    assert competing_load.start() >= 1
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "--db", str(db), "run", "--json", *ARGS],
                            cwd=ROOT, env=environment(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:  # epoch 2 printed: epoch 1's checkpoint is surely written (a checkpoint follows its epoch's line)
        printed = [json.loads(read_line(proc, timeout=300)) for _ in range(2)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    competing_load.stop()
    assert [p["epoch"] for p in printed] == [1, 2]
    (killed,) = RunStore(db).search_runs()
    assert killed.status == RunStatus.INTERRUPTED and 2 <= killed.epochs_done < 4, "killed too late to test"

    resumed = run(db, 1, "resume", str(killed.id))
    straight = run(tmp_path / "straight.sqlite", 2, "run", *ARGS)
    stored = [numbers(e) for e in RunStore(db).get_epochs(killed.id)]
    assert RunStore(db).get_run(killed.id).status == RunStatus.FINISHED
    assert stored == straight and resumed == straight[-len(resumed):]


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """The next line the process prints, waiting at most ``timeout`` seconds for it."""
    ready = selectors.DefaultSelector()
    ready.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    if not ready.select(timeout):
        raise AssertionError(f"the run printed no epoch within {timeout:.0f} s")
    return proc.stdout.readline()  # type: ignore[union-attr]
