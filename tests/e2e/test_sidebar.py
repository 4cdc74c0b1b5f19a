"""The Train sidebar in real Chromium at 1280 x 720 (issue 12): what a box shows is what Train queues.

Typed out-of-range values stay in their boxes and Train refuses them in one line, next to the button, in
view without scrolling; a quick double click on Train queues one run; the run name is cleared after queuing.
"""
from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.live_server import enter, open_train_page, runs

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]
VIEWPORT = {"width": 1280, "height": 720}


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_typed_invalid_values_are_refused_in_view_and_kept(server, browser):
    page = open_train_page(browser, server.url, viewport=VIEWPORT)
    try:
        epochs, batch = page.get_by_role("textbox", name="Epochs"), page.get_by_role("textbox", name="Batch size")
        enter(page, epochs, "-5")
        enter(page, batch, "99999999")
        train = page.get_by_role("button", name="Train", exact=True)
        assert _in_view(page, train), "Train is below the fold at 1280 x 720"
        train.click()
        error = page.get_by_text("Not queued").first
        error.wait_for()
        assert _in_view(page, error), "Train's message is off-screen"
        text = error.inner_text()
        assert "Epochs must be a whole number from 1 to" in text and "(got '-5')" in text
        assert "Batch size must be" in text
        assert epochs.input_value() == "-5" and batch.input_value() == "99999999"  # nothing clamped
        page.wait_for_timeout(1000)
        assert runs(server.db) == []  # and nothing queued with other values
    finally:
        page.close()


def test_a_double_click_queues_once_and_the_name_is_cleared(server, browser):
    page = open_train_page(browser, server.url, viewport=VIEWPORT)
    try:
        enter(page, page.get_by_role("textbox", name="Hidden layers"), "8")
        enter(page, page.get_by_role("textbox", name="Epochs"), "1")
        page.get_by_text("More settings").click()
        enter(page, page.get_by_role("textbox", name="Training images"), "1000")
        name = page.get_by_role("textbox", name="Run name")
        enter(page, name, "double click")
        train = page.get_by_role("button", name="Train", exact=True)
        train.click()
        train.click(delay=0)  # the second click lands while the first one's rerun is under way
        wait_until(lambda: runs(server.db), 30, "the queued run")
        wait_until(lambda: name.input_value() == "", 30, "the name box to clear")
        page.wait_for_timeout(2000)
        stored = runs(server.db)
        assert [r["name"] for r in stored] == ["double click"], stored
    finally:
        page.close()
