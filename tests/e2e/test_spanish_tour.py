"""Issue 26's "done when": a student who reads no English does the README's tour in Spanish, in real Chromium.

With ``?lang=es`` (a teacher's link, which also sets a wild learning rate, ``lr`` 5 with sgd, on 1,000 training
images) the student types the network into the sidebar, presses Entrenar, reads the run's diagnosis in Spanish on
the Train page, presses its "try this fix" button (3 seeds of each setting) and reads Compare's verdict in
Spanish; then does an exercise (predict, run, read the explanation in Spanish) and looks at the Report and
Sweep pages, where a bad value is refused in Spanish. Every page is reached through the sidebar's navigation
(by address, whatever its titles read), so the session and its language are the same throughout.

Every page's whole text (the sidebar's navigation too) is checked for a list of English words, the status codes
among them (a page shows "terminada", never "finished").
"""
from __future__ import annotations

import re

import pytest

from experiments.report import presets
from tests.conftest import wait_until
from tests.live_server import TINY_EXERCISE, enter, running_server, runs

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

# Words that must not remain on a page read in Spanish (whole words, any case): none is Spanish or a setting's code
# name (lr, epochs...); the status codes are here, since a page shows statuses as words. The course report's
# comparison titles, conclusions and line names read in Spanish too (ARCHITECTURE.md, "Languages"): their words
# are in the list.
ENGLISH = ("the", "your", "prediction", "exercise", "save", "which", "every", "seeds", "settings", "training",
           "images", "compared", "length", "gradient", "show", "queue", "assumptions", "report", "sweep", "start",
           "worker", "processes", "learning", "rate", "rates", "batch", "sizes", "hidden", "layers", "trial",
           "trials", "budget", "pruner", "separated", "commas", "accepted", "stored", "runs", "choose", "reveal",
           "result", "verdict", "why", "right", "wrong", "progress", "try", "again", "noise", "not", "quite",
           "with", "vs", "plain", "descent", "oscillates", "converges", "smoothly", "steadier", "fluctuates",
           "peak", "printed", "neurons", "epoch", "slightly", "reached", "ours", "only",
           "queued", "running", "finished", "stopped", "diverged", "failed", "pruned", "interrupted", "paused")

EXERCISE = TINY_EXERCISE + '''
[es]
title = "Mini: tasa de aprendizaje"
question = "¿Qué tasa de aprendizaje gana?"
explanation = "Con gradientes promediados, 0,1 es un buen paso para SGD."
labels = { "lr 0.1" = "tasa 0,1", "lr 0.001" = "tasa 0,001" }
'''
LINK = "/?lang=es&optimizer=sgd&lr=5&train_size=1000&batch_size=64"


def english_words(text: str) -> set[str]:
    """The listed English words in ``text``, leaving out commands and the report's comparison ids (code names)."""
    for comparison in presets.COMPARISONS:
        text = text.replace(comparison.id, " ")
    text = re.sub(r"python -m experiments \w+", " ", text)  # a command, the same in every language
    text = re.sub(r"\b[a-z]+(_[a-z]+)+\b", " ", text)  # Material icons' names (keyboard_arrow_right), not words
    return set(re.findall(r"[a-zA-Z]+", text.lower())) & set(ENGLISH)


def read(page) -> str:
    """The text a person reads: the whole page, sidebar and navigation included."""
    return page.inner_text("body")


def assert_spanish(page, what: str) -> None:
    text = read(page)
    assert not english_words(text), (what, english_words(text), text[:3000])


