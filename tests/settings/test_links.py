"""Shareable links: the query string from RunConfig's schema, read back exactly; bad parameters noticed.

Unit tests of experiments.settings.links, and AppTest of the dashboard opened with a link: its settings in
the sidebar, a locked control disabled, a hidden one absent, one notice per bad parameter."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.config import RunConfig
from experiments.settings.links import config_link, linked_settings, read_link

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGES = ("train", "compare")


def test_a_link_restores_every_setting_exactly():
    config = RunConfig(hidden=(256, 64), activation="sigmoid", optimizer="rmsprop", lr=0.00012345678, l2=3e-5,
                       epochs=7, batch_size=33, seed=4_000_000_000, dtype="float64", reduction="sum",
                       train_size=1234, dropout=0.3, schedule="cosine", early_stopping="val_loss", patience=3,
                       restore_best=False, init="small", val_size=5000, momentum=0.8123456789)
    params = config_link(config, "compare", locked=["lr"], hidden=["l2"])
    assert set(linked_settings()) <= set(params)
    state = read_link(params, PAGES)
    assert not state.notices
    assert RunConfig.from_dict(state.values) == config
    assert state.page == "compare" and state.locked == {"lr"} and state.hidden == {"l2"}


@pytest.mark.parametrize("raw", ["abc", "1e9", "nan", "-1", "０.1"])
def test_a_bad_learning_rate_is_one_notice_and_the_rest_applies(raw):
    state = read_link({"lr": raw, "epochs": "3", "optimizer": "sgd"}, PAGES)
    assert state.values == {"epochs": 3, "optimizer": "sgd"}
    assert len(state.notices) == 1 and "lr" in state.notices[0] and "\n" not in state.notices[0]


def test_unknown_parameters_flags_and_pages_are_noticed_and_ignored():
    state = read_link({"foo": "1", "lock": "lr,nope", "hide": "l2", "page": "admin", "epochs": "2"}, PAGES)
    assert state.values == {"epochs": 2}
    assert state.locked == {"lr"} and state.hidden == {"l2"} and state.page is None
    assert len(state.notices) == 3
    assert any("'foo'" in n for n in state.notices) and any("'nope'" in n for n in state.notices)


def test_settings_that_do_not_fit_together_are_not_applied():
    state = read_link({"batch_size": "500", "train_size": "100"}, PAGES)
    assert state.values == {} and len(state.notices) == 1


def test_a_long_pasted_value_is_quoted_short():
    state = read_link({"lr": "9" * 10_000}, PAGES)
    assert len(state.notices[0]) < 200


# ---------------------------------------------------------------------- the dashboard opened with a link
@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(path))
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    monkeypatch.setenv("MNIST_DIR", str(empty))
    return path


def open_link(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def widget(at: AppTest, label: str):
    for kind in ("text_input", "selectbox", "select_slider"):
        for element in getattr(at.sidebar, kind):
            if element.label == label:
                return element
    return None


def test_opening_a_link_sets_the_sidebar_and_locks_and_hides(db):
    at = open_link({"lr": "0.1", "optimizer": "sgd", "hidden": "32, 16", "epochs": "3", "lock": "lr,optimizer",
                    "hide": "l2"})
    assert not at.exception
    assert widget(at, "Learning rate").value == 0.1 and widget(at, "Learning rate").disabled
    assert widget(at, "Optimizer").value == "sgd" and widget(at, "Optimizer").disabled
    assert widget(at, "Hidden layers").value == "32, 16" and not widget(at, "Hidden layers").disabled
    assert widget(at, "Epochs").value == "3"
    assert widget(at, "L2") is None
    assert at.query_params["lr"] == "0.1" and set(at.query_params["lock"].split(",")) == {"lr", "optimizer"}


def test_a_bad_link_parameter_is_one_line_and_the_rest_applies(db):
    at = open_link({"lr": "abc", "epochs": "4", "colour": "red"})
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 2 and any("lr" in w for w in warnings) and any("colour" in w for w in warnings)
    assert widget(at, "Epochs").value == "4"
    assert widget(at, "Learning rate").value == RunConfig().lr


def test_changing_a_setting_updates_the_address_bar(db):
    at = open_link({})
    widget(at, "Epochs").set_value("12").run()
    assert at.query_params["epochs"] == "12" and at.query_params["page"] == "train"


def test_an_exercise_link_carries_its_id_and_refuses_a_bad_one():
    assert read_link({"exercise": "01_learning_rate"}, PAGES).exercise == "01_learning_rate"
    bad = read_link({"exercise": "<script>", "epochs": "2"}, PAGES)
    assert bad.exercise == "" and bad.values == {"epochs": 2} and len(bad.notices) == 1
    assert config_link(RunConfig(), "train", exercise="01_x")["exercise"] == "01_x"
