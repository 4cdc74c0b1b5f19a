"""The Train page, the class server's sign-in and the refusals they show, in Spanish (AppTest, ``?lang=es``).

Each check lists English words that must not be left on the Spanish page, and runs the same check on the
English page, where it must find them: so the check can fail, and fails as soon as a text is left unmarked.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from experiments import i18n
from experiments.access import Identity, NotAllowed, Role, require_change
from experiments.config import RunConfig
from experiments.runs.budget import over_budget
from experiments.runs.completion import RunEpochs, completion, run_epochs_text
from experiments.store import RunStore, StoreError
from experiments.store.classroom import ClassSettings
from experiments.store.records import clean_name, clean_tags
from nn.status import EARLY_STOPPED_RESTORED
from tests.ui.test_gate import class_server, classroom  # noqa: F401  (the class-server fixtures)

# English words of the Train page's own texts, the progress row, the diagnosis and its fix, the ended run's
# controls, the curves' note and the sign-in page (whole words, case-sensitive where a capital matters).
TRAIN_WORDS = ("Run", "run", "runs", "epoch", "epochs", "ended", "early", "stopping", "finished", "accuracy",
               "best", "lowest", "loss", "Try", "fix", "Continue", "More", "Train", "Clear", "view", "Thin",
               "lines", "Show", "training", "dynamics", "Find", "learning", "rate", "the", "and", "at", "its")
SIGN_IN_WORDS = ("Your", "gave", "code", "Sign", "in", "Teacher", "password", "teacher", "That", "opens",
                 "nothing", "next", "try", "possible", "the", "or")
# Where the Train page draws texts its own modules do not write: the learning-rate finder's panel (in the
# expander; ui/lr_finder_panel.py, translated apart) and the data folder's own refusal (nn/data.py).
NOT_THIS_PAGE = ("Buscar una tasa de aprendizaje", "Find a learning rate")
# The Teacher page's class panel (ui/roster_panel.py) and the sidebar's badge (ui/gate.py).
ROSTER_WORDS = ("Class", "roster", "students", "Students", "see", "runs", "Add", "make", "codes", "code",
                "starts", "name", "added", "state", "active", "Student", "New", "Revoke", "Signed", "Sign", "out",
                "the", "and", "their")
ROSTER_PANEL = ("Clase: la lista y lo que ven los estudiantes", "Class: roster and what students see")


SHOWN_VALUES = {"Title", "Header", "Subheader", "Caption", "Markdown", "Text", "Info", "Warning", "Error", "Success"}


def _texts(node: Any) -> Iterator[str]:
    """Every text an element of the tree shows (its label, help and placeholder; the value of a text element;
    a progress bar's text), skipping the expanders named in NOT_THIS_PAGE."""
    proto, kind = getattr(node, "proto", None), type(node).__name__
    if kind == "Expander" and node.label in NOT_THIS_PAGE:
        return
    for attr in ("label", "help", "placeholder", *(("value",) if kind in SHOWN_VALUES else ())):  # an Expander's too
        text = getattr(node, attr, None)
        if isinstance(text, str):
            yield text
    if kind == "Progress":
        yield proto.text
    if kind == "Block" and proto is not None and proto.HasField("popover"):
        yield proto.popover.label  # Continue's popover
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _texts(child)


def english_left(at: AppTest, words: tuple[str, ...]) -> set[str]:
    """The words of ``words`` the page still shows (the main area; the data folder's refusal aside)."""
    shown = "\n".join(t for t in _texts(at.main) if "MNIST" not in t)
    return {w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", shown)}


def _train(app, lang: str, run_id: int) -> AppTest:
    at = app()
    at.query_params.update({"lang": lang, "runs": str(run_id)})
    return at.run()


@pytest.fixture
def overfitted(offline_db, tiny_mnist, monkeypatch) -> int:
    """A run that ended at epoch 8 of 10 while its validation loss rose (an overfitting diagnosis, with a fix)."""
    monkeypatch.setenv("MNIST_DIR", str(tiny_mnist))
    store = RunStore(offline_db)
    run_id = store.create_run(RunConfig(hidden=(8,), epochs=10, lr=0.01), name="mine")
    for i in range(8):
        store.log_epoch(run_id, {"epoch": i + 1, "train_loss": 0.3 / (i + 1), "train_acc": 0.9 + 0.01 * i,
                                 "val_loss": 0.3 + 0.1 * i, "val_acc": 0.95 - 0.01 * i, "test_loss": 0.3,
                                 "test_acc": 0.9, "elapsed": float(i + 1)})
    store.set_status(run_id, "finished", EARLY_STOPPED_RESTORED.format(  # as early stopping words it (nn/status.py)
        epoch=8, monitor="val_loss", min_delta="0", patience=7, best="0.3", best_epoch=1))
    store.close_all()
    return run_id


def test_the_train_page_with_an_ended_run_and_its_diagnosis_reads_in_spanish(overfitted, app):
    at = _train(app, "es", overfitted)
    assert not at.exception
    assert at.title[0].value == "Entrenar"
    # the navigation's page titles (AppTest keeps the pages st.navigation registered, by their titles)
    titles = {page.get("page_name") for page in at._registered_pages.values()}
    assert {"Entrenar", "Comparar", "Historial", "Ejercicios", "Informe", "Inspeccionar", "Barrido", "Hallazgos",
            "Docente"} <= titles, titles
    [bar] = at.get("progress")
    assert "terminó en la época 8 de 10 (parada temprana)" in bar.proto.text, bar.proto.text
    assert "terminada, exactitud de val. 95,00" in bar.proto.text
    assert [b.label for b in at.button if b.key and b.key.startswith("fix_")] == ["Probar este arreglo"]
    assert any(w.value.startswith(f"Ejecución {overfitted} ") for w in at.warning)
    # its end message, stored in English, in Spanish with the same numbers
    assert f"Ejecución {overfitted}: parada temprana después de la época 8: val_loss no ha mejorado más de 0 " \
           "durante 7 época(s); mejor val_loss: 0.3 en la época 1; se restauraron los pesos de la época 1" in \
           [c.value.replace("\\", "") for c in at.caption], [c.value for c in at.caption]
    assert not english_left(at, TRAIN_WORDS), english_left(at, TRAIN_WORDS)
    english = _train(app, "en", overfitted)
    assert len(english_left(english, TRAIN_WORDS)) > 20  # the check finds the English page's words


def test_a_tab_watching_nothing_says_so_in_spanish(overfitted, app):
    at = app()
    at.query_params["lang"] = "es"
    at.run()
    assert any("La ejecución guardada está en **Historial** y **Comparar**" in i.value for i in at.info)
    assert not english_left(at, TRAIN_WORDS), english_left(at, TRAIN_WORDS)


def _sign_in_page(app, lang: str) -> AppTest:
    at = app()
    at.query_params["lang"] = lang
    at.run()
    at.text_input(key="sign_in_code_box").input("7-wrongwrongwrong")
    at.button(key="sign_in_code_send").click()
    return at.run()


def test_the_class_servers_sign_in_reads_in_spanish(classroom, app):  # noqa: F811
    at = _sign_in_page(app, "es")
    assert at.text_input(key="sign_in_code_box").label == "Tu código personal"
    assert at.button(key="sign_in_code_send").label == "Entrar"
    assert at.button(key="sign_in_teacher_send").label == "Entrar como docente"
    assert [e.value for e in at.error] and at.error[0].value.startswith("Ese código no abre nada")
    assert not english_left(at, SIGN_IN_WORDS), english_left(at, SIGN_IN_WORDS)
    assert len(english_left(_sign_in_page(app, "en"), SIGN_IN_WORDS)) > 8


def _roster_panel(app, lang: str) -> tuple[AppTest, str]:
    """The teacher, signed in with the password, on the Teacher page: the texts of the class panel and the
    sidebar's badge."""
    at = app()
    at.query_params["lang"] = lang
    at.run()
    at.text_input(key="sign_in_teacher_box").input("staff only")
    at.button(key="sign_in_teacher_send").click()
    at.run().switch_page("ui/teacher_page.py").run()
    [panel] = [e for e in at.expander if e.label in ROSTER_PANEL]
    shown = [panel.label, *_texts(panel), *(b.label for b in at.sidebar.button if b.key == "sign_out"),
             *(c.value for c in at.sidebar.caption if c.value.startswith(("Signed", "Sesión")))]
    return at, "\n".join(shown)


def _words_in(text: str, words: tuple[str, ...]) -> set[str]:
    return {w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)}


def test_the_teachers_class_panel_reads_in_spanish(classroom, app):  # noqa: F811
    at, shown = _roster_panel(app, "es")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["el código empieza", "nombre", "añadido", "estado"]
    assert set(table["estado"]) == {"activo"} and "Ann" in list(table["nombre"])
    assert not _words_in(shown, ROSTER_WORDS), _words_in(shown, ROSTER_WORDS)
    assert len(_words_in(_roster_panel(app, "en")[1], ROSTER_WORDS)) > 15


def test_a_class_server_without_a_teacher_password_refuses_in_spanish(class_server, app):  # noqa: F811
    at = app()
    at.query_params["lang"] = "es"
    at.run()
    assert len(at.error) == 1 and "no hay contraseña de docente" in at.error[0].value, at.error


def test_the_refusals_and_progress_words_pages_show_read_in_spanish():
    with i18n.using("es"):
        with pytest.raises(NotAllowed, match="la ejecución 3 es de Bob: solo esa persona o el docente pueden "
                                             "detenerla"):
            require_change(Identity("Ann", Role.STUDENT), 3, "Bob", "stop")
        with pytest.raises(StoreError, match="demasiado texto en el nombre de la ejecución"):
            clean_name("x" * 201)
        with pytest.raises(StoreError, match="como máximo 20 etiquetas por ejecución"):
            clean_tags([f"t{i}" for i in range(21)])
        assert over_budget(RunConfig(hidden=(128,)), ClassSettings(max_parameters=1000)).startswith(
            "esta red tiene 101.770 pesos y sesgos")
        assert run_epochs_text(9, 40, "stopped") == "terminó en la época 9 de 40 (detenida)"
        reach = completion([RunEpochs(3, 5, False), RunEpochs(5, 5, False)])
        assert reach.epochs_text() == "8 de 8 épocas (2 épocas previstas no hicieron falta: 1 ejecución terminó antes)"
    with pytest.raises(NotAllowed, match="run 3 belongs to Bob: only they or the teacher may stop it"):
        require_change(Identity("Ann", Role.STUDENT), 3, "Bob", "stop")  # and English outside

