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
    at.number_input(key="sw_epochs").set_value(1).run()
    at.number_input(key="sw_train").set_value(2000).run()
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
