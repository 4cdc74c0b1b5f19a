"""The dashboard opened with a shareable link (AppTest): its settings in the sidebar, a locked control
disabled, a hidden one absent, one notice per bad parameter, and the address bar following the sidebar.
(The query string itself: tests/settings/test_links.py.)"""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig


def open_link(app, params: dict[str, str]) -> AppTest:
    at = app()
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def widget(at: AppTest, label: str):
    for kind in ("text_input", "selectbox", "select_slider"):
        for element in getattr(at.sidebar, kind):
            if element.label == label:
                return element
    return None


def test_opening_a_link_sets_the_sidebar_and_locks_and_hides(offline_db, app):
    at = open_link(app, {"lr": "0.1", "optimizer": "sgd", "hidden": "32, 16", "epochs": "3", "lock": "lr,optimizer",
                    "hide": "l2"})
    assert not at.exception
    assert widget(at, "Learning rate").value == 0.1 and widget(at, "Learning rate").disabled
    assert widget(at, "Optimizer").value == "sgd" and widget(at, "Optimizer").disabled
    assert widget(at, "Hidden layers").value == "32, 16" and not widget(at, "Hidden layers").disabled
    assert widget(at, "Epochs").value == "3"
    assert widget(at, "L2") is None
    assert at.query_params["lr"] == "0.1" and set(at.query_params["lock"].split(",")) == {"lr", "optimizer"}


def test_a_bad_link_parameter_is_one_line_and_the_rest_applies(offline_db, app):
    at = open_link(app, {"lr": "abc", "epochs": "4", "colour": "red"})
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 2 and any("lr" in w for w in warnings) and any("colour" in w for w in warnings)
    assert widget(at, "Epochs").value == "4"
    assert widget(at, "Learning rate").value == RunConfig().lr


def test_changing_a_setting_updates_the_address_bar(offline_db, app):
    at = open_link(app, {})
    widget(at, "Epochs").set_value("12").run()
    assert at.query_params["epochs"] == "12" and at.query_params["page"] == "train"


def test_settings_loaded_from_history_are_in_the_address_bar_and_copy_link_at_once(offline_db, app):
    """ "Load into sidebar" is a sidebar change like any other: the first run of Train after it writes the loaded
    settings into the address bar and the "Copy link" box (issue 23 item 2: they kept the old ones until the
    next rerun, and a reload lost the loaded settings)."""
    at = open_link(app, {})
    at.switch_page("ui/history_page.py").run()
    wanted = RunConfig(hidden=(24, 12), epochs=3, seed=5, lr=0.01)
    at.session_state["pending_config"] = wanted.to_dict()  # what History's button sets before switching to Train
    at.switch_page("ui/train_page.py").run()
    assert not at.exception
    assert widget(at, "Hidden layers").value == "24, 12"
    assert (at.query_params["hidden"], at.query_params["epochs"], at.query_params["seed"]) == ("24, 12", "3", "5")
    assert at.query_params["lr"] == "0.01"
    [link] = [c.value for c in at.sidebar.code]
    assert "hidden=24%2C+12" in link and "seed=5" in link, link
