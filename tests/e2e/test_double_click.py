"""End to end at 1280 x 720, as a hurried user: double-click every button that queues work and count the runs
stored; open a page by its address; reload the Train page; read the live charts' layout in the browser.

A real Streamlit server (tests/live_server.py) with its own store, the real MNIST, headless Chromium. Each
queueing button is double-clicked (two clicks 50 ms apart, as a fast hand does): Train in the sidebar,
Start sweep, a Report comparison. A click must queue its work once, so the store must hold exactly the runs
of one click.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore
from tests.conftest import wait_until
from tests.live_server import enter, running_server, runs

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

VIEWPORT = {"width": 1280, "height": 720}
SETTLE_MS = 4000  # after a double click: both reruns have ended well before this


@pytest.fixture
def live(tmp_path, mnist_dir, browser):
    """A server whose store holds three finished runs (ids 1-3), and a 1280 x 720 page."""
    db = tmp_path / "runs.sqlite"
    store = RunStore(db)
    for lr in (0.1, 0.01, 0.001):
        run_id = store.create_run(RunConfig(hidden=(16,), epochs=3, lr=lr), name=f"earlier lr {lr}", source="cli")
        for epoch in (1, 2, 3):
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 0.6 / epoch, "test_loss": 0.5 / epoch,
                                     "train_acc": 0.85 + 0.02 * epoch, "test_acc": 0.86 + 0.02 * epoch - lr / 10,
                                     "seconds": 0.3, "elapsed": 0.3 * epoch, "lr": lr})
        store.set_status(run_id, "finished")
    store.close()
    with running_server(db, mnist_dir, tmp_path / "server.log") as server:
        page = browser.new_page(viewport=VIEWPORT)  # conftest's browser: one Chromium for the module
        page.set_default_timeout(30000)
        try:
            yield server, page, db
        finally:
            page.close()
        log = server.log()
    assert "Traceback" not in log, log[-3000:]


def _fresh(page, key: str):
    """The visible button with this key (a stale copy may linger while a rerun runs)."""
    page.wait_for_timeout(800)
    button = page.locator(f".st-key-{key} button").filter(visible=True).first
    button.wait_for()
    return button


def _double_click(page, locator) -> None:
    locator.scroll_into_view_if_needed()
    locator.click(click_count=1)
    page.wait_for_timeout(50)
    locator.click(click_count=1)
    page.wait_for_timeout(SETTLE_MS)


def _new_runs(db: Path, before: set[int]) -> list[dict]:
    return [r for r in runs(db) if r["id"] not in before]


def test_address_reload_and_live_chart_layout(live):
    server, page, db = live
    # /train opens the Train page directly ("Page not found" was shown first), with the runs in its address
    page.goto(f"{server.url}/train?runs=1,2,3")
    page.get_by_role("heading", name="Train").wait_for()
    page.locator(".st-key-live_acc .js-plotly-plot").first.wait_for()
    page.wait_for_timeout(1500)
    assert not page.get_by_text("Page not found").count()
    for run_id in (1, 2, 3):
        assert page.get_by_text(f"Run {run_id} (").count(), f"run {run_id} is not on the Train page"
    # three runs: the legend does not cover the x-axis title (it did when it sat below the plot)
    for kind in ("loss", "acc"):
        boxes = page.evaluate(f"""() => {{
            const plot = [...document.querySelectorAll('.st-key-live_{kind} .js-plotly-plot')].pop();
            const box = (s) => {{ const e = plot.querySelector(s); if (!e) return null;
                                 const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }};
            return {{legend: box('.legend'), xtitle: box('.xtitle'), ytitle: box('.ytitle')}};
        }}""")
        assert boxes["legend"] and boxes["xtitle"], boxes
        assert not _overlap(boxes["legend"], boxes["xtitle"]), (kind, boxes)
        assert not _overlap(boxes["legend"], boxes["ytitle"]), (kind, boxes)
    # a reload (a new session) keeps them
    page.reload()
    page.get_by_role("heading", name="Train").wait_for()
    page.get_by_text("Run 3 (").wait_for()
    # the root address lands on Train at its own address
    page.goto(server.url)
    page.get_by_role("heading", name="Train").wait_for()
    page.wait_for_url("**/train**")


def _overlap(a: list[float], b: list[float] | None) -> bool:
    return b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_double_clicks_queue_each_work_once(live):
    from experiments.report import presets
    server, page, db = live
    page.goto(f"{server.url}/train")
    page.get_by_role("heading", name="Train").wait_for()

    # Train (sidebar): one run per click
    enter(page, page.get_by_role("textbox", name="Hidden layers"), "16")
    enter(page, page.get_by_role("textbox", name="Epochs"), "1")
    page.get_by_text("More settings").click()
    enter(page, page.get_by_role("textbox", name="Training images"), "2000")
    before = {r["id"] for r in runs(db)}
    _double_click(page, page.get_by_role("button", name="Train", exact=True))
    trained = _new_runs(db, before)
    wait_until(lambda: all(r["status"] not in ("queued", "running") for r in runs(db)), 120, "the Train run")
    if trained:  # the page's address names the run (beside the settings), so that a reload shows it again
        page.wait_for_url(re.compile(rf"/train\?(.*&)?runs={trained[-1]['id']}(&|$)"), timeout=10000)

    # Sweep: one sweep of one trial per click
    page.get_by_role("link", name="Sweep").first.click()
    page.get_by_role("heading", name="Sweep").wait_for()
    for label, value in (("Learning rates", "0.01"), ("Batch sizes", "64"), ("Hidden layers", "16")):
        enter(page, page.get_by_role("textbox", name=label), value)
    enter(page, page.get_by_role("textbox", name="Epochs"), "1")
    enter(page, page.get_by_role("textbox", name="Training images (0 = all)"), "2000")
    page.get_by_text("1 trial", exact=True).wait_for()  # one form per count: "1 trial"
    before = {r["id"] for r in runs(db)}
    _double_click(page, _fresh(page, "sw_start_grid"))
    swept = _new_runs(db, before)
    wait_until(lambda: all(r["status"] not in ("queued", "running") for r in runs(db)), 120, "the sweep")

    # Report: one comparison per click (seeds 1, a tenth of the epochs, the correct network only)
    page.get_by_role("link", name="Report").first.click()
    page.get_by_role("heading", name="Report").wait_for()
    enter(page, page.get_by_role("spinbutton", name="Seeds"), "1")
    _choose(page, "Length", "× 0.1")
    _choose(page, "Gradient", "correct network only")
    comparison = presets.get_comparison("learning-rate")
    expected = len(presets.plan(presets.variants([comparison.scaled(0.1)], "mean"), 1))
    before = {r["id"] for r in runs(db)}
    _double_click(page, _fresh(page, "report_run_learning-rate"))
    reported = _new_runs(db, before)

    counts = {"train": len(trained), "sweep": len(swept), "report": len(reported)}
    assert counts == {"train": 1, "sweep": 1, "report": expected}, counts
    configs = _configs(db, [r["id"] for r in reported])
    assert len(set(configs)) == len(configs), f"the report comparison was queued twice: {configs}"


def _configs(db: Path, ids: list[int]) -> list[str]:
    import sqlite3
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute(
            f"SELECT config FROM runs WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id", ids)]


def _choose(page, label: str, option_start: str) -> None:
    page.get_by_label(label, exact=True).last.click()
    page.get_by_role("option").filter(has_text=option_start).first.click()
    page.wait_for_timeout(600)
