"""The dashboard in Spanish (AppTest): ``?lang=es`` or the browser's language opens it in Spanish, the
sidebar's switch changes it and keeps every setting, ``lock=lang`` holds it; the sidebar, a link's refusal, a
diagnosis and a seed verdict read in Spanish; English stays the default."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from experiments import i18n
from experiments.config import RunConfig
from experiments.store import RunStore
from tests.conftest import store_finished_run
from tests.ui.conftest import PAGES

SWITCH = "language"


def _labels(at: AppTest) -> set[str]:
    kinds = ("text_input", "selectbox", "select_slider", "checkbox")
    return {w.label for kind in kinds for w in getattr(at.sidebar, kind)}


def _spanish(app, **params: str) -> AppTest:
    at = app()
    at.query_params.update({"lang": "es", **params})
    return at.run()


def test_lang_es_shows_the_sidebar_in_spanish(db, app):
    at = _spanish(app)
    assert not at.exception
    assert {"Tasa de aprendizaje", "Tamaño de lote", "Épocas", "Capas ocultas", "Semilla",
            "Función de activación", "Optimizador"} <= _labels(at)
    assert not {"Learning rate", "Batch size", "Epochs"} & _labels(at)
    assert at.sidebar.button(key="train_button").label == "Entrenar"
    assert "Ajustes" in [h.value for h in at.sidebar.header]
    assert at.sidebar.select_slider(key="cfg_lr").help.startswith("Tamaño del paso de cada actualización")
    assert at.sidebar.radio(key=SWITCH).value == "es"
    assert i18n.language() == "en"  # the session's language stayed in its own script thread


def test_english_by_default_and_the_browsers_language_on_first_visit(db, app):
    english = app().run()
    assert "Learning rate" in _labels(english) and english.sidebar.radio(key=SWITCH).value == "en"
    assert "lang" not in english.query_params  # the address bar of an English session is as before
    browser = app()
    browser.context["locale"] = "es-CR"
    browser.run()
    assert "Tasa de aprendizaje" in _labels(browser) and browser.query_params["lang"] == "es"
    linked = app()
    linked.context["locale"] = "es-CR"
    linked.query_params["lang"] = "en"
    assert "Learning rate" in _labels(linked.run())  # the link wins over the browser


def test_a_bad_setting_is_refused_in_spanish(db, app):
    at = _spanish(app, lr="abc")
    notices = [w.value for w in at.sidebar.warning]
    assert any("El valor de lr del enlace no se aplicó: lr debe ser un número" in n for n in notices), notices
    at.sidebar.text_input(key="cfg_epochs").set_value("0").run()
    at.sidebar.button(key="train_button").click().run()
    errors = [e.value for e in at.sidebar.error]
    assert errors == [r"No se puso en cola: Épocas debe ser un número entero de 1 a 1000 \(se recibió '0'\)"]


def test_switching_language_keeps_the_sidebar_settings(db, app):
    at = app().run()
    at.sidebar.text_input(key="cfg_hidden").set_value("64, 32")
    at.sidebar.text_input(key="cfg_epochs").set_value("3")
    at.sidebar.select_slider(key="cfg_lr").set_value(0.01)
    at.sidebar.selectbox(key="cfg_optimizer").set_value("sgd").run()
    at.sidebar.radio(key=SWITCH).set_value("es").run()
    assert not at.exception and "Tasa de aprendizaje" in _labels(at)
    values = (at.sidebar.text_input(key="cfg_hidden").value, at.sidebar.text_input(key="cfg_epochs").value,
              at.sidebar.select_slider(key="cfg_lr").value, at.sidebar.selectbox(key="cfg_optimizer").value)
    assert values == ("64, 32", "3", 0.01, "sgd")
    assert at.query_params["lang"] == "es" and at.query_params["hidden"] == "64, 32"
    at.switch_page(PAGES["Compare"]).run()
    assert at.sidebar.radio(key=SWITCH).value == "es"  # the choice persists for the session, on every page
    at.sidebar.radio(key=SWITCH).set_value("en").run()
    assert at.sidebar.radio(key=SWITCH).value == "en" and "lang" not in at.query_params
    assert at.query_params["hidden"] == "64, 32" and at.query_params["lr"] == "0.01"


def test_lock_lang_holds_the_language(db, app):
    at = _spanish(app, lock="lang")
    assert not at.exception and at.sidebar.radio(key=SWITCH).disabled
    assert at.query_params["lock"] == "lang" and at.query_params["lang"] == "es"
    assert "Este enlace bloquea u oculta algunos ajustes." not in [c.value for c in at.sidebar.caption]


def test_a_diagnosis_reads_in_spanish(db, app):
    store = RunStore(db)
    config = RunConfig(hidden=(8,), lr=5.0, optimizer="sgd", epochs=3)
    run_id = store.create_run(config, name="diverged")
    store.log_epoch(run_id, {"epoch": 1, "train_loss": 2.3, "test_loss": 2.3, "train_acc": 0.1, "test_acc": 0.098,
                             "majority_fraction": 1.0, "dead_fraction": 0.9, "elapsed": 1.0})
    store.set_status(run_id, "diverged", "the loss became nan in epoch 2")
    store.close()
    at = _spanish(app)
    at.session_state["watched"] = [run_id]
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Divergió: la pérdida se volvió NaN" in e and "Baja la **Tasa de aprendizaje** (5)" in e
               for e in errors), errors


def test_a_seed_verdict_reads_in_spanish(offline_db, store, app):
    ids = [store_finished_run(store, [0.90, 0.96 + s / 1000], [0.9] * 2, lr=0.1, seed=s) for s in (0, 1, 2)]
    ids += [store_finished_run(store, [0.80, 0.85 + s / 1000], [0.8] * 2, lr=0.01, seed=s) for s in (0, 1, 2)]
    at = _spanish(app)
    at.session_state["compare_ids"] = ids
    at.switch_page(PAGES["Compare"]).run()
    assert not at.exception
    verdicts = [m.value.replace("\\", "") for m in at.markdown if "una diferencia real" in m.value]  # unescaped
    assert len(verdicts) == 1, [m.value for m in at.markdown]
    assert "exactitud de validación en la última época de cada semilla" in verdicts[0]
    assert "puntos (t de Welch = " in verdicts[0] and "+11,00 puntos" in verdicts[0]
    caption = "\n".join(c.value for c in at.caption)
    assert "prueba t de Welch sobre exactitud de validación" in caption and "per config" not in caption
