"""Real processes: a SIGKILLed run keeps its finished epochs; two writers at once lose nothing."""
import json
import signal
import subprocess
import sys

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore
from tests.conftest import ROOT

pytestmark = pytest.mark.mnist


def start_cli(db, *args):
    return subprocess.Popen([sys.executable, "-m", "experiments", "--db", str(db), "run", "--json", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_after_the_second_epoch_leaves_two_epochs_and_an_interrupted_run(tmp_path, mnist_dir):
    db = tmp_path / "runs.sqlite"
    proc = start_cli(db, "--hidden", "64", "--epochs", "30", "--train-size", "20000")
    lines = [json.loads(proc.stdout.readline()) for _ in range(2)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert [line["epoch"] for line in lines] == [1, 2]
    store = RunStore(db)  # opening the store notices the dead owner
    (run,) = store.search_runs()
    assert run.status == "interrupted" and run.epochs_done == 2
    assert [e["epoch"] for e in store.get_epochs(run.id)] == [1, 2]
    assert store.get_epochs(run.id)[1]["test_acc"] == pytest.approx(lines[1]["test_acc"])


def test_two_processes_and_this_one_write_at_once_and_lose_nothing(tmp_path, mnist_dir):
    db = tmp_path / "runs.sqlite"
    procs = [start_cli(db, "--hidden", "16", "--epochs", "6", "--train-size", "3000", "--seed", str(s))
             for s in (1, 2)]
    store = RunStore(db)
    mine = store.create_run(RunConfig(), name="written meanwhile")
    for epoch in range(1, 201):  # this process hammers the same file while both children train
        store.log_epoch(mine, dict(epoch=epoch, train_loss=1.0, test_acc=0.5))
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    printed = sum(len(out.splitlines()) for out, _ in outputs)
    runs = store.search_runs()
    assert len(runs) == 3
    stored = sum(len(store.get_epochs(r.id)) for r in runs if r.id != mine)
    assert printed == stored == 12
    assert len(store.get_epochs(mine)) == 200
    assert all(r.status == "finished" for r in runs if r.id != mine)