def go(page, path: str, heading: str) -> None:
    """Open a page from the sidebar's navigation (found by its address: its title is in the session's language)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30000)


@pytest.fixture(scope="module")
def tour_server(tmp_path_factory, mnist_dir, browser):
    tmp = tmp_path_factory.mktemp("tour")
    folder = tmp / "exercises"
    folder.mkdir()
    (folder / "tiny.toml").write_text(EXERCISE, encoding="utf-8")
    with running_server(tmp / "runs.sqlite", mnist_dir, tmp / "server.log",
                        env={"MNIST_LAB_EXERCISES": str(folder)}) as live:
        yield live
        assert "Traceback" not in live.log(), live.log()[-3000:]


def test_a_student_who_reads_no_english_does_the_tour_in_spanish(tour_server, browser):
    db = tour_server.db
    context = browser.new_context(locale="es-CR", viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30000)
    try:
        page.goto(tour_server.url + LINK)
        _train_and_read_the_diagnosis(page, db)
        _compare_with_seeds(page, db)
        _do_an_exercise(page, db)
        _report_and_sweep(page)
    finally:
        context.close()


def _train_and_read_the_diagnosis(page, db) -> None:
    """Train (Entrenar) from the sidebar; the diagnosis reads in Spanish, with its fix named in Spanish."""
    sidebar = page.get_by_test_id("stSidebar")
    hidden = sidebar.get_by_role("textbox", name="Capas ocultas")
    hidden.wait_for()
    enter(page, hidden, "16")
    enter(page, sidebar.get_by_role("textbox", name="Épocas"), "2")
    sidebar.get_by_role("button", name="Entrenar", exact=True).click()
    wait_until(lambda: [r for r in runs(db) if r["status"] not in ("queued", "running")], 90, "the run to end")
    fix = page.locator('[class*="st-key-fix_"] button').first
    fix.wait_for(timeout=30000)
    diagnosis = page.get_by_test_id("stAlert").filter(has_text="Prueba:").first.inner_text()
    assert "Tasa de aprendizaje" in diagnosis, diagnosis
    assert " Try:" not in diagnosis and "Learning rate" not in diagnosis, diagnosis
    assert_spanish(page, "Train")
    fix.click()


def _compare_with_seeds(page, db) -> None:
    """Try this fix queued 3 seeds of each setting and opened Compare: its verdict reads in Spanish."""
    verdict = page.get_by_text("con los ajustes originales").first
    verdict.wait_for(timeout=30000)
    wait_until(lambda: len(runs(db)) == 7 and all(r["status"] == "finished" for r in runs(db)[1:]), 120,
               "the fix trial's six runs")
    helped = page.get_by_text("El arreglo ayudó").first  # lr 5 -> 0.5: from chance to about 65 %
    helped.wait_for(timeout=30000)
    said = helped.inner_text()
    assert "con el arreglo" in said and "una diferencia real" in said, said
    assert not english_words(said), said
    assert_spanish(page, "Compare")
    go(page, "history", "Historial")
    assert_spanish(page, "History")


def _do_an_exercise(page, db) -> None:
    """Predict, run, reveal: every step and the explanation in Spanish."""
    page.locator('[data-testid="stSidebarNav"] a[href$="/exercises"]').first.click()
    name = page.locator(".st-key-student_name_box input")
    name.wait_for()
    name.fill("Ana")
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.get_by_role("heading", name="Mini: tasa de aprendizaje").wait_for()
    page.get_by_text("¿Qué tasa de aprendizaje gana?").wait_for()
    assert_spanish(page, "Exercises: the question")
    page.get_by_test_id("stRadio").get_by_text("tasa 0,1", exact=True).click()
    page.get_by_role("button", name="Guardar mi predicción").click()
    page.get_by_role("button", name="Ejecutar el ejercicio").click()
    reveal = page.get_by_role("button", name="Revelar el resultado")
    reveal.wait_for(timeout=120000)
    assert_spanish(page, "Exercises: every run has finished")
    reveal.click()
    page.get_by_text("Con gradientes promediados, 0,1 es un buen paso para SGD.").wait_for()
    main = page.get_by_test_id("stMain").inner_text()
    assert "Ruido entre semillas:" in main and ("Correcto." in main or "No del todo." in main), (main, runs(db))
    assert "Predijiste tasa 0,1" in main, main
    page.get_by_text("Tu avance", exact=True).click()
    wait_until(lambda: re.search(r"acertada|fallada", page.get_by_test_id("stTable").inner_text()), 30,
               "the progress table")
    assert_spanish(page, "Exercises: the reveal")


def _report_and_sweep(page) -> None:
    """The Report page reads in Spanish; the Sweep page too, and refuses a bad value in Spanish."""
    go(page, "report", "Informe")
    page.get_by_text("El informe concluyó:").first.wait_for()
    assert_spanish(page, "Report")
    go(page, "sweep", "Barrido")
    assert_spanish(page, "Sweep")
    enter(page, page.get_by_role("textbox", name="Tasas de aprendizaje"), "0.1, abc")
    refusal = page.get_by_text("Tasas de aprendizaje debe ser").first
    refusal.wait_for()
    assert "(se recibió 'abc')" in refusal.inner_text()
    assert_spanish(page, "Sweep, refusing a bad value")
