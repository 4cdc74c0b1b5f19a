"""The "Find a learning rate" panel through AppTest: sweep for the sidebar's settings, see the curve, and put
the suggestion into the sidebar's lr key; bad settings get one line and no sweep."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.mnist


def panel_app() -> AppTest:
    def script() -> None:
        from ui.lr_finder_panel import lr_finder_panel
        lr_finder_panel()

    return AppTest.from_function(script, default_timeout=60)


def test_find_then_use_the_suggestion(mnist_db):
    at = panel_app()
    at.session_state["cfg_optimizer"] = "sgd"
    at.session_state["cfg_train_size"] = "3000"  # the sidebar holds numbers as typed text
    at.session_state["cfg_lr"] = 0.001
    at.run()
    assert not at.get("plotly_chart")  # nothing until asked
    at.button(key="lr_find_button").click().run()
    assert not at.exception, at.exception
    assert [c.key for c in at.get("plotly_chart")] == ["lr_find_chart"]
    report = at.session_state["lr_find_report"]
    assert report.config.optimizer == "sgd" and report.config.train_size == 3000
    choice = at.radio(key="lr_find_choice")
    assert len(choice.options) == 2
    at.button(key="lr_find_use").click().run()
    assert not at.exception
    assert at.session_state["cfg_lr"] == float(f"{report.minimum:.2g}") != 0.001  # the default choice
    at.radio(key="lr_find_choice").set_value("steepest descent").run()
    at.button(key="lr_find_use").click().run()
    assert at.session_state["cfg_lr"] == float(f"{report.steepest:.2g}")
    assert any("Learning rate set to" in s.value for s in at.success)
    at.session_state["cfg_hidden"] = "32"
    at.run()
    assert any("settings changed" in w.value for w in at.warning)  # the old sweep no longer holds


def test_invalid_settings_get_one_line_and_no_sweep(mnist_db):
    at = panel_app()
    at.session_state["cfg_hidden"] = "12, x"
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "hidden layer width" in at.error[0].value
    assert not at.button


def test_use_works_beside_the_real_sidebar(mnist_db):
    """The sidebar draws its Learning rate widget before the panel: the value must still change (it is set
    in a button callback, before the widget exists in the next run) and show in the widget."""
    def script() -> None:
        from ui.lr_finder_panel import lr_finder_panel
        from ui.sidebar import settings_form
        settings_form()
        lr_finder_panel()

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["cfg_train_size"] = "3000"  # the sidebar holds numbers as typed text
    at.run()
    at.button(key="lr_find_button").click().run()
    at.button(key="lr_find_use").click().run()
    assert not at.exception, at.exception
    report = at.session_state["lr_find_report"]
    assert at.sidebar.select_slider(key="cfg_lr").value == float(f"{report.minimum:.2g}")
