"""Helpers for tests and benchmarks that drive the real Streamlit server: start it on a free loopback port
with its own store, kill it (politely or with SIGKILL), drive its sidebar from Chromium, read the store
with plain sqlite3 (so that reading does not itself mark dead runs as interrupted)."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests import conftest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run dashboard.py`` (or ``script``: serve.py) with the repository's .streamlit/config.toml,
    RESULTS_DB=db."""

    def __init__(self, db: Path, mnist_dir: str, log: Path, port: int | None = None, args: tuple = (),
                 env: dict | None = None, script: str = "dashboard.py"):
        self.db, self.log_path, self.port = Path(db), Path(log), port or free_port()
        self.url = f"http://localhost:{self.port}"
        self._log = open(self.log_path, "a")  # noqa: SIM115 (kept open for the server's lifetime; closed in stop())
        environment = {**os.environ, "RESULTS_DB": str(db), "MNIST_DIR": mnist_dir, "PYTHONUNBUFFERED": "1",
                       **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script,
                                      "--server.port", str(self.port), *args],
                                     cwd=ROOT, env=environment, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start: {self.log()[-2000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a laptop's battery dies."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()


@contextlib.contextmanager
def running_server(*args, **kwargs):
    server = Server(*args, **kwargs)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def runs(db: Path) -> list[dict]:
    """Every run with its status and the number of epochs actually stored, read with plain sqlite3."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT r.id, r.name, r.status, r.epochs_done, r.source, r.message, "
                            "(SELECT count(*) FROM epochs e WHERE e.run_id = r.id) "
                            "FROM runs r ORDER BY r.id").fetchall()
    finally:
        conn.close()
    keys = ("id", "name", "status", "epochs_done", "source", "message", "stored")
    return [dict(zip(keys, row)) for row in rows]


def wait_until(condition, timeout: float = 60, every: float = 0.05, what: str = "condition"):
    """``tests.conftest.wait_until`` in the order benchmarks/bench_load.py calls it (``every`` third)."""
    return conftest.wait_until(condition, timeout, what, every=every)


def open_train_page(browser, url: str, viewport=None):
    page = browser.new_page(viewport=viewport or {"width": 1300, "height": 1000})
    page.set_default_timeout(30000)
    page.goto(url)
    page.get_by_role("heading", name="Train").wait_for()
    return page


def enter(page, box, value: str) -> None:
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(400)


def set_sidebar(page, hidden: str = "16", epochs: int = 2, batch_size: int = 64, seed: int | None = None) -> None:
    """Type the settings into the Train page's sidebar (they stay for this browser session). Train ignores
    a repeated click with the same settings for a few seconds: give runs queued back to back their own seed."""
    enter(page, page.get_by_role("textbox", name="Hidden layers"), hidden)
    if seed is not None:
        enter(page, page.get_by_role("textbox", name="Seed"), str(seed))
    enter(page, page.get_by_role("textbox", name="Epochs"), str(epochs))
    enter(page, page.get_by_role("textbox", name="Batch size"), str(batch_size))
    page.wait_for_timeout(300)
    assert page.get_by_role("textbox", name="Epochs").input_value() == str(epochs)
    assert page.get_by_role("textbox", name="Batch size").input_value() == str(batch_size)


def click_train(page, db: Path) -> int:
    """Press Train; return the id of the run it stored."""
    before = {r["id"] for r in runs(db)}
    page.get_by_role("button", name="Train", exact=True).click()
    new = conftest.wait_until(lambda: [r["id"] for r in runs(db) if r["id"] not in before], 30, "the queued run")
    return new[0]


def goto_page(page, title: str) -> None:
    """Open another page of the dashboard from its navigation and wait for its heading (up to a minute: with a run
    training beside it on two busy cores, a page's first run can take tens of seconds)."""
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=60000)


def tick_row(page, key: str, row: int) -> None:
    """Tick a row's box in a Streamlit dataframe (drawn on a canvas: click its position)."""
    table = page.locator(f'[class*="st-key-{key}"]').first
    table.wait_for()
    page.wait_for_timeout(800)
    box = table.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17 + 35 * row)
    page.wait_for_timeout(1000)


# A two-line, two-seed exercise on 1,000 images (the class and the Spanish tour do it in seconds).
TINY_EXERCISE = '''
title = "Tiny: learning rate"
question = "Which learning rate wins?"
explanation = "Averaged gradients make 0.1 a good step for SGD."
seeds = [0, 1]
locked = ["optimizer"]
free = ["lr"]
[base]
hidden = "16"
optimizer = "sgd"
epochs = 2
train_size = 1000
[[runs]]
label = "lr 0.1"
lr = 0.1
[[runs]]
label = "lr 0.001"
lr = 0.001
[prediction]
kind = "winner"
'''
