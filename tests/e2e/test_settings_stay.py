"""Sidebar settings stay put in real Chromium (issue 23, items 1 and 2): a link's locked settings and values
typed by hand survive any number of round trips to another page, and "Load into sidebar" puts the loaded
settings in the address bar and the "Copy link" box, so a reload keeps them.

The round trips are made while a run trains (as in class: a student trains, looks at Compare, comes back):
the Train page's live panel then reruns every second, and the settings used to fall back to the defaults
on the first or second return to Train."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from experiments.config import RunConfig
from experiments.store import RunStore
from tests.conftest import wait_until
from tests.live_server import click_train, enter, goto_page, open_train_page, runs, tick_row

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]
VIEWPORT = {"width": 1280, "height": 720}
ROUND_TRIPS = 3


def _box(page, label: str):
    return page.get_by_role("textbox", name=label)


def _query(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


def _round_trips(page, count: int) -> None:
    """Compare -> Train ``count`` times, staying on each page about as long as a student glances at it."""
    for _ in range(count):
        goto_page(page, "Compare")
        page.wait_for_timeout(2000)
        goto_page(page, "Train")
        _box(page, "Hidden layers").wait_for()
        page.wait_for_timeout(2000)


@pytest.fixture(scope="module")
def training(server, browser):
    """A run training on the real MNIST (all 60,000 images, 10 epochs: it trains through the whole module), so
    that every Train page's live panel reruns every second while the tests go from page to page."""
    page = open_train_page(browser, server.url)
    try:
        RunStore(server.db).close()  # the store's tables exist before the run list is read
        click_train(page, server.db)
        wait_until(lambda: any(r["stored"] for r in runs(server.db)), 120, "the first epoch of the run")
    finally:
        page.close()
    return server


def _watch_a_run(page, db) -> None:
    """Queue a run from this tab (it then watches it): its live panel reruns every second."""
    click_train(page, db)
    page.get_by_role("button", name="Stop").first.wait_for()


def test_locked_link_settings_survive_round_trips(training, browser):
    server = training
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30000)
    try:
        page.goto(f"{server.url}/train?hidden=32&epochs=5&lock=hidden,epochs")
        page.get_by_role("heading", name="Train").wait_for()
        _watch_a_run(page, server.db)
        _round_trips(page, ROUND_TRIPS)
        hidden, epochs = _box(page, "Hidden layers"), _box(page, "Epochs")
        assert (hidden.input_value(), epochs.input_value()) == ("32", "5")
        assert hidden.is_disabled() and epochs.is_disabled()
        assert _query(page)["hidden"] == "32" and _query(page)["epochs"] == "5"
    finally:
        page.close()


def test_typed_settings_survive_round_trips(training, browser):
    server = training
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30000)
    try:
        page.goto(f"{server.url}/train")
        page.get_by_role("heading", name="Train").wait_for()
        for label, value in (("Hidden layers", "48"), ("Epochs", "7"), ("Seed", "9")):
            enter(page, _box(page, label), value)
        _watch_a_run(page, server.db)
        _round_trips(page, ROUND_TRIPS)
        shown = [_box(page, label).input_value() for label in ("Hidden layers", "Epochs", "Seed")]
        assert shown == ["48", "7", "9"]
    finally:
        page.close()


def test_load_into_sidebar_updates_the_address_bar_and_survives_a_reload(server, browser):
    store = RunStore(server.db)
    try:
        run_id = store.create_run(RunConfig(hidden=(24, 12), epochs=3, seed=5, lr=0.01), name="to load")
        store.set_status(run_id, "finished")
    finally:
        store.close()
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30000)
    try:
        page.goto(f"{server.url}/history")
        page.get_by_role("heading", name="History").first.wait_for()
        search = page.get_by_role("textbox", name="Search")
        search.fill("to load")
        search.press("Enter")
        page.get_by_text(re.compile(r"^1 of \d+ runs")).wait_for()
        tick_row(page, "history_table", 0)
        page.get_by_role("button", name="Load into sidebar").click()
        page.get_by_role("heading", name="Train").wait_for()
        wait_until(lambda: _box(page, "Hidden layers").input_value() == "24, 12", 30, "the loaded settings")
        wait_until(lambda: _query(page).get("hidden") == "24, 12", 30, "the loaded settings in the address bar")
        assert _query(page)["epochs"] == "3" and _query(page)["seed"] == "5" and _query(page)["lr"] == "0.01"
        page.get_by_text("Copy link").click()
        link = page.locator(".st-key-copy_link").inner_text()
        assert "hidden=24%2C+12" in link and "seed=5" in link, link
        page.reload()
        page.get_by_role("heading", name="Train").wait_for()
        wait_until(lambda: _box(page, "Hidden layers").input_value() == "24, 12", 30, "the settings after reload")
        assert _box(page, "Epochs").input_value() == "3" and _box(page, "Seed").input_value() == "5"
    finally:
        page.close()
