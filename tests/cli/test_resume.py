"""``resume`` and ``continue`` from the command line: a run SIGKILLed after epoch 2 of 5 and resumed equals an
uninterrupted one in every logged number; every request that cannot be met gets one line and changes nothing."""
from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.config import RunConfig
from experiments.runs.checkpoints import latest_path
from experiments.runs.runner import RunManager
from experiments.store import RunStore
from experiments.store.records import EPOCH_METRICS
from nn.status import RunStatus
from tests.conftest import ROOT, make_blobs

TIMING = ("seconds", "elapsed")
ARGS = ("--hidden", "64", "--epochs", "5", "--train-size", "8000", "--lr", "0.002", "--seed", "4")


def numbers(epochs: list[dict]) -> list[dict]:
    return [{k: e.get(k) for k in ("epoch", *EPOCH_METRICS) if k not in TIMING} for e in epochs]


@pytest.mark.mnist
def test_sigkill_after_epoch_two_then_resume_equals_an_uninterrupted_run(tmp_path, mnist_dir, run_cli):
    db = tmp_path / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "experiments", "--db", str(db), "run", "--json", *ARGS],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [json.loads(proc.stdout.readline()) for _ in range(2)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert [line["epoch"] for line in lines] == [1, 2]
    (run,) = RunStore(db).search_runs()
    assert run.status == RunStatus.INTERRUPTED and 2 <= run.epochs_done < 5, "killed too late to test a resume"

    resumed = run_cli("--db", str(db), "resume", str(run.id), "--json")
    assert resumed.returncode == 0, resumed.stderr
    printed = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert [p["epoch"] for p in printed][-1] == 5 and printed[0]["epoch"] <= 3
    straight = run_cli("--db", str(db), "run", "--json", *ARGS)
    assert straight.returncode == 0, straight.stderr

    store = RunStore(db)
    first, second = sorted(store.search_runs(), key=lambda r: r.id)
    assert (first.status, first.epochs_done) == (RunStatus.FINISHED, 5)
    assert numbers(store.get_epochs(first.id)) == numbers(store.get_epochs(second.id))
    assert numbers(printed) == numbers(store.get_epochs(first.id))[-len(printed):]
    assert [f"{line['test_acc']:.17g}" for line in lines] == [f"{e['test_acc']:.17g}"
                                                               for e in store.get_epochs(second.id)[:2]]


BLOBS = make_blobs(n_train=600, n_test=100, features=784)
SMALL = RunConfig(hidden=(8,), epochs=3, batch_size=50, lr=0.01, train_size=600)


def trained(db: Path, config: RunConfig = SMALL) -> int:
    manager = RunManager(RunStore(db), data_loader=lambda config: BLOBS)
    run_id = manager.submit(config)
    assert manager.wait([run_id], timeout=60)
    return run_id


def state(store: RunStore, run_id: int) -> tuple:
    """Everything stored about a run: its row, its epochs, its files' bytes."""
    folder = store.checkpoint_dir(run_id)
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else None
    return store.get_run(run_id), store.get_epochs(run_id), files


def set_row(db: Path, run_id: int, **values: object) -> None:
    with sqlite3.connect(db) as conn:
        for key, value in values.items():
            conn.execute(f"UPDATE runs SET {key} = ? WHERE id = ?", (value, run_id))


def break_checkpoint(how: str, db: Path, run_id: int) -> None:
    store = RunStore(db)
    path = latest_path(store, run_id)
    if how == "no checkpoint":
        shutil.rmtree(path.parent)
    elif how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "another run's":
        other = trained(db, SMALL.replace(hidden=(12,)))
        path.write_bytes(latest_path(store, other).read_bytes())


CASES = [  # (what is done to a finished run, command, the expected one-line message)
    ("running", "resume", "is still running"),
    ("queued", "resume", "is still queued"),
    ("finished", "resume", "continue it for more epochs"),
    ("diverged", "resume", "diverged"),
    ("unreadable", "resume", "settings cannot be read"),
    ("no checkpoint", "resume", "has no checkpoint"),
    ("missing", "resume", "latest.npz is missing"),
    ("truncated", "resume", "truncated or corrupted"),
    ("another run's", "resume", "checkpoint belongs to run 2: it is another run's file"),
    ("stopped", "continue", "resume it first"),
    ("finished", "continue 0", "at least 1"),
    ("finished", "continue 2000", "continue it for at most 997 more"),
    ("running", "continue", "is still running"),
]


@pytest.mark.parametrize(("case", "command", "message"), CASES)
def test_requests_that_cannot_be_met_get_one_line_and_change_nothing(tmp_path, case, command, message, run_cli):
    db = tmp_path / "runs.sqlite"
    run_id = trained(db)
    if case in ("running", "queued", "diverged", "stopped"):
        set_row(db, run_id, status=case, owner=RunStore(db)._owner)  # this (live) process holds it
    elif case == "unreadable":
        set_row(db, run_id, config='{"hidden": [8], "colour": "blue"}', status="stopped")
    elif case != "finished":
        set_row(db, run_id, status="stopped")
        break_checkpoint(case, db, run_id)
    store = RunStore(db)
    before = state(store, run_id)
    word, *more = command.split()
    args = [word, str(run_id)] + (["--epochs", more[0]] if more else ["--epochs", "2"] if word == "continue" else [])
    result = run_cli("--db", str(db), *args, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr
    assert result.stdout == ""
    assert state(RunStore(db), run_id) == before


def test_a_run_that_does_not_exist(tmp_path, run_cli):
    result = run_cli("--db", str(tmp_path / "runs.sqlite"), "resume", "999", timeout=60)
    assert (result.returncode, result.stderr) == (2, "error: there is no run 999\n")
