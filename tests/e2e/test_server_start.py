"""The class server takes up its runs when it starts, with no browser: ``streamlit run serve.py`` (the
dashboard behind Streamlit's ASGI app, whose lifespan hook makes the run manager).

Three runs are queued into a store by a process that then ends (as a dead server leaves them); the server
starts and trains them with no page ever opened; it is SIGKILLed in the middle of the first, and started
again: still with no browser, the interrupted run resumes from its checkpoint and the queued ones train,
and every run finishes. The resumed run logs exactly the numbers of the same settings trained without a
break (the third run), compared by repr. Real MNIST (784-16-10, about half a second an epoch here), a real
server, the store read with plain sqlite3 until the end (reading never repairs anything).
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from experiments.store import RunStore
from tests.conftest import wait_until
from tests.live_server import ROOT, Server, running_server, runs

pytestmark = [pytest.mark.mnist, pytest.mark.slow]

QUEUE = """
import sys
from experiments.config import RunConfig
from experiments.store import RunStore
store = RunStore(sys.argv[1])
long = RunConfig(hidden=(16,), epochs=10, batch_size=64, seed=1)
for config in (long, long.replace(epochs=1, seed=2), long):
    store.create_run(config, source="test")
"""
TIMING = ("seconds", "elapsed", "run_id")  # all that may differ between two trainings of one seed


def stored(db, run_id) -> dict:
    return next(r for r in runs(db) if r["id"] == run_id)


def numbers(db, run_id) -> str:
    epochs = RunStore(db).get_epochs(run_id)
    return repr([{k: v for k, v in epoch.items() if k not in TIMING} for epoch in epochs])


def test_a_killed_server_started_again_finishes_its_runs_without_a_visitor(tmp_path, mnist_dir):
    db = tmp_path / "runs.sqlite"
    subprocess.run([sys.executable, "-c", QUEUE, str(db)], cwd=ROOT, check=True, timeout=60)
    first, queued, reference = (r["id"] for r in runs(db))
    env = {"MNIST_LAB_WORKERS": "1"}  # one run at a time: the others wait in the queue
    server = Server(db, mnist_dir, tmp_path / "server1.log", env=env, script="serve.py")
    try:
        wait_until(lambda: stored(db, first)["stored"] >= 2, 120, "the first run's second epoch, with no browser")
        server.kill()
    finally:
        server.stop()
    before = stored(db, first)
    assert before["status"] == "running" and before["stored"] < 10
    assert stored(db, queued)["status"] == stored(db, reference)["status"] == "queued"
    with running_server(db, mnist_dir, tmp_path / "server2.log", env=env, script="serve.py") as again:
        wait_until(lambda: all(r["status"] == "finished" for r in runs(db)), 300, "every run to finish, no browser")
    assert [r["stored"] for r in runs(db)] == [10, 1, 10]
    assert numbers(db, first) == numbers(db, reference)  # resumed from its checkpoint: the same numbers
    assert "Traceback" not in again.log() and "Traceback" not in (tmp_path / "server1.log").read_text()
