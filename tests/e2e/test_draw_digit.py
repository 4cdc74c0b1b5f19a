"""End to end: draw a digit with the mouse on Inspect's canvas and see the network's ten probabilities.

A tiny network is trained through the command line into a temporary store first; the real Streamlit server
then serves that store to headless Chromium (Playwright), which opens Inspect, draws a '7' with mouse
strokes, and reads the probabilities chart from the page. A screenshot goes to artifacts/screenshots/.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.live_server import CHROMIUM, ROOT, chromium, running_server

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_dir):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("draw")
    db = tmp / "runs.sqlite"
    env = {**os.environ, "MNIST_DIR": mnist_dir}
    subprocess.run([sys.executable, "-m", "experiments", "--db", str(db), "run", "--hidden", "32", "--epochs", "1",
                    "--train-size", "10000", "--name", "tiny"], cwd=ROOT, env=env, check=True, timeout=180,
                   capture_output=True)
    with running_server(db, mnist_dir, tmp / "server.log") as live:
        yield live
        log = live.log()
        assert "Traceback" not in log, log[-3000:]


def probabilities_in_page(page) -> list[float]:
    """The y values of the first probabilities bar chart on the page ([] until it is drawn). Read from Plotly's
    ``_fullData``: ``data`` holds NumPy arrays as base64 (``{dtype, bdata}``), decoded only there."""
    return page.evaluate("""() => {
        const plot = document.querySelector('[class*="st-key-draw_probs_"] .js-plotly-plot');
        return plot && plot._fullData && plot._fullData.length ? Array.from(plot._fullData[0].y) : [];
    }""")


def stroke(page, points: list[tuple[float, float]], origin: dict) -> None:
    """One mouse stroke through ``points`` (canvas coordinates, 0..280)."""
    x0, y0 = origin["x"], origin["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=8)
    page.mouse.up()


def test_draw_a_digit_and_see_ten_probabilities(server):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.set_default_timeout(60000)
        page.goto(f"{server.url}/inspect")
        page.get_by_role("heading", name="Draw a digit").wait_for()
        page.get_by_text("Nothing to classify yet").wait_for()  # the empty canvas gets its one line
        canvas = page.locator("canvas.upper-canvas").first
        canvas.scroll_into_view_if_needed()
        canvas.wait_for(state="visible")
        page.wait_for_timeout(500)
        box = canvas.bounding_box()
        assert box and box["width"] >= 200
        stroke(page, [(70, 60), (210, 60), (150, 160), (110, 250)], box)   # a '7'
        wait_until(lambda: len(probabilities_in_page(page)) == 10, 60, "ten probabilities", every=0.2)
        probabilities = probabilities_in_page(page)
        assert abs(sum(probabilities) - 1) < 1e-6 and all(p >= 0 for p in probabilities)
        assert page.locator('[class*="st-key-draw_input"] .js-plotly-plot').count() == 1  # the 28 x 28 shown
        assert page.get_by_text("Nothing to classify yet").count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator('[class*="st-key-draw_probs_"]').first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "inspect_draw_digit.png"))
