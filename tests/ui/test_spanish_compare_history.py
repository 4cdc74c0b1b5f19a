"""Compare, History and Inspect in Spanish (AppTest, ``?lang=es``): with two seed groups (a verdict shown),
stored runs and a run with saved weights, none of the pages shows an English phrase of ``ENGLISH``; the same
check on the English pages finds them, so it can fail."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.store import RunStore
from nn import MLP
from tests.conftest import store_finished_run
from tests.ui.conftest import PAGES, texts

# Phrases every one of these pages wrote in English before it was translated (titles, labels, help, captions,
# verdicts, table notes, metrics); none of them is a run's name, a setting's value or a code.
ENGLISH = ("Compare", "History", "Inspect", "Verdict", "best against the others", "Tick runs", "Metrics at the",
           "Numbers at each", "Settings and epochs are chosen", "Metric", "X axis", "Smoothing", "Colour by",
           "Average seeds", "Within epochs", "Show every setting", "Read each run at its", "best epoch",
           "last epoch", "Click a column", "Order", "highest first", "Status", "Search", "any status",
           "selected (CSV)", "Export to", "One row per epoch", "Delete selected", "Load into sidebar", "Name",
           "Tags", "Notes", "Save",
           "First-layer weights", "Units shown", "Training dynamics", "Confusion matrix", "Accuracy per digit",
           "Misclassified", "Hardest digit", "Test accuracy", "True digit", "Draw a digit", "Layer", "Histogram of",
           "Each image is titled", "saved weights", "validation", "accuracy", "epoch", " runs", "correct",
           "Download the network", "Prediction", "no other run", "Compare with")
WIDGETS = ("selectbox", "radio", "toggle", "button", "slider", "text_input", "text_area", "multiselect", "checkbox")


def shown(at: AppTest) -> str:
    """Every text of the page (``texts``), its subheaders, metrics and widgets' labels, options and help."""
    parts = [texts(at), *(h.value for h in at.subheader), *(m.label for m in at.metric),
             *(m.value for m in at.metric), *(str(m.help or "") for m in at.metric)]
    for kind in WIDGETS:
        for widget in getattr(at.main, kind):
            parts += [widget.label, str(getattr(widget, "help", "") or "")]
            parts += [str(o) for o in getattr(widget, "options", [])]
    parts += [str(button.proto.label) for button in at.main.get("download_button")]
    return "\n".join(parts)


def english_in(at: AppTest) -> list[str]:
    page = shown(at)
    return [phrase for phrase in ENGLISH if phrase in page]


def _two_seed_groups(store: RunStore) -> list[int]:
    """Two configurations with three seeds each (so a verdict is shown), the first with saved weights."""
    ids = [store_finished_run(store, [0.90, 0.96 + s / 1000], [0.9] * 2, lr=0.1, seed=s) for s in (0, 1, 2)]
    ids += [store_finished_run(store, [0.80, 0.85 + s / 1000], [0.8] * 2, lr=0.01, seed=s) for s in (0, 1, 2)]
    config = store.get_run(ids[0]).config
    store.weights_path(ids[0]).parent.mkdir(parents=True, exist_ok=True)
    MLP(config.sizes(), seed=0).save(str(store.weights_path(ids[0])))
    return ids


def _open(app, page: str, ids: list[int], language: str, timeout: float = 30) -> AppTest:
    at = app()
    at.query_params["lang"] = language
    at.run()
    at.session_state["compare_ids"] = ids
    at.session_state["inspect_id"] = ids[0]
    at.switch_page(PAGES[page]).run(timeout=timeout)
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", ["Compare", "History"])
def test_compare_and_history_show_no_english(offline_db: Path, store, app, page):
    ids = _two_seed_groups(store)
    spanish = _open(app, page, ids, "es")
    assert english_in(spanish) == [], shown(spanish)
    english = _open(app, page, ids, "en")
    assert len(english_in(english)) >= 5  # the check finds the English pages' words


def test_the_verdict_and_its_wrapper_read_in_spanish(offline_db: Path, store, app):
    at = _open(app, "Compare", _two_seed_groups(store), "es")
    verdicts = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("**Veredicto**")]
    assert len(verdicts) == 1 and "la mejor frente a las demás" in verdicts[0], verdicts
    assert "una diferencia real" in verdicts[0]
    assert at.subheader[0].value.startswith("Métricas en la mejor época")


def test_history_keeps_its_choices_through_a_language_switch(offline_db: Path, store, app):
    at = _open(app, "History", _two_seed_groups(store), "en")
    at.selectbox(key="hist_order").set_value("newest").run()
    at.sidebar.radio(key="language").set_value("es").run()
    assert at.selectbox(key="hist_order").value == "newest"
    assert "más recientes primero" in at.selectbox(key="hist_order").options


def test_inspect_shows_no_english(offline_db: Path, store, app, monkeypatch, mnist_dir):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    ids = _two_seed_groups(store)
    spanish = _open(app, "Inspect", ids, "es", timeout=90)
    assert [m.label for m in spanish.metric][:2] == ["Exactitud de prueba en la época 2", "Mal clasificadas"]
    assert english_in(spanish) == [], shown(spanish)
    english = _open(app, "Inspect", ids, "en", timeout=90)
    assert len(english_in(english)) >= 5
