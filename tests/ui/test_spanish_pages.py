"""The Exercises, Report, Sweep, Insights and Teacher pages with ``?lang=es`` (AppTest): every text of the page's
main area (titles, captions, Markdown, messages, widgets' labels, help, placeholders and options, tabs,
expanders, buttons, table headers) holds none of a list of English words; the same check on the English page
finds them, so the check can fail. The sidebar is the Train page's concern (tests/ui/test_language.py)."""
from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from streamlit.testing.v1 import AppTest

# imported here, in English: analysis.ranking words a few constants at import (BY_NAMES, RANK_NAME), so the first
# page run in Spanish would freeze them in Spanish for the later tests of this process
from experiments.analysis import ranking  # noqa: F401
from experiments.report import presets
from tests.ui.conftest import populate
from ui import student

# Words that must not remain on a Spanish page (whole words, any case). None of them is Spanish, a setting's
# code name (lr, epochs, optimizer...) or a status (finished, queued...). The course report's comparison titles,
# conclusions and line names read in Spanish too (ARCHITECTURE.md, "Languages"): their words are in the list.
ENGLISH = ("the", "your", "prediction", "exercise", "exercises", "save", "which", "every", "seeds", "settings",
           "training", "images", "compared", "length", "gradient", "show", "queue", "assumptions", "report",
           "sweep", "start", "worker", "processes", "learning", "rates", "batch", "sizes", "hidden", "layers",
           "trial", "trials", "budget", "pruner", "separated", "commas", "accepted", "name", "format", "spec",
           "stored", "runs", "metric", "include", "pruned", "choose", "teacher", "password", "budgets",
           "leaderboard", "predictions", "reveal", "numbers", "students", "with", "vs", "plain", "descent",
           "oscillates", "converges", "smoothly", "steadier", "fluctuates", "peak", "printed", "neurons", "epoch",
           "slightly", "reached", "ours", "only")
PAGES = {"exercises": "ui/exercises_page.py", "report": "ui/report_page.py", "sweep": "ui/sweep_page.py",
         "insights": "ui/insights_page.py", "teacher": "ui/teacher_page.py"}


def _strings(node: object) -> Iterable[str]:
    """The texts a person reads on one element: its value (an element's text; a widget's value is what was typed
    or chosen, not a text of the page), label, help, placeholder, options."""
    widget = hasattr(node, "set_value")
    for name in ("label", "help", "placeholder", "body") if widget else ("value", "label", "help", "placeholder"):
        try:
            value = getattr(node, name, None)
        except Exception:  # an element whose value needs a state it has not got
            continue
        if isinstance(value, str):
            yield value
    for option in getattr(node, "options", None) or ():
        yield str(option)
    proto = getattr(node, "proto", None)
    if proto is not None and type(proto).__name__ == "Arrow":  # a table: its column headers
        yield from _headers(node)


def _headers(node: object) -> Iterable[str]:
    try:
        frame = node.value  # type: ignore[attr-defined]
    except Exception:
        return
    yield from (str(c) for c in getattr(frame, "columns", ()))


def main_text(at: AppTest) -> str:
    """Every text of the page's main area, one per line (the tabs' and expanders' labels too)."""
    return "\n".join(text for node in at.main for text in _strings(node))


def english_words(text: str) -> set[str]:
    # Markdown's inline code (`python -m experiments sweep SPEC`) is a command, the same in every language, and
    # the course report's comparisons' ids are code names (ARCHITECTURE.md, "Languages")
    for comparison in presets.COMPARISONS:
        text = text.replace(comparison.id, " ")
    words = set(re.findall(r"[a-zA-Z]+", re.sub(r"`[^`]*`", " ", text).lower()))
    return words & set(ENGLISH)


def _page(app, page: str, lang: str | None) -> AppTest:
    at = app(timeout=60)
    if lang:
        at.query_params["lang"] = lang
    at.session_state[student.KEY] = "ada"  # Exercises asks a laptop's user for a name first
    at.run()
    at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", list(PAGES))
def test_a_spanish_page_holds_no_english_words(db, app, page):
    populate(db)
    spanish = main_text(_page(app, page, "es"))
    assert spanish.strip()
    assert not english_words(spanish), (english_words(spanish), spanish)


@pytest.mark.parametrize("page", list(PAGES))
def test_the_check_finds_the_english_page(db, app, page):
    """The same check on the English page fails: the words are there to be found."""
    populate(db)
    assert english_words(main_text(_page(app, page, None)))


def test_the_sweep_forms_refusals_read_in_spanish(db, app):
    at = _page(app, "sweep", "es")
    at.text_input(key="sw_lr").set_value("0.1,,0.01").run()
    errors = [e.value for e in at.error]
    assert any("Tasas de aprendizaje: la entrada 2 de '0.1,,0.01' está vacía" in e for e in errors), errors
    at.text_input(key="tp_lr_low").set_value("0.5").run()
    errors = [e.value.replace("\\", "") for e in at.error]  # Markdown's escapes of the parentheses
    assert any("Tasa de aprendizaje desde (0.5) es mayor que Tasa de aprendizaje hasta (0.1)" in e
               for e in errors), errors


def test_the_exercise_stays_chosen_when_the_language_changes(db, app):
    """The picker is keyed by the exercise's id: switching to Spanish shows the same exercise, titled in Spanish."""
    at = _page(app, "exercises", None)
    at.selectbox(key="exercise_choice").set_value("02_optimizer").run()
    english_title = at.subheader[0].value
    at.radio(key="language").set_value("es").run()
    assert at.selectbox(key="exercise_choice").value == "02_optimizer"
    assert at.subheader[0].value != english_title
    assert not english_words(at.subheader[0].value + "\n" + at.markdown[0].value)


def _chart_words(at: AppTest) -> str:
    """The words of the page's charts a person reads: titles, legend entries and hover texts."""
    import json

    out = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out.append(str(spec["layout"].get("title", {}).get("text", "")))
        for trace in spec["data"]:
            out += [str(trace.get(k, "")) for k in ("name", "hovertemplate", "legendgrouptitle")]
    return "\n".join(out)


@pytest.mark.parametrize("lang", ["es", None])
def test_a_reproduced_comparisons_lines_and_verdicts_read_in_spanish(db, app, lang):
    """A reduced reproduction of the second layer, stored: its chart's legend and hovers and its verdicts name the
    lines in Spanish ("784-128-10 (solo nuestra), época 1 (en el informe: ...)"); in English the check finds words."""
    from experiments.store import RunStore
    from tests.report.test_report import fake_reproduction

    second = presets.get_comparison("second-hidden-layer").scaled(0.1)
    fake_reproduction(RunStore(db), presets.variants([second]), seeds=2, tags=["epochs-scale:0.1"])
    at = _page(app, "report", lang)
    text = main_text(at) + "\n" + _chart_words(at)
    if lang is None:
        assert "784-128-10 (ours only), epoch 1 (the report&#x27;s 784-128-10 (ours only), epoch 10)" in text  # escaped
        assert english_words(text)
        return
    assert "784-128-10 (solo nuestra), época 1 (en el informe: 784-128-10 (solo nuestra), época 10)" in text, text
    assert "Lote de 64, tasa de aprendizaje 0.1, una segunda capa oculta, 10 épocas" in text
    assert not english_words(text), (english_words(text), text)
