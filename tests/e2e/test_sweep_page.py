"""The Sweep page in Chromium at 1280 x 720: the Start button of the open tab starts that tab's sweep, the live
view turns to the sweep just started, and the picker's counts follow the trials' stored statuses (what AppTest
cannot see: which tab is open, and the page's timed reruns)."""
from __future__ import annotations

import re

import pytest

from tests.conftest import wait_until
from tests.live_server import enter, runs

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

VIEWPORT = {"width": 1280, "height": 720}
GRID_LABEL = re.compile(r"^sweep · \d{4}-")  # the picker's label of the grid sweep (named "sweep")
TPE_LABEL = re.compile(r"^tpe · (\d{4}-|starting)")


def _ended(db, prefix: str, count: int) -> list[dict]:
    return [r for r in runs(db) if r["name"].startswith(prefix) and r["status"] not in ("queued", "running")][:count]


def _visible(page, selector: str):
    return page.locator(selector).filter(visible=True).first


def _picker(page):
    """The sweep picker; its value is the shown sweep's label."""
    return page.get_by_role("combobox", name="Sweep").filter(visible=True).first


def test_the_open_tab_starts_its_sweep_and_the_page_follows_it(server, browser):
    from playwright.sync_api import expect
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30000)
    try:
        page.goto(f"{server.url}/sweep")
        page.get_by_role("heading", name="Sweep").wait_for()
        # a one-trial grid, from the Grid tab (open first)
        for label, value in (("Learning rates", "0.01"), ("Batch sizes", "64"), ("Hidden layers", "16"),
                             ("Epochs", "1"), ("Training images (0 = all)", "2000")):
            enter(page, page.get_by_role("textbox", name=label).filter(visible=True).first, value)
        page.get_by_text("1 trial", exact=True).wait_for()
        _visible(page, ".st-key-sw_start_grid button").click()
        wait_until(lambda: _ended(server.db, "sweep #", 1), 120, "the grid's trial to end", every=0.2)
        expect(_picker(page)).to_have_value(GRID_LABEL)

        # the TPE tab open: its Start button starts a TPE sweep, and the live view turns to it
        page.get_by_role("tab", name="TPE (model-based, with pruning)").click()
        for label, value in (("Hidden layers", "16"), ("Epochs", "1"), ("Training images (0 = all)", "2000")):
            enter(page, page.get_by_role("textbox", name=label).filter(visible=True).first, value)
        for label, value in (("Trial budget", "2"), ("Random start-up trials", "2")):
            enter(page, page.get_by_role("spinbutton", name=label).filter(visible=True).first, value)
        page.get_by_text("TPE: up to 2 trials").wait_for()
        _visible(page, ".st-key-sw_start_tpe button").click()
        wait_until(lambda: [r for r in runs(server.db) if not r["name"].startswith("sweep #")], 60,
                   "the second sweep's first trial", every=0.2)
        assert all(r["name"].startswith(("sweep #", "tpe #")) for r in runs(server.db))  # no second grid
        expect(_picker(page)).to_have_value(TPE_LABEL)

        # the picker's label counts the trials' stored statuses, as they end
        wait_until(lambda: len(_ended(server.db, "tpe #", 2)) == 2, 120, "the TPE trials to end", every=0.2)
        expect(_picker(page)).to_have_value(re.compile(r"^tpe · .* · 2 trials: \d (finished|pruned)(, \d "
                                                       r"(finished|pruned))? · dashboard$"), timeout=20000)
    finally:
        page.close()
