"""Faults with the real server and headless Chromium: the server SIGKILLed mid-run (the next one resumes the
run by itself), Stop during the first batch, four runs queued behind one that is stopped, two browser
sessions training at once, and the command line writing into the same store as the dashboard. Each test
counts the stored epochs before and after the fault: none may be lost.

Runs are small (784-16-10 on the full MNIST, which the sidebar always trains on; about 0.3-0.5 s an epoch
here); the store is read with plain sqlite3 so that the reading itself never repairs anything.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import wait_until
from tests.live_server import ROOT, Server, click_train, open_train_page, running_server, runs, set_sidebar

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_dir, browser):
    tmp = tmp_path_factory.mktemp("faults")
    # one run at a time (MNIST_LAB_WORKERS=1): these tests watch a run wait in the queue behind a running one
    with running_server(tmp / "runs.sqlite", mnist_dir, tmp / "server.log", env={"MNIST_LAB_WORKERS": "1"}) as s:
        yield s
    assert "Traceback" not in s.log(), s.log()[-3000:]


def stored(db, run_id) -> dict:
    return next(r for r in runs(db) if r["id"] == run_id)


def losses(db, run_id) -> list[float]:
    """The run's stored epochs' training losses, read with plain sqlite3."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        return [row[0] for row in conn.execute("SELECT train_loss FROM epochs WHERE run_id = ? ORDER BY epoch",
                                               (run_id,))]
    finally:
        conn.close()


def test_sigkill_of_the_server_mid_run_keeps_every_finished_epoch(tmp_path, mnist_dir, browser):
    db = tmp_path / "runs.sqlite"
    server = Server(db, mnist_dir, tmp_path / "server.log")
    try:
        page = open_train_page(browser, server.url)
        set_sidebar(page, hidden="16", epochs=200, batch_size=64)
        run_id = click_train(page, db)
        wait_until(lambda: stored(db, run_id)["stored"] >= 2, 120, "two stored epochs")
        server.kill()
        before = stored(db, run_id)
        assert before["status"] == "running" and before["stored"] >= 2
        page.close()
    finally:
        server.stop()
    kept = losses(db, run_id)
    # the same store, a new server: it notices the dead owner and the run resumes from its checkpoint by itself
    with running_server(db, mnist_dir, tmp_path / "server2.log") as again:
        page = open_train_page(browser, again.url)
        after = wait_until(lambda: stored(db, run_id)["stored"] > before["stored"] and stored(db, run_id), 120,
                           "the run to resume and train on")
        page.close()
    assert after["status"] == "running" and losses(db, run_id)[:len(kept)] == kept  # epochs lost: 0
    assert "Traceback" not in again.log()


def test_stop_during_the_first_batch(server, browser):
    page = open_train_page(browser, server.url)
    try:
        set_sidebar(page, hidden="16", epochs=3, batch_size=1)  # 60,000 batches in the first epoch
        run_id = click_train(page, server.db)
        wait_until(lambda: stored(server.db, run_id)["status"] == "running", 60, "the run to start")
        page.locator(f".st-key-stop_{run_id} button").click()  # a batch of one image: within the first ones
        started = time.monotonic()
        final = wait_until(lambda: stored(server.db, run_id)["status"] not in ("queued", "running")
                           and stored(server.db, run_id), 30, "the run to stop")
        page.get_by_text("stopped").first.wait_for()
        assert final["status"] == "stopped" and final["stored"] == final["epochs_done"] == 0
        assert time.monotonic() - started < 15
    finally:
        page.close()


def test_four_queued_runs_train_after_the_running_one_is_stopped(server, browser):
    page = open_train_page(browser, server.url)
    try:
        # as long as a run may be (about 2 minutes): it must still be training when the four are queued, however
        # fast an epoch has become (at 60 epochs it once finished first, and a queued run started)
        set_sidebar(page, hidden="16", epochs=1000, batch_size=64)
        first = click_train(page, server.db)
        queued = []
        for seed in range(4):  # distinct settings: a repeated click with the same ones queues once
            set_sidebar(page, hidden="16", epochs=2, batch_size=64, seed=seed)
            queued.append(click_train(page, server.db))
        wait_until(lambda: stored(server.db, first)["stored"] >= 1, 120, "the first run's first epoch")
        assert all(stored(server.db, q)["status"] == "queued" for q in queued)
        page.locator(f".st-key-stop_{first} button").click()
        wait_until(lambda: all(stored(server.db, i)["status"] not in ("queued", "running") for i in [first, *queued]),
                   180, "every run to end")
        stopped, rest = stored(server.db, first), [stored(server.db, q) for q in queued]
        assert stopped["status"] == "stopped" and 1 <= stopped["stored"] == stopped["epochs_done"] < 1000
        assert [r["status"] for r in rest] == ["finished"] * 4
        assert [r["stored"] for r in rest] == [2] * 4  # 8 epochs trained, 8 stored
    finally:
        page.close()


def test_two_browser_sessions_train_at_once(server, browser):
    pages = [open_train_page(browser, server.url) for _ in range(2)]
    try:
        for page in pages:
            set_sidebar(page, hidden="16", epochs=3, batch_size=64)
        ids = [click_train(page, server.db) for page in pages]
        wait_until(lambda: all(stored(server.db, i)["status"] == "finished" for i in ids), 180, "both runs")
        assert [stored(server.db, i)["stored"] for i in ids] == [3, 3]
        for page, run_id in zip(pages, ids):  # each session watches its own run to the end
            page.get_by_text(f"Run {run_id} (").first.wait_for()
            page.get_by_text("finished, val. accuracy").first.wait_for()  # ranked on validation
    finally:
        for page in pages:
            page.close()


def test_command_line_and_dashboard_write_together(server, browser, mnist_dir):
    page = open_train_page(browser, server.url)
    try:
        set_sidebar(page, hidden="16", epochs=4, batch_size=64)
        dash_id = click_train(page, server.db)
        cli = subprocess.Popen([sys.executable, "-m", "experiments", "--db", str(server.db), "run", "--json",
                                "--hidden", "16", "--epochs", "4", "--train-size", "10000", "--name", "from cli"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={"MNIST_DIR": mnist_dir, "OMP_NUM_THREADS": "1", **_env()})
        out, err = cli.communicate(timeout=240)
        assert cli.returncode == 0, err
        printed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        wait_until(lambda: stored(server.db, dash_id)["status"] == "finished", 180, "the dashboard run")
        (cli_run,) = [r for r in runs(server.db) if r["name"] == "from cli"]
        assert cli_run["status"] == "finished" and cli_run["stored"] == len(printed) == 4
        assert stored(server.db, dash_id)["stored"] == 4
    finally:
        page.close()


def _env() -> dict:
    import os
    return {k: v for k, v in os.environ.items() if k not in ("RESULTS_DB", "MNIST_DIR")}
