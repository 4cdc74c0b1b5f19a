"""End to end: the real Streamlit server driven by headless Chromium (Playwright).

Trains a small network from the Train page and watches its chart gain points while it runs, finds the
finished run in History, picks two runs in Compare and sees two traces, and screenshots every page into
artifacts/screenshots/. It also measures the delay between an epoch being committed and its point
appearing in the browser, and the epoch time with the dashboard open against a headless command-line
run of the same settings (artifacts/e2e_timings.json).
"""
from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore
from tests.live_server import ROOT, goto_page, running_server, tick_row

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

ARTIFACTS = ROOT / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
# Small network, tiny batches: each epoch takes a couple of seconds, long enough to watch it arrive.
SETTINGS = {"hidden": "16", "epochs": 4, "batch_size": 2, "optimizer": "sgd", "lr": 0.001}
RUN_NAME = "e2e-run"


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_dir, browser):
    """A real server on a free port with its own store, holding one earlier command-line run."""
    tmp = tmp_path_factory.mktemp("e2e")
    db = tmp / "runs.sqlite"
    store = RunStore(db)
    earlier = store.create_run(RunConfig(hidden=(16,), epochs=3, batch_size=64, lr=0.001), name="earlier cli run",
                               source="cli")
    for epoch in (1, 2, 3):
        store.log_epoch(earlier, {"epoch": epoch, "train_loss": 0.6 / epoch, "test_loss": 0.5 / epoch,
                                  "train_acc": 0.85 + 0.02 * epoch, "test_acc": 0.86 + 0.02 * epoch,
                                  "seconds": 0.3, "elapsed": 0.3 * epoch, "lr": 0.001})
    store.set_status(earlier, "finished")
    store.close()
    with running_server(db, mnist_dir, tmp / "server.log") as live:
        yield {"url": live.url, "db": db, "tmp": tmp}
        errors = (tmp / "server.log").read_text()
        assert "Traceback" not in errors, errors[-3000:]


class EpochWatcher(threading.Thread):
    """Records when each epoch of a run is committed to the store (polled every 10 ms)."""

    def __init__(self, db: Path, name: str):
        super().__init__(daemon=True)
        self.db, self.name = db, name
        self.committed: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.db, timeout=5)
        while not self.done.is_set():
            rows = conn.execute("SELECT e.epoch FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = ?",
                                (self.name,)).fetchall()
            now = time.time()
            for (epoch,) in rows:
                self.committed.setdefault(epoch, now)
            time.sleep(0.01)
        conn.close()


def headless_epoch_seconds(mnist_dir: str, tmp: Path) -> list[float]:
    """Epoch times of the same settings trained by the command line, no dashboard involved."""
    env = {**os.environ, "RESULTS_DB": str(tmp / "headless.sqlite"), "MNIST_DIR": mnist_dir}
    out = subprocess.run([sys.executable, "-m", "experiments", "run", "--json", "--hidden", SETTINGS["hidden"],
                          "--epochs", str(SETTINGS["epochs"]), "--batch-size", str(SETTINGS["batch_size"]),
                          "--optimizer", SETTINGS["optimizer"], "--lr", str(SETTINGS["lr"])],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line)["seconds"] for line in out.stdout.splitlines() if line.startswith("{")]


def live_points(page) -> int:
    return page.evaluate("""() => {
        const plot = document.querySelector('.st-key-live_acc .js-plotly-plot');
        return plot && plot.data && plot.data.length ? plot.data[0].x.length : 0;
    }""")


