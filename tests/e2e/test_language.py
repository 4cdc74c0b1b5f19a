"""The dashboard's language in real Chromium: a browser that prefers Spanish gets the sidebar in Spanish on its
first visit (``st.context.locale``, sent by the browser itself), ``?lang=es`` does the same for any browser,
Train refuses a bad value in Spanish, and the sidebar's switch back to English keeps what was typed."""
from __future__ import annotations

import pytest

from tests.live_server import enter, runs

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]


def _open(browser, url: str, locale: str):
    context = browser.new_context(locale=locale, viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto(url)
    return context, page


def test_a_spanish_browser_gets_the_sidebar_in_spanish_and_the_switch_keeps_the_settings(server, browser):
    context, page = _open(browser, server.url, "es-CR")
    try:
        hidden = page.get_by_role("textbox", name="Capas ocultas")
        hidden.wait_for()
        assert page.get_by_role("button", name="Entrenar", exact=True).is_visible()
        enter(page, hidden, "64, 32")
        enter(page, page.get_by_role("textbox", name="Épocas"), "3")
        page.get_by_text("English", exact=True).click()
        english = page.get_by_role("textbox", name="Hidden layers")
        english.wait_for()
        assert english.input_value() == "64, 32"
        assert page.get_by_role("textbox", name="Epochs").input_value() == "3"
        assert page.get_by_role("button", name="Train", exact=True).is_visible()
    finally:
        context.close()


def test_lang_es_in_the_link_refuses_a_bad_value_in_spanish(server, browser):
    context, page = _open(browser, server.url + "/?lang=es", "en-US")
    try:
        epochs = page.get_by_role("textbox", name="Épocas")
        epochs.wait_for()
        enter(page, epochs, "-5")
        page.get_by_role("button", name="Entrenar", exact=True).click()
        error = page.get_by_text("No se puso en cola").first
        error.wait_for()
        assert "Épocas debe ser un número entero de 1 a 1000 (se recibió '-5')" in error.inner_text()
        assert epochs.input_value() == "-5"
        page.wait_for_timeout(1000)
        assert runs(server.db) == []
    finally:
        context.close()
