"""The Train page's sidebar through AppTest: generated from RunConfig's schema, Train on top, one queue per
click, the run name cleared after queuing, and nothing queued while the data source has failed."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.cli.common import add_config_arguments, config_from_args
from experiments.config import RunConfig, schema
from experiments.store import RunStore
from nn import DataError

QUICK = {"cfg_hidden": "4", "cfg_epochs": "1", "cfg_batch_size": "8"}  # trains in milliseconds on tiny MNIST


@pytest.fixture
def db(db, monkeypatch, tiny_mnist) -> Path:
    """The app's store, with a tiny MNIST that trains in milliseconds."""
    monkeypatch.setenv("MNIST_DIR", str(tiny_mnist))
    return db


def _app(app, values: dict[str, str] | None = None) -> AppTest:
    at = app().run()
    for key, value in (values or {}).items():
        at.sidebar.text_input(key=key).set_value(value)
    return at


def _train(at: AppTest) -> AppTest:
    return at.sidebar.button(key="train_button").click().run()


def _runs(db: Path) -> list:
    store = RunStore(db)
    try:
        return store.search_runs()
    finally:
        store.close()


def _manager(db: Path):
    from ui.common import _resources
    return _resources(str(db))[1]


def test_every_sidebar_setting_has_its_widget_and_key(app):
    """The sidebar, CONFIG_KEYS and the CLI are generated from the schema: each setting appears in each."""
    from ui.common import CONFIG_KEYS, config_key
    at = app().run()
    kinds = ("text_input", "selectbox", "select_slider", "checkbox")
    keys = {w.key for kind in kinds for w in getattr(at.sidebar, kind)}
    shown = [e for e in schema() if e.setting.in_sidebar]
    assert len(shown) >= 11
    assert {config_key(e.name) for e in shown} | {"cfg_name"} == keys == set(CONFIG_KEYS)
    labels = {w.label for kind in kinds for w in getattr(at.sidebar, kind)}
    assert {e.setting.label for e in shown} <= labels
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    assert {a.dest for a in parser._actions} - {"help"} == {e.name for e in schema()}


def test_cli_flags_parse_into_the_same_config_as_the_schema():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    assert config_from_args(parser.parse_args([])) == RunConfig()
    args = parser.parse_args(["--hidden", "32,16", "--lr", "0.1", "--batch-size", "32", "--train-size", "640"])
    assert config_from_args(args) == RunConfig(hidden=(32, 16), lr=0.1, batch_size=32, train_size=640)


def test_a_loaded_config_is_what_train_queues(db, app):
    """The "load into sidebar" mapping and the sidebar's parse are inverse: every sidebar setting round-trips."""
    wanted = RunConfig(hidden=(6, 5), activation="tanh", optimizer="sgd", lr=0.05, l2=3e-4, epochs=1,
                       batch_size=5, seed=11, dtype="float64", reduction="sum", train_size=20)
    at = app()
    at.session_state["pending_config"] = wanted.to_dict()
    at.run()
    _train(at)
    assert not at.exception and not at.sidebar.error
    [run] = _runs(db)
    assert run.config == wanted
    _manager(db).wait(timeout=60)


def _in_order(node) -> list:
    """The sidebar's elements in drawing order (a container's content where the container is)."""
    found = [node]
    for child in getattr(node, "children", {}).values():
        found += _in_order(child)
    return found


def test_train_is_the_first_thing_in_the_sidebar_and_its_error_is_under_it(db, app):
    """At 1280 x 720 the settings fill the sidebar: Train and its message come first, above them."""
    at = _train(_app(app, {"cfg_epochs": "-5"}))
    order = [n.type if n.type != "error" else "Not queued" * ("Not queued" in n.value) for n in _in_order(at.sidebar)]
    shown = [kind for kind in order if kind in ("button", "Not queued", "header", "text_input")]
    assert shown[:3] == ["button", "Not queued", "header"], order
    assert at.sidebar.text_input(key="cfg_epochs").value == "-5" and _runs(db) == []


def test_a_double_click_queues_one_run_and_says_so(db, app):
    at = _train(_app(app, QUICK))
    assert len(_runs(db)) == 1
    _train(at)  # the same settings again within the click window: ignored, with a toast
    assert not at.exception and len(_runs(db)) == 1
    assert any("Already queued" in t.value for t in at.toast)
    _manager(db).wait(timeout=60)


def test_the_run_name_is_cleared_after_queuing(db, app):
    at = _app(app, {**QUICK, "cfg_name": "first try"})
    _train(at)
    assert at.session_state["cfg_name"] == "" and at.sidebar.text_input(key="cfg_name").value == ""
    at.sidebar.text_input(key="cfg_seed").set_value("1")
    _train(at)
    names = [r.name for r in sorted(_runs(db), key=lambda r: r.id)]
    assert names[0] == "first try" and names[1] != "first try", names
    _manager(db).wait(timeout=60)


def test_train_refuses_while_the_data_source_has_failed(db, app):
    from ui.common import _resources
    at = _app(app, QUICK)
    source = _resources(str(db))[2]
    source.prepare = lambda: None  # the page would start loading again; here the source stays failed
    if source._thread is not None:  # the first render started loading: let it end before we fail the source
        source._thread.join(60)
    source._set(state="failed", failure=DataError("could not download train-images-idx3-ubyte.gz (offline?)"))
    _train(at)
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and "Not queued" in errors[0] and "not available" in errors[0] and "\n" not in errors[0]
    assert _runs(db) == []