def shoot(page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its own container, so grow the viewport to fit."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]') || document.body;
        return Math.max(main.scrollHeight, document.body.scrollHeight);
    }""")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 40), 6000)})
    page.wait_for_timeout(900)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def test_train_watch_history_compare(server, browser, mnist_dir):
    headless = headless_epoch_seconds(mnist_dir, server["tmp"])
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    page.set_default_timeout(30000)
    try:
        _journey(page, server, headless)
    except Exception:
        shoot(page, "failure")
        raise
    finally:
        page.close()


def _journey(page, server, headless: list[float]) -> None:
    page.goto(server["url"])
    page.get_by_role("heading", name="Train").wait_for()
    page.get_by_text("This tab is not watching a run. The stored run is on History").wait_for()  # the earlier one

    # settings; an invalid one first, refused with a message
    hidden = page.get_by_role("textbox", name="Hidden layers")
    hidden.fill("16, x")
    hidden.press("Enter")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Not queued").wait_for()
    _enter(page, hidden, SETTINGS["hidden"])
    for label, value in (("Epochs", SETTINGS["epochs"]), ("Batch size", SETTINGS["batch_size"])):
        _enter(page, page.get_by_role("textbox", name=label), str(value))
    _choose(page, "Optimizer", SETTINGS["optimizer"])
    page.get_by_text("More settings").click()
    _enter(page, page.get_by_role("textbox", name="Run name"), RUN_NAME)
    page.wait_for_timeout(500)
    for label, value in (("Epochs", SETTINGS["epochs"]), ("Batch size", SETTINGS["batch_size"])):
        assert page.get_by_role("textbox", name=label).input_value() == str(value)

    watcher = EpochWatcher(server["db"], RUN_NAME)
    watcher.start()
    page.get_by_role("button", name="Train", exact=True).click()
    seen: dict[int, float] = {}
    deadline = time.monotonic() + 120
    finished_at = None
    zoom = paused_epochs = unpaused = None
    try:
        while time.monotonic() < deadline:
            points = live_points(page)
            now = time.time()
            for k in range(1, points + 1):
                seen.setdefault(k, now)
            if points and zoom is None and len(watcher.committed) < SETTINGS["epochs"]:
                # mid-run: pause, zoom in, check that nothing trains meanwhile, unpause
                page.get_by_role("button", name="Pause").first.click()
                page.get_by_role("button", name="Unpause").first.wait_for()
                zoom = _drag_zoom(page)
                page.wait_for_timeout(1000)
                paused_epochs = len(watcher.committed)
                page.wait_for_timeout(1500)
                assert len(watcher.committed) == paused_epochs, "a paused run went on training"
                page.get_by_role("button", name="Unpause").first.click()
                unpaused = time.time()
                continue
            still_going = not page.get_by_text("finished, val. accuracy").count()
            if points and len(watcher.committed) < SETTINGS["epochs"] and still_going:
                seen.setdefault(-1, now)  # a point was on the chart while the run was still going
            if points >= SETTINGS["epochs"]:
                finished_at = now
                break
            time.sleep(0.05)
    finally:
        watcher.done.set()
        watcher.join()
    assert finished_at is not None, f"the chart never reached {SETTINGS['epochs']} points: {seen}"
    assert -1 in seen and seen[1] < watcher.committed[SETTINGS["epochs"]], "no point appeared before the run ended"
    page.get_by_text("finished, val. accuracy").first.wait_for()
    kept = page.evaluate("() => document.querySelector('.st-key-live_acc .js-plotly-plot').layout.xaxis.range")
    assert zoom is not None and kept == pytest.approx(zoom, abs=1e-6), (kept, zoom)  # zoom survived new epochs
    shoot(page, "train")

    # delays of the epochs that ended after the pause (those before it were not polled during it)
    after = [k for k in range(1, SETTINGS["epochs"] + 1) if watcher.committed[k] > unpaused]
    delays = [seen[k] - watcher.committed[k] for k in after]
    with sqlite3.connect(server["db"]) as conn:
        dashboard = [s for (e, s) in conn.execute(
            "SELECT e.epoch, e.seconds FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = ? ORDER BY e.epoch",
            (RUN_NAME,)) if e != paused_epochs + 1]  # the paused epoch's time includes the pause
    assert delays, "no epoch ended after the pause"
    timings = {"first_point_delay": seen[1] - watcher.committed[1],  # includes loading Plotly in the page
               "epoch_to_browser_seconds": delays, "median_delay": statistics.median(delays),
               "dashboard_epoch_seconds": dashboard, "headless_epoch_seconds": headless,
               "slowdown_ratio_median": statistics.median(dashboard) / statistics.median(headless)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e_timings.json").write_text(json.dumps(timings, indent=1))
    print(json.dumps(timings))
    assert all(d < 5 for d in delays), delays

    # History: the finished run is stored and found by name and status
    goto_page(page, "History")
    search = page.get_by_role("textbox", name="Search")
    search.fill(RUN_NAME)
    search.press("Enter")
    page.get_by_text("1 of 2 runs").wait_for()
    _choose(page, "Status", "finished")
    page.get_by_text("1 of 2 runs").wait_for()
    search.fill("")
    search.press("Enter")
    page.get_by_text("2 of 2 runs").wait_for()
    tick_row(page, "history_table", 0)  # the newest: our run; its edit panel opens
    page.get_by_role("button", name="Load into sidebar").wait_for()
    shoot(page, "history")

    # Compare: the run picked in History is already ticked; tick the earlier one too, see two traces
    goto_page(page, "Compare")
    page.locator(".st-key-compare_chart .js-plotly-plot").wait_for()
    assert _legend_traces(page) == 1
    tick_row(page, "compare_table", 1)
    page.wait_for_function("""() => {
        const plot = document.querySelector('.st-key-compare_chart .js-plotly-plot');
        return plot && plot.data && plot.data.filter(
            t => t.showlegend !== false && !(t.name || '').startsWith('best epoch')).length === 2;
    }""", timeout=20000)
    shoot(page, "compare")

    goto_page(page, "Report")
    shoot(page, "report")

    goto_page(page, "Inspect")
    page.get_by_text("Confusion matrix").wait_for(timeout=60000)
    page.locator(".st-key-inspect_weights .js-plotly-plot").wait_for(timeout=60000)
    shoot(page, "inspect")
    assert not page.get_by_text("Traceback").count()


def _legend_traces(page) -> int:
    """The runs' traces on Compare's chart (not the best-epoch stars)."""
    return page.evaluate("""() => document.querySelector('.st-key-compare_chart .js-plotly-plot').data
        .filter(t => t.showlegend !== false && !(t.name || '').startsWith('best epoch')).length""")


def _drag_zoom(page, attempts: int = 3) -> list[float]:
    """Drag a box over the live accuracy chart; return the x range it zoomed to.

    The chart may be redrawn under the mouse (a within-epoch point flushed just after the pause), which
    drops a drag in progress: then drag again, up to ``attempts`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        area = page.locator(".st-key-live_acc .js-plotly-plot .nsewdrag").first.bounding_box()
        page.mouse.move(area["x"] + area["width"] * 0.05, area["y"] + area["height"] * 0.05)
        page.mouse.down()
        page.mouse.move(area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.9, steps=5)
        page.mouse.up()
        try:
            page.wait_for_function("""() => {
                const p = document.querySelector('.st-key-live_acc .js-plotly-plot');
                // unzoomed, the axis starts at 0 (within-epoch points drawn) or 0.5 (none yet)
                return p && p.layout.xaxis.autorange === false && ![0, 0.5].includes(p.layout.xaxis.range[0]);
            }""", timeout=5000)
            break
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
    return page.evaluate("() => document.querySelector('.st-key-live_acc .js-plotly-plot').layout.xaxis.range")


def _enter(page, box, value: str) -> None:
    """Type a value and commit it, then let the app's rerun settle before the next widget."""
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(600)


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox or multiselect labelled ``label``."""
    page.get_by_label(label, exact=True).last.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # a multiselect stays open after a pick
    page.wait_for_timeout(400)
