"""The Sweep page through AppTest: it renders, refuses a bad grid, starts a tiny sweep and shows its trials."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from experiments.runs.store import RunStore

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGE = "ui/sweep_page.py"


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("RESULTS_DB", str(path))
    return path


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("title", "error", "caption", "markdown") for e in getattr(at, kind))


def test_the_page_renders_and_refuses_a_bad_grid(db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "Sweep" in texts(at) and "8 trials" in texts(at)  # 2 lr x 2 batch x 2 widths x adam
    at.text_input(key="sw_lr").set_value("0.01, 50").run()
    assert "lr must be" in texts(at) and "Fix the settings" in texts(at)


@pytest.mark.mnist
def test_start_trains_a_tiny_grid_into_the_store(db, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(PAGE).run()
    at.text_input(key="sw_lr").set_value("0.01").run()
    at.text_input(key="sw_batch").set_value("64").run()
    at.text_input(key="sw_hidden").set_value("16; 8").run()
    at.text_input(key="sw_epochs").set_value("1").run()
    at.text_input(key="sw_train").set_value("2000").run()
    at.button(key="sw_start").click().run()
    assert not at.exception
    store = RunStore(db)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(r.status in ("queued", "running") for r in store.search_runs()):
        time.sleep(0.2)
    runs = store.search_runs(tag="sweep")
    assert len(runs) == 2 and {r.status for r in runs} == {"finished"}
    at.run()
    assert "2 of 2 epochs" in texts(at) or any("2 of 2 epochs" in str(p.proto) for p in at.get("progress"))


GRID_REFUSED = [  # (widget key, typed text, expected words): refused in one line, never silently changed
    ("sw_hidden", ";;", "give at least one value"),
    ("sw_hidden", "64;", "entry 2"),
    ("sw_hidden", "64;;128", "entry 2"),
    ("sw_hidden", "1e2", "hidden layer width must be"),
    ("sw_hidden", "\uff11\uff12\uff18", "hidden layer width must be"),
    ("sw_lr", "0.01,,0.1", "entry 2"),
    ("sw_batch", "", "give at least one value"),
    ("sw_epochs", "-5", "epochs must be a whole number from 1 to"),
    ("sw_epochs", "99999999", "epochs must be"),
    ("sw_train", "1000000", "train_size must be"),
    ("sw_hidden", "9" * 5083, "5083 characters"),
]


@pytest.mark.parametrize("key,text,words", GRID_REFUSED, ids=[f"{k}={t[:12]!r}" for k, t, _ in GRID_REFUSED])
def test_a_bad_grid_entry_is_refused_in_one_line_and_nothing_starts(db, key, text, words):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(PAGE).run()
    at.text_input(key=key).set_value(text).run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert words in error and "\n" not in error and len(error) < 300, error
    assert "Fix the settings" in texts(at) and at.button(key="sw_start").disabled
    assert at.text_input(key=key).value == text  # the box keeps what was typed
    assert RunStore(db).count_runs() == 0


def test_the_grid_offers_the_configs_optimizers_and_refuses_none(db):
    from experiments.config import setting_of
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(PAGE).run()
    assert list(at.multiselect(key="sw_opt").options) == list(setting_of("optimizer").choices)
    at.multiselect(key="sw_opt").set_value([]).run()
    assert any("at least one optimizer" in e.value for e in at.error) and at.button(key="sw_start").disabled
    at.text_input(key="sw_hidden").set_value("none; 16").run()
    at.multiselect(key="sw_opt").set_value(["sgd", "adam"]).run()
    assert not at.error and "16 trials" in texts(at)  # 2 lr x 2 batch x 2 architectures x 2 optimizers


def test_the_tpe_tab_offers_budget_and_pruner_and_refuses_a_budget_below_startup(db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(PAGE).run()
    assert list(at.selectbox(key="tp_pruner").options) == ["median", "hyperband", "none"]
    at.radio(key="sw_source").set_value("TPE").run()
    assert "TPE: up to 24 trials" in texts(at) and not at.button(key="sw_start").disabled
    at.number_input(key="tp_trials").set_value(4).run()
    [error] = [e.value for e in at.error]
    assert "tpe.trials \\(4\\) is below tpe.startup_trials \\(8\\)" in error and at.button(key="sw_start").disabled
    assert RunStore(db).count_runs() == 0


@pytest.mark.mnist
def test_start_runs_a_tpe_sweep_from_the_page(db, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", mnist_dir)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(PAGE).run()
    at.radio(key="sw_source").set_value("TPE").run()
    for key, value in (("tp_hidden", "16"), ("tp_epochs", "2"), ("tp_train", "2000")):
        at.text_input(key=key).set_value(value).run()
    at.number_input(key="tp_trials").set_value(4).run()
    at.number_input(key="tp_startup").set_value(2).run()
    at.button(key="sw_start").click().run()
    assert not at.exception and not at.error
    store = RunStore(db)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(store.search_runs(tag="tpe")) < 4
                                           or any(r.status in ("queued", "running") for r in store.search_runs())):
        time.sleep(0.2)
    runs = store.search_runs(tag="tpe")
    assert len(runs) == 4 and {r.status for r in runs} <= {"finished", "pruned"}
